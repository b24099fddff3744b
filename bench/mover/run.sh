#!/usr/bin/env bash
# Benchmark of the Ferry data mover against rsync over stunnel (MTC's
# method) and plain cp -a, on the same data over loopback, and of the
# mover's local copy (`ferry mover local`, both sides in one process, as
# the local data path runs it) against cp -a. Run as root from anywhere in
# the repository:
#
#   bench/mover/run.sh > results.md      # progress on stderr, Markdown on stdout
#
# Cases: (a) 2 GiB in 4 large files, (b) 100,000 small files, (c) re-sync
# of (a) and (b) with nothing changed, (d) re-sync after 1% of one large
# file changed, (s) a sparse file of 100 GiB holding 3 MiB of data (fresh,
# re-synced after 1 MiB changed, re-synced with --verify; Ferry only:
# rsync reads the whole apparent size), (r) re-sync after renames: a
# 512 MiB file renamed into another directory and four 16 MiB WAL-like
# segments renamed (recycled) per round, contents unchanged, then (r-dir)
# the directory holding the 512 MiB file renamed; then 1,000,000 tiny files for
# memory, and (a) and (b) once more on disk. Rounds are interleaved (the tool order rotates) and every
# sync is checked against its source. See docs/benchmarks.md, "Data mover".
# A full run takes 12-14 minutes on 2 vCPUs and needs about 13 GiB of free
# memory (the tmpfs) and 31 GiB of free disk under /var/tmp.
#
# Knobs (environment): TOOLS ("ferry local rsync cp": the tools of a full
# round; the incremental cases run them but cp), ROUNDS (7), DISK_ROUNDS (3), MILLION (1: run the
# 1,000,000-file case), MILLION_RSYNC (1: rsync it too), DISK (1: run the
# disk case), QUICK (1: tiny data sets, to check the harness itself),
# SETS ("a b": the data sets to run; "b" alone skips (a), (c) of (a) and (d);
# empty runs neither), SPARSE (1: run case (s)), SPARSE_SIZE (100G),
# SPARSE_DATA (3M), RENAME (1: run case (r)), FUZZY (1: in (r), rsync
# once more with --fuzzy --delete-delay, its rename-friendly flags),
# WARMUP (1: one untimed run of every tool on every set first),
# MNT (/mnt/ferry-bench), DISKDIR (/var/tmp/ferry-bench-disk), TMPFS_SIZE (14g),
# RESULTS_TSV (a file to keep the raw measurements in; by default they are
# only logged on stderr), BASELINE (a git revision: its ferry runs as one
# more tool, "base", in every round beside this tree's, so that a change
# is measured against what it changes in the same run; the report adds a
# no-regression verdict).
#
# Case (s) alone, in a few seconds (and RENAME=0 SPARSE=1 for only it):
#
#   SETS= MILLION=0 DISK=0 RENAME=0 ROUNDS=1 bench/mover/run.sh
#
# Case (r) alone, in about a minute:
#
#   SETS= MILLION=0 DISK=0 SPARSE=0 ROUNDS=5 bench/mover/run.sh
set -euo pipefail
export LC_ALL=C

TOOLS=${TOOLS:-ferry local rsync cp}
ROUNDS=${ROUNDS:-7}
DISK_ROUNDS=${DISK_ROUNDS:-3}
MILLION=${MILLION:-1}
MILLION_RSYNC=${MILLION_RSYNC:-1}
DISK=${DISK:-1}
QUICK=${QUICK:-0}
SETS=${SETS-a b}
SPARSE=${SPARSE:-1}
SPARSE_SIZE=${SPARSE_SIZE:-100G}
SPARSE_DATA=${SPARSE_DATA:-3M}
RENAME=${RENAME:-1}
FUZZY=${FUZZY:-1}
WARMUP=${WARMUP:-1}
MNT=${MNT:-/mnt/ferry-bench}
DISKDIR=${DISKDIR:-/var/tmp/ferry-bench-disk}
TMPFS_SIZE=${TMPFS_SIZE:-14g}
BASELINE=${BASELINE:-}

# Data sets: LARGE_N files of LARGE_SIZE; SMALL_N files of 1-8 KiB in 343
# directories; TINY_DIRS x TINY_PER files of 100 bytes.
LARGE_N=4 LARGE_SIZE=512M SMALL_N=100000 TINY_DIRS=1000 TINY_PER=1000
if [[ $QUICK == 1 ]]; then
	LARGE_N=2 LARGE_SIZE=64M SMALL_N=3000 TINY_DIRS=20 TINY_PER=100
fi
CHANGE_FILE=large-01.bin # the file (d) changes, 1% of it in 1 MiB chunks
SYNC_TIMEOUT=900         # seconds; a sync that takes longer is reported as a hang

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TF='%e %U %S %M' # /usr/bin/time: wall, user, sys, peak RSS (KiB)
RSYNC_FLAGS=(-a --delete --hard-links --partial
	--info=COPY2,DEL2,REMOVE2,SKIP2,FLIST2,PROGRESS2,STATS2 --human-readable)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}

# ---- clean-up: every background process and mount this script made ----

PIDS=() # /usr/bin/time processes wrapping our servers, still running
MOUNTED="" MADE_MNT="" MADE_DISKDIR="" SCRATCH=""

kill_tree() {
	local pid=$1 c
	for c in $(pgrep -P "$pid" 2>/dev/null); do kill_tree "$c"; done
	kill -TERM "$pid" 2>/dev/null || true
}

forget() {
	local i
	for i in "${!PIDS[@]}"; do
		if [[ ${PIDS[$i]} == "$1" ]]; then unset 'PIDS[i]'; fi
	done
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill_tree "$pid"; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [[ -n $MOUNTED ]]; then
		umount "$MNT" 2>/dev/null || { sleep 1 && umount "$MNT"; } || umount -l "$MNT"
	fi
	[[ -n $MADE_MNT ]] && rmdir "$MNT" 2>/dev/null
	[[ -n $MADE_DISKDIR ]] && rm -rf "$DISKDIR"
	[[ -n $SCRATCH ]] && rm -rf "$SCRATCH"
	if ((rc != 0)); then log "exit status $rc; processes, mounts and data removed"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# ---- set-up ----

[[ $(id -u) == 0 ]] || die "run as root: the benchmark mounts a tmpfs and runs an rsync daemon as root"
missing=()
for c in rsync:rsync stunnel4:stunnel4 openssl:openssl /usr/bin/time:time pgrep:procps ss:iproute2 timeout:coreutils; do
	command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
done
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

SCRATCH=$(mktemp -d /tmp/ferry-mover-bench.XXXXXX)
RESULTS=$SCRATCH/results.tsv
: >"$RESULTS"
log "building bin/ferry and the benchmark helper"
(cd "$REPO" && go build -o bin/ferry ./cmd/ferry && go build -o "$SCRATCH/benchtool" ./bench/mover/benchtool)
# A private copy: others may rebuild bin/ferry while this runs.
cp "$REPO/bin/ferry" "$SCRATCH/ferry"
REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(cd "$REPO" && git status --porcelain -- internal/mover internal/cli/mover.go cmd/ferry 2>/dev/null) ]]; then
	REV="$REV + uncommitted mover changes"
fi
FERRY=$SCRATCH/ferry BT=$SCRATCH/benchtool
# The tools of a full round and of an incremental one (cp -a has no
# incremental mode); the baseline, when there is one, runs after ferry.
read -r -a FULL_TOOLS <<<"$TOOLS"
for t in "${FULL_TOOLS[@]}"; do
	[[ " ferry local rsync cp " == *" $t "* ]] || die "unknown tool $t in TOOLS: use ferry, local, rsync, cp"
done
BASE_FERRY="" BASE_REV=""
if [[ -n $BASELINE ]]; then
	BASE_REV=$(cd "$REPO" && git rev-parse --short "$BASELINE^{commit}") || die "BASELINE $BASELINE is no revision"
	log "building the baseline ferry from $BASE_REV"
	git -C "$REPO" worktree add -q --detach "$SCRATCH/base-src" "$BASE_REV" >&2
	(cd "$SCRATCH/base-src" && go build -o "$SCRATCH/ferry-base" ./cmd/ferry) || die "building the baseline failed"
	git -C "$REPO" worktree remove --force "$SCRATCH/base-src"
	BASE_FERRY=$SCRATCH/ferry-base
	with_base=()
	for t in "${FULL_TOOLS[@]}"; do
		with_base+=("$t")
		if [[ $t == ferry ]]; then with_base+=(base); fi
	done
	FULL_TOOLS=("${with_base[@]}")
fi
INC_TOOLS=()
for t in "${FULL_TOOLS[@]}"; do
	if [[ $t != cp ]]; then INC_TOOLS+=("$t"); fi
done
has_tool() { [[ " ${FULL_TOOLS[*]} " == *" $1 "* ]]; }

pick_port() {
	local p
	for ((p = $1; p < $1 + 500; p++)); do
		if ! ss -Hltn "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
	die "no free port from $1"
}
FPORT=$(pick_port 47310)                 # ferry mover serve
P1=$(pick_port $((FPORT + 1)))           # stunnel server
P2=$(pick_port $((P1 + 1)))              # rsync daemon
P3=$(pick_port $((P2 + 1)))              # stunnel client
PPORT=$(pick_port $((P3 + 1)))           # byte-counting proxy

CERTS=$SCRATCH/certs
"$FERRY" mover certs --out "$CERTS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-keyout "$SCRATCH/stunnel.key" -out "$SCRATCH/stunnel.crt" 2>/dev/null
cat >"$SCRATCH/stunnel-server.conf" <<EOF
foreground = yes
pid =
debug = warning
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[rsync]
accept = 127.0.0.1:$P1
connect = 127.0.0.1:$P2
cert = $SCRATCH/stunnel.crt
key = $SCRATCH/stunnel.key
EOF

if [[ $QUICK != 1 && ( -n ${SETS// /} || $MILLION == 1 ) ]]; then
	avail=$(awk '/MemAvailable/ { printf "%d", $2 / 1048576 }' /proc/meminfo)
	((avail >= 13)) || die "the tmpfs cases need about 13 GiB of free memory, $avail GiB are available"
fi
if mountpoint -q "$MNT"; then die "$MNT is already a mount point; set MNT to another directory"; fi
if [[ ! -d $MNT ]]; then mkdir -p "$MNT" && MADE_MNT=1; fi
mount -t tmpfs -o size="$TMPFS_SIZE",mode=0755 tmpfs "$MNT"
MOUNTED=1

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$EPOCHREALTIME

# ---- helpers ----

# start_bg NAME CMD...: start CMD under /usr/bin/time in the background;
# its pid (that of time) is left in BGPID.
start_bg() {
	local name=$1
	shift
	/usr/bin/time -f "$TF" -o "$SCRATCH/$name.time" "$@" >"$SCRATCH/$name.log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
}

# stop_bg PID: SIGTERM the program under time, wait for it.
stop_bg() {
	local c
	for c in $(pgrep -P "$1"); do kill -TERM "$c"; done
	wait "$1" || true
	forget "$1"
}

# wait_exit PID WHAT: wait up to 60 s for a background process to end by
# itself; fail on a non-zero status or a hang.
wait_exit() {
	local i
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			if ! wait "$1"; then
				forget "$1"
				die "$2 exited with an error"
			fi
			forget "$1"
			return
		fi
		sleep 0.1
	done
	die "$2 did not exit within 60 s after the sync ended (hang)"
}

wait_port() {
	local p i
	for p in "$@"; do
		for ((i = 0; i < 200; i++)); do
			if ss -Hltn "sport = :$p" | grep -q .; then continue 2; fi
			sleep 0.05
		done
		die "nothing listens on port $p after 10 s"
	done
}

# lastline FILE: the last line of a /usr/bin/time output: wall user sys rss.
lastline() { tail -n1 "$1"; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# R_* hold the result of the last run_* call.
R_WALL="" R_CPUS="" R_CPUR="" R_RSSS="" R_RSSR="" R_BS="" R_BR=""

# run_ferry SRC DST [PORT]: one sync with the Ferry mover; PORT is where
# the sender connects (the receiver's port unless a proxy is in between).
run_ferry() {
	local src=$1 dst=$2 port=${3:-$FPORT} spid e u s m
	mkdir -p "$dst"
	start_bg ferry-serve "$FERRY" mover serve --listen "127.0.0.1:$FPORT" --root "$dst" --tls-dir "$CERTS" --once
	spid=$BGPID
	wait_port "$FPORT"
	local t0=$EPOCHREALTIME
	if ! timeout "$SYNC_TIMEOUT" /usr/bin/time -f "$TF" -o "$SCRATCH/ferry-sync.time" "$FERRY" mover sync \
		--to "127.0.0.1:$port" --root "$src" --tls-dir "$CERTS" --delete ${FERRY_VERIFY:+--verify} --progress=json \
		>"$SCRATCH/ferry-sync.out" 2>"$SCRATCH/ferry-sync.err"; then
		tail -n 5 "$SCRATCH/ferry-sync.err" "$SCRATCH/ferry-serve.log" "$SCRATCH/ferry-sync.out" >&2
		die "ferry mover sync $src -> $dst failed or hung (exit status above)"
	fi
	sync -f "$dst"
	R_WALL=$(since "$t0")
	wait_exit "$spid" "ferry mover serve --once"
	grep -q '"phase":"done"' <(tail -n1 "$SCRATCH/ferry-sync.out") || die "ferry: last progress line is not phase done"
	read -r e u s m < <(lastline "$SCRATCH/ferry-sync.time")
	R_CPUS=$(add "$u" "$s") R_RSSS=$m
	read -r e u s m < <(lastline "$SCRATCH/ferry-serve.time")
	R_CPUR=$(add "$u" "$s") R_RSSR=$m
	R_BS=$(tail -n1 "$SCRATCH/ferry-sync.out" | grep -o '"bytesSent":[0-9]*' | cut -d: -f2)
	R_BR=-
}

# rsync_bytes LABEL: "Total bytes LABEL" of rsync --stats, in bytes
# (--human-readable prints units of 1000: 5.45M).
rsync_bytes() {
	grep -a "Total bytes $1:" "$SCRATCH/rsync.out" | tail -n1 | awk '{
		v = $4; gsub(",", "", v); m = 1
		if (v ~ /K$/) m = 1e3; else if (v ~ /M$/) m = 1e6; else if (v ~ /G$/) m = 1e9; else if (v ~ /T$/) m = 1e12
		sub(/[KMGT]$/, "", v); printf "%.0f", v * m }'
}

# run_base SRC DST [PORT]: run_ferry with the baseline's binary.
run_base() {
	local FERRY=$BASE_FERRY
	run_ferry "$@"
}

# run_rsync SRC DST [PORT]: one sync with rsync through stunnel; a fresh
# rsync daemon, stunnel server and stunnel client per run, so that their
# CPU time and peak RSS belong to this run. PORT is where the stunnel
# client connects (the stunnel server unless a proxy is in between).
run_rsync() {
	local src=$1 dst=$2 port=${3:-$P1} dpid spid cpid rpid i e u s m
	mkdir -p "$dst"
	cat >"$SCRATCH/rsyncd.conf" <<EOF
log file = $SCRATCH/rsyncd-file.log
use chroot = no
[bench]
path = $dst
read only = no
uid = root
gid = root
use chroot = no
EOF
	cat >"$SCRATCH/stunnel-client.conf" <<EOF
foreground = yes
pid =
debug = warning
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[rsync]
client = yes
accept = 127.0.0.1:$P3
connect = 127.0.0.1:$port
EOF
	start_bg rsyncd rsync --daemon --no-detach --config="$SCRATCH/rsyncd.conf" --address=127.0.0.1 --port="$P2"
	dpid=$BGPID
	start_bg stunnel-server stunnel4 "$SCRATCH/stunnel-server.conf"
	spid=$BGPID
	start_bg stunnel-client stunnel4 "$SCRATCH/stunnel-client.conf"
	cpid=$BGPID
	wait_port "$P2" "$P1" "$P3"
	local t0=$EPOCHREALTIME
	if ! timeout "$SYNC_TIMEOUT" /usr/bin/time -f "$TF" -o "$SCRATCH/rsync.time" rsync "${RSYNC_FLAGS[@]}" \
		"$src/" "rsync://root@127.0.0.1:$P3/bench/" >"$SCRATCH/rsync.out" 2>"$SCRATCH/rsync.err"; then
		tail -n 5 "$SCRATCH/rsync.err" "$SCRATCH/rsyncd-file.log" >&2
		die "rsync $src -> $dst failed or hung"
	fi
	sync -f "$dst"
	R_WALL=$(since "$t0")
	# The daemon's generator and receiver must be reaped before the daemon
	# stops, so that their rusage is part of the daemon's.
	rpid=$(pgrep -P "$dpid" || true)
	for ((i = 0; i < 600; i++)); do
		[[ -n $rpid ]] && pgrep -P "$rpid" >/dev/null || break
		sleep 0.05
	done
	stop_bg "$cpid"
	stop_bg "$spid"
	stop_bg "$dpid"
	local cpus cpur rsss rssr
	read -r e u s m < <(lastline "$SCRATCH/rsync.time")
	cpus=$(add "$u" "$s") rsss=$m
	read -r e u s m < <(lastline "$SCRATCH/stunnel-client.time")
	cpus=$(add "$cpus" "$(add "$u" "$s")") rsss=$((rsss + m))
	read -r e u s m < <(lastline "$SCRATCH/rsyncd.time")
	cpur=$(add "$u" "$s") rssr=$m
	read -r e u s m < <(lastline "$SCRATCH/stunnel-server.time")
	cpur=$(add "$cpur" "$(add "$u" "$s")") rssr=$((rssr + m))
	R_CPUS=$cpus R_CPUR=$cpur R_RSSS=$rsss R_RSSR=$rssr
	R_BS=$(rsync_bytes sent) R_BR=$(rsync_bytes received)
}

# run_fuzzy SRC DST [PORT]: run_rsync with --fuzzy (a file of the same
# size and mtime, or a similar name, in the destination directory is the
# basis of a new file) and --delete-delay (deletions after the transfer,
# so that a renamed file's old name is still there as a basis).
run_fuzzy() {
	local RSYNC_FLAGS=("${RSYNC_FLAGS[@]}" --fuzzy --delete-delay)
	run_rsync "$@"
}

# run_local SRC DST: one local copy, `ferry mover local` (sender and
# receiver in one process over socket pairs, no TLS), as the local data
# path's pod runs it.
run_local() {
	local src=$1 dst=$2 e u s m
	mkdir -p "$dst"
	local t0=$EPOCHREALTIME
	if ! timeout "$SYNC_TIMEOUT" /usr/bin/time -f "$TF" -o "$SCRATCH/ferry-local.time" "$FERRY" mover local \
		--source "$src" --destination "$dst" --delete --progress=json \
		>"$SCRATCH/ferry-local.out" 2>"$SCRATCH/ferry-local.err"; then
		tail -n 5 "$SCRATCH/ferry-local.err" "$SCRATCH/ferry-local.out" >&2
		die "ferry mover local $src -> $dst failed or hung (exit status above)"
	fi
	sync -f "$dst"
	R_WALL=$(since "$t0")
	grep -q '"phase":"done"' <(tail -n1 "$SCRATCH/ferry-local.out") || die "ferry local: last progress line is not phase done"
	read -r e u s m < <(lastline "$SCRATCH/ferry-local.time")
	R_CPUS=$(add "$u" "$s") R_RSSS=$m R_CPUR=- R_RSSR=-
	R_BS=$(tail -n1 "$SCRATCH/ferry-local.out" | grep -o '"bytesSent":[0-9]*' | cut -d: -f2)
	R_BR=-
}

# run_cp SRC DST: cp -a into DST.
run_cp() {
	local src=$1 dst=$2 e u s m
	mkdir -p "$dst"
	local t0=$EPOCHREALTIME
	/usr/bin/time -f "$TF" -o "$SCRATCH/cp.time" cp -a "$src/." "$dst/" || die "cp -a $src $dst failed"
	sync -f "$dst"
	R_WALL=$(since "$t0")
	read -r e u s m < <(lastline "$SCRATCH/cp.time")
	R_CPUS=$(add "$u" "$s") R_RSSS=$m R_CPUR=- R_RSSR=- R_BS=- R_BR=-
}

record() { # SETTING CASE TOOL ROUND
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" \
		"$R_WALL" "$R_CPUS" "$R_CPUR" "$R_RSSS" "$R_RSSR" "${R_BS:--}" "${R_BR:--}" >>"$RESULTS"
	log "$(printf '%-5s %-4s %-5s round %s: wall %6s s, cpu %s + %s s, rss %s / %s KiB, bytes %s / %s' "$@" \
		"$R_WALL" "$R_CPUS" "$R_CPUR" "$R_RSSS" "$R_RSSR" "${R_BS:--}" "${R_BR:--}")"
}

# check SRC DST WHAT [-content=false]: fail loudly unless DST equals SRC.
check() {
	if ! "$BT" verify ${4:+"$4"} "$1" "$2" >"$SCRATCH/verify.out" 2>"$SCRATCH/verify.err"; then
		cat "$SCRATCH/verify.err" >&2
		die "WRONG COPY after $3: $2 differs from $1"
	fi
}

# measure SETTING CASE TOOL ROUND SRC DST [fresh]: one timed, checked sync.
# With fresh, DST is emptied first, just before the run and for every tool
# alike: in this VM, memory freed some seconds earlier is handed back to
# the host, and writing into it again is several times slower than into
# memory freed a moment ago (tmpfs writes by cp -a ranged from 1 to 7 s
# for 2 GiB), so every tool reuses what its previous run freed.
measure() {
	local setting=$1 kase=$2 tool=$3 round=$4 src=$5 dst=$6 fresh=${7:-}
	if [[ -n $fresh ]]; then
		rm -rf "$dst"
		mkdir -p "$dst"
	fi
	[[ $setting == disk ]] && sync
	"run_$tool" "$src" "$dst"
	record "$setting" "$kase" "$tool" "$round"
	check "$src" "$dst" "$tool, case $kase, $setting, round $round"
}

# rotate ROUND TOOL...: the tools in the order of ROUND, rotated by one
# each round.
rotate() {
	local r=$1 i
	shift
	local t=("$@")
	for ((i = 0; i < ${#t[@]}; i++)); do printf '%s ' "${t[((r - 1 + i) % ${#t[@]})]}"; done
}

# order3 ROUND and order2 ROUND: the tool order of a full and of an
# incremental round.
order3() { rotate "$1" "${FULL_TOOLS[@]}"; }
order2() { rotate "$1" "${INC_TOOLS[@]}"; }

# full_rounds SETTING DIR N: (a) and (b) from empty destinations, N rounds.
# On disk every run gets a new directory and nothing is deleted until the
# end: ext4 avoids reusing inodes freed within the last minute or so, and
# a run that creates 100,000 files just after 100,000 were deleted spent
# 4x the CPU time in the inode allocator (recently_deleted) in a trial.
full_rounds() {
	local setting=$1 dir=$2 n=$3 r t k shift
	for ((r = 1; r <= n; r++)); do
		for k in $SETS; do
			shift=0
			if [[ $k == b ]]; then shift=1; fi
			for t in $(order3 "$((r + shift))"); do
				if [[ $setting == disk ]]; then
					measure "$setting" "$k" "$t" "$r" "$dir/src-$k" "$dir/dst-$k-$t-$r"
				else
					measure "$setting" "$k" "$t" "$r" "$dir/src-$k" "$dir/dst-$k-$t" fresh
				fi
			done
		done
	done
}

has_set() { [[ " $SETS " == *" $1 "* ]]; }

gen_ab() {
	if has_set a; then
		log "generating (a) $LARGE_N x $LARGE_SIZE in $1"
		"$BT" gen-large "$1/src-a" "$LARGE_N" "$LARGE_SIZE" 1
	fi
	if has_set b; then
		log "generating (b) $SMALL_N small files in $1"
		"$BT" gen-small "$1/src-b" "$SMALL_N" 1K 8K 2
	fi
}

# ---- tmpfs: (a) to (d) ----

gen_ab "$MNT"
# In this VM, the first writes into memory the tmpfs has not used before
# are several times slower than later ones (see docs/benchmarks.md); one
# untimed run of every tool on every set takes that cost out of round 1.
if [[ $WARMUP == 1 ]]; then
	log "tmpfs: warm-up, not measured"
	for k in $SETS; do
		for t in "${FULL_TOOLS[@]}"; do
			mkdir -p "$MNT/dst-$k-$t"
			"run_$t" "$MNT/src-$k" "$MNT/dst-$k-$t"
			rm -rf "$MNT/dst-$k-$t"
		done
	done
fi
log "tmpfs: (a) and (b), $ROUNDS rounds"
full_rounds tmpfs "$MNT" "$ROUNDS"
rm -rf "$MNT/dst-a-cp" "$MNT/dst-b-cp" # cp -a has no incremental mode; not in (c) and (d)

log "tmpfs: (c) no-change re-sync, $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
	for t in $(order2 "$r"); do
		for k in $SETS; do measure tmpfs "c-$k" "$t" "$r" "$MNT/src-$k" "$MNT/dst-$k-$t"; done
	done
done

CHANGED=0
if has_set a; then
	log "tmpfs: (d) 1% of $CHANGE_FILE changed, $ROUNDS rounds"
	for ((r = 1; r <= ROUNDS; r++)); do
		CHANGED=$("$BT" mutate "$MNT/src-a/$CHANGE_FILE" 0.01 1M "$((100 + r))")
		for t in $(order2 "$r"); do measure tmpfs d "$t" "$r" "$MNT/src-a" "$MNT/dst-a-$t"; done
	done

	# Bytes on the wire, both ways, TLS included: one more (d) round through
	# a counting proxy, not timed.
	log "tmpfs: (d) once more through a byte-counting proxy"
	"$BT" mutate "$MNT/src-a/$CHANGE_FILE" 0.01 1M 200 >/dev/null
	for t in ferry rsync; do
		has_tool "$t" || continue
		if [[ $t == ferry ]]; then to=$FPORT; else to=$P1; fi
		start_bg proxy "$BT" proxy "127.0.0.1:$PPORT" "127.0.0.1:$to" "$SCRATCH/proxy.count"
		ppid=$BGPID
		wait_port "$PPORT"
		"run_$t" "$MNT/src-a" "$MNT/dst-a-$t" "$PPORT"
		stop_bg "$ppid"
		check "$MNT/src-a" "$MNT/dst-a-$t" "$t, case d through the proxy"
		read -r R_BS R_BR _ <"$SCRATCH/proxy.count"
		record tmpfs d-wire "$t" 1
	done
fi
rm -rf "$MNT/src-a" "$MNT/src-b" "$MNT"/dst-*

# ---- tmpfs: (s) a sparse file ----

if [[ $SPARSE == 1 ]]; then
	log "tmpfs: (s) a file of $SPARSE_SIZE holding $SPARSE_DATA of data, $ROUNDS rounds"
	"$BT" gen-sparse "$MNT/src-s/disk.img" "$SPARSE_SIZE" "$SPARSE_DATA" 4
	for ((r = 1; r <= ROUNDS; r++)); do
		measure tmpfs s ferry "$r" "$MNT/src-s" "$MNT/dst-s" fresh
		"$BT" mutate "$MNT/src-s/disk.img" 1M 1M "$((300 + r))" >/dev/null
		measure tmpfs s-d ferry "$r" "$MNT/src-s" "$MNT/dst-s"
		FERRY_VERIFY=1
		measure tmpfs s-v ferry "$r" "$MNT/src-s" "$MNT/dst-s"
		FERRY_VERIFY=
	done
	rm -rf "$MNT/src-s" "$MNT/dst-s"
fi

# ---- tmpfs: (r) renamed files ----

# rename_round ROUND: the renames of round ROUND in $MNT/src-r: the large
# file moves to a new name in the other directory of tables/d0 and
# tables/d1 (both stay); the four oldest WAL segments get the next four
# segment names (PostgreSQL recycles segments so). Contents and mtimes
# are kept.
WAL_FIRST=1
rename_round() {
	local r=$1 from i
	from=$(find "$MNT/src-r/tables" -type f)
	mkdir -p "$MNT/src-r/tables/d$((r % 2))"
	mv "$from" "$MNT/src-r/tables/d$((r % 2))/rel-$r.bin"
	for ((i = WAL_FIRST; i < WAL_FIRST + 4; i++)); do
		mv "$MNT/src-r/pg_wal/$(printf '%024X' "$i")" "$MNT/src-r/pg_wal/$(printf '%024X' "$((i + 8))")"
	done
	WAL_FIRST=$((WAL_FIRST + 4))
}

# dir_round ROUND: the directory that holds the large file is renamed.
dir_round() {
	local d
	d=$(dirname "$(find "$MNT/src-r/tables" -type f)")
	mv "$d" "$MNT/src-r/tables/x$1"
}

if [[ $RENAME == 1 ]]; then
	R_TOOLS=("${INC_TOOLS[@]}")
	if [[ $FUZZY == 1 ]] && has_tool rsync; then R_TOOLS+=(fuzzy); fi
	log "tmpfs: (r) renames, $ROUNDS rounds (${R_TOOLS[*]})"
	"$BT" gen-large "$MNT/src-r/tables/d1" 1 "$LARGE_SIZE" 5
	mv "$MNT/src-r/tables/d1/large-00.bin" "$MNT/src-r/tables/d1/rel-1.bin"
	"$BT" gen-large "$MNT/src-r/pg_wal" 8 16M 6
	for i in 0 1 2 3 4 5 6 7; do
		mv "$MNT/src-r/pg_wal/large-0$i.bin" "$MNT/src-r/pg_wal/$(printf '%024X' "$((i + 1))")"
	done
	for t in "${R_TOOLS[@]}"; do # the first copy, not measured
		"run_$t" "$MNT/src-r" "$MNT/dst-r-$t"
		check "$MNT/src-r" "$MNT/dst-r-$t" "$t, case r, first copy"
	done
	# rsync compares directory mtimes in whole seconds: a directory whose
	# source mtime falls in the second in which rsync changes it on the
	# destination keeps the wrong mtime (seen here, a wrong copy). The
	# renames are made 1.1 s before the syncs so that this does not hit.
	for ((r = 2; r <= ROUNDS + 1; r++)); do
		rename_round "$r"
		sleep 1.1
		for t in $(rotate "$r" "${R_TOOLS[@]}"); do measure tmpfs r "$t" "$((r - 1))" "$MNT/src-r" "$MNT/dst-r-$t"; done
		dir_round "$r"
		sleep 1.1
		for t in $(rotate "$r" "${R_TOOLS[@]}"); do measure tmpfs r-dir "$t" "$((r - 1))" "$MNT/src-r" "$MNT/dst-r-$t"; done
	done
	rm -rf "$MNT/src-r" "$MNT"/dst-r-*
fi

# ---- tmpfs: 1,000,000 files, for memory ----

if [[ $MILLION == 1 ]]; then
	log "tmpfs: generating $TINY_DIRS x $TINY_PER files of 100 bytes"
	"$BT" gen-tiny "$MNT/src-m" "$TINY_DIRS" "$TINY_PER" 100 3
	tools=(ferry)
	[[ -n $BASELINE ]] && tools+=(base)
	[[ $MILLION_RSYNC == 1 ]] && tools+=(rsync)
	for t in "${tools[@]}"; do
		measure tmpfs 1M "$t" 1 "$MNT/src-m" "$MNT/dst-m" fresh
		# the content of 1,000,000 files of 100 bytes is checked by listing
		# (names, types, modes, owners, sizes, mtimes) and a spot check
		check "$MNT/src-m" "$MNT/dst-m" "$t, 1,000,000 files" -content=false
		log "1M check ($t): $(cat "$SCRATCH/verify.out")"
		check "$MNT/src-m/d0000" "$MNT/dst-m/d0000" "$t, 1,000,000 files, contents of d0000"
		rm -rf "$MNT/dst-m"
	done
	rm -rf "$MNT/src-m"
fi
umount "$MNT" && MOUNTED=""

# ---- disk: (a) and (b) ----

if [[ $DISK == 1 ]]; then
	[[ -e $DISKDIR ]] && die "$DISKDIR exists; remove it or set DISKDIR"
	need=$((DISK_ROUNDS * 9 + 4))
	avail=$(df --output=avail -B1G "$(dirname "$DISKDIR")" | tail -n1 | tr -d ' ')
	((avail >= need)) || die "the disk case needs $need GiB free under $(dirname "$DISKDIR"), $avail GiB are; set DISK_ROUNDS lower or DISK=0"
	mkdir -p "$DISKDIR" && MADE_DISKDIR=1
	gen_ab "$DISKDIR"
	sync
	log "disk: (a) and (b), $DISK_ROUNDS rounds"
	full_rounds disk "$DISKDIR" "$DISK_ROUNDS"
	rm -rf "$DISKDIR" && MADE_DISKDIR=""
fi

# ---- report ----

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
log "done in $(since "$T_START") s"
if [[ -n ${RESULTS_TSV:-} ]]; then cp "$RESULTS" "$RESULTS_TSV"; fi
{
	echo "### Data mover benchmark, $(date -u +%Y-%m-%d)"
	echo
	echo "- machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
	echo "- ferry built from $REV, $(go version | cut -d' ' -f3); $(rsync --version | head -n1 | sed 's/  */ /g'); $(stunnel4 -version 2>&1 | grep -m1 '^stunnel'); $(openssl version)"
	echo "- load average (1, 5, 15 min) at start: $LOAD_START; at end: $LOAD_END"
	echo "- rounds: $ROUNDS on tmpfs, $DISK_ROUNDS on disk; data: (a) $LARGE_N x $LARGE_SIZE, (b) $SMALL_N files of 1-8 KiB, 1M case $TINY_DIRS x $TINY_PER files of 100 B, (s) $SPARSE_SIZE holding $SPARSE_DATA, (r) $LARGE_SIZE + 8 x 16 MiB"
	echo
	"$BT" report -changed "$CHANGED" -baseline "$BASE_REV" "$RESULTS"
}
