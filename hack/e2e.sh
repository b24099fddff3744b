#!/usr/bin/env bash
# The end-to-end tests on the running local clusters, in two shards at
# once: most of their time is spent waiting for pods, volumes and Leases,
# not computing. Each shard has its own Ferry namespace on the host
# (FERRY_NAMESPACE: its own controller, Lease and registrations), so they
# share the clusters as two users' runs would. Tests that take something
# away from both clusters (a network cut, the host's API server) run
# alone first. What must not overlap stays in one shard, in file order:
#   - the tests that play Ferry's front on port 443 (an Ingress
#     controller, an OpenShift router): TestStageBehindIngress,
#     TestOpenShiftKinds and ./internal/volumes/...;
#   - the shared Widget CRD: TestFixtureCrossClusterCompare creates it on
#     dst before TestMigrateNamespaceWithRename migrates it.
# Every test of ./test/e2e must be in exactly one list (checked first).
# Each shard's full log (go test -v) is kept in $E2E_LOGS; the output
# shows the result and time of every test, and a failed shard's log.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
LOGS=${E2E_LOGS:-.localclusters/e2e-logs}
mkdir -p "$LOGS"

serial=(TestNetworkCutDuringCopy TestDestinationAPIServerRestart)
shard1=(TestStageBehindIngress TestOpenShiftKinds TestFixtureSelfCompare TestFixtureCrossClusterCompare
	TestNormalizeAcrossClusters TestMigrateNamespaceWithRename TestControllerRestartResumes
	TestMoveCancelAfterRestart TestMoveSharedHostPath TestMoveRefused TestStorageConversion
	TestWriterAfterQuiesce TestBadInputs TestUnsupportedKind TestUsageAutoResize TestImagesCopiedAndRewritten)
shard2=(TestConsoleInBrowser TestHooks TestHookFailureTimeoutRetry TestHookCancel TestNamespaceAdminMigration
	TestRepositoryStageWhileWritingThenCutover TestRepositoryUploadResumesAfterOutage
	TestImageCopyAuth TestLeastPrivilege TestStatePlanIntoGitOpsClaim
	TestExportThenDiff TestDeleteMigrationWhileCopying TestUnhealthyWorkloadsThenRetry
	TestCancelRestoresSource TestStagePrePullsImages TestStageWhileWritingThenCutover)
# The other packages' e2e tests, after shard 1's (the front on 443).
others=(./internal/quiesce/... ./internal/volumes/...)

# runs joins test names into an anchored -run pattern.
runs() { local IFS='|'; echo "^($*)\$"; }

listed=$(printf '%s\n' "${serial[@]}" "${shard1[@]}" "${shard2[@]}" | sort)
if dup=$(uniq -d <<<"$listed") && [ -n "$dup" ]; then
	echo "hack/e2e.sh: in more than one list: $dup" >&2
	exit 1
fi
all=$($GO test -tags e2e -list '.*' ./test/e2e/ | grep '^Test' | sort)
if [ "$all" != "$listed" ]; then
	echo "hack/e2e.sh: the lists differ from the tests of ./test/e2e (< only in the lists, > only in the package):" >&2
	diff <(echo "$listed") <(echo "$all") >&2 || true
	exit 1
fi

# summary prints a log's test results and times, and its failures.
summary() {
	grep -E '^(--- (PASS|FAIL|SKIP)|(ok|FAIL|panic:)\s)' "$1" | sed "s/^/[$2] /" || true
}

# shard NAME NAMESPACE GO-TEST-ARGS... runs one go test into its log.
shard() {
	local name=$1 ns=$2
	shift 2
	local status=0
	FERRY_NAMESPACE=$ns $GO test -count=1 -tags e2e -timeout 40m -p 1 -v "$@" >"$LOGS/$name.log" 2>&1 || status=$?
	summary "$LOGS/$name.log" "$name"
	if [ $status -ne 0 ]; then
		echo "[$name] FAILED (exit $status); its log, $LOGS/$name.log:"
		sed "s/^/[$name] /" "$LOGS/$name.log"
	fi
	return $status
}

start=$SECONDS
status=0
shard serial ferry-e2e-0 -run "$(runs "${serial[@]}")" ./test/e2e/ || status=1
echo "e2e: serial part done after $((SECONDS - start)) s"

(
	s=0
	shard shard1 ferry-e2e-1 -run "$(runs "${shard1[@]}")" ./test/e2e/ || s=1
	shard shard1-others ferry-e2e-1 "${others[@]}" || s=1
	exit $s
) &
one=$!
shard shard2 ferry-e2e-2 -run "$(runs "${shard2[@]}")" ./test/e2e/ &
two=$!
wait $one || status=1
wait $two || status=1
echo "e2e: done after $((SECONDS - start)) s, status $status"
exit $status
