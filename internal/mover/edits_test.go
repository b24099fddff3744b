package mover_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
)

// The random-edit tests (fuzz_test.go) build a tree and change it with
// the editor below. Its structural choices (which edit, which entry) come
// from pick, so that a seed or a fuzz input decides them; file contents
// and offsets come from rng.
//
// Every edit keeps two invariants, so that the destination can be
// compared exactly, block counts included:
//   - a content change gives the file a new synthetic mtime, unique in the
//     run: the mover takes a file of unchanged size and mtime for
//     unchanged (see the package Caveats), and the kernel's clock is
//     coarser than the edits;
//   - every allocated page of a regular file holds a non-zero byte: data
//     bytes are never 0, holes are punched in whole pages and a truncation
//     inside a page refills the page's kept part. The mover stores zero
//     pages as holes (see the package Caveats), so a zero page stored as
//     data on the source would differ in block count only.

// pageSize is the unit of holes on the test file systems.
const pageSize = 4096

// editor applies random edits to the tree at root.
type editor struct {
	tb     testing.TB
	root   string
	pick   func(n int) int
	rng    *rand.Rand
	mtime  int64 // the last synthetic mtime given, in nanoseconds
	xattrs bool  // false once the file system refused user xattrs
	large  int64 // the large-file threshold of the syncs
	// log lists the edits since the last call of takeLog.
	log []string
}

func newEditor(tb testing.TB, root string, pick func(int) int, rng *rand.Rand, large int64) *editor {
	return &editor{tb: tb, root: root, pick: pick, rng: rng, mtime: 1_600_000_000e9, xattrs: true, large: large}
}

// entries is the current tree, each list sorted by path.
type entries struct {
	files []string // regular files
	dirs  []string // directories, "." first
	other []string // symlinks and FIFOs
}

func (l *entries) nonDirs() []string { return append(append([]string(nil), l.files...), l.other...) }

func (e *editor) path(rel string) string { return filepath.Join(e.root, rel) }

func (e *editor) check(err error) {
	e.tb.Helper()
	if err != nil {
		e.tb.Fatalf("edit after %v: %v", e.log, err)
	}
}

// scan lists the tree.
func (e *editor) scan() entries {
	var l entries
	err := filepath.WalkDir(e.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.root, p)
		switch {
		case d.IsDir():
			l.dirs = append(l.dirs, rel)
		case d.Type().IsRegular():
			l.files = append(l.files, rel)
		default:
			l.other = append(l.other, rel)
		}
		return nil
	})
	e.check(err)
	return l
}

// choose picks one of list, or "" from an empty list.
func (e *editor) choose(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[e.pick(len(list))]
}

// namePool is what new entries are called: few names, so that edits
// collide with earlier ones (a file replaced by a directory of its name,
// a new file taking a deleted one's name).
var namePool = []string{"a", "b", "c", "data.bin", "log", "wal", "x y", "z"}

// newName returns a name not taken in dir, or "".
func (e *editor) newName(dir string) string {
	for range 4 {
		name := namePool[e.pick(len(namePool))]
		if e.pick(3) == 0 {
			name += fmt.Sprint(e.pick(10))
		}
		if _, err := os.Lstat(e.path(filepath.Join(dir, name))); errors.Is(err, fs.ErrNotExist) {
			return filepath.Join(dir, name)
		}
	}
	return ""
}

// data returns n random bytes, none of them 0.
func (e *editor) data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + e.rng.IntN(255))
	}
	return b
}

// size picks a file size: empty, tiny, small, large at the syncs'
// threshold, or above the mover's default threshold (1 MiB).
func (e *editor) size() int64 {
	switch e.pick(10) {
	case 0:
		return 0
	case 1, 2, 3:
		return 1 + e.rng.Int64N(pageSize)
	case 4, 5:
		return pageSize + e.rng.Int64N(e.large)
	case 6, 7, 8:
		return e.large + e.rng.Int64N(6*e.large)
	default:
		return 1<<20 + e.rng.Int64N(1<<19)
	}
}

// touch gives rel a new synthetic mtime, without following a symlink.
func (e *editor) touch(rel string) {
	e.mtime += 1e9 + e.rng.Int64N(1e9)
	ts := []unix.Timespec{unix.NsecToTimespec(e.mtime - 5e9), unix.NsecToTimespec(e.mtime)}
	e.check(unix.UtimesNanoAt(unix.AT_FDCWD, e.path(rel), ts, unix.AT_SYMLINK_NOFOLLOW))
}

// writeAt writes n random bytes at off into the file rel.
func (e *editor) writeAt(rel string, off int64, n int) {
	f, err := os.OpenFile(e.path(rel), os.O_WRONLY, 0)
	e.check(err)
	defer f.Close()
	_, err = f.WriteAt(e.data(n), off)
	e.check(err)
}

// fileSize returns the size of the file rel.
func (e *editor) fileSize(rel string) int64 {
	st, err := os.Lstat(e.path(rel))
	e.check(err)
	return st.Size()
}

// create makes a new file of a random size at rel, sparse at times.
func (e *editor) create(rel string) string {
	size := e.size()
	f, err := os.OpenFile(e.path(rel), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	e.check(err)
	e.check(f.Truncate(size))
	e.check(f.Close())
	if size > 2*pageSize && e.pick(4) == 0 {
		for range 1 + e.pick(4) { // a few runs of data, holes around them
			off := e.rng.Int64N(size)
			e.writeAt(rel, off, int(min(size-off, 1+e.rng.Int64N(4*pageSize))))
		}
		e.touch(rel)
		return fmt.Sprintf("new sparse file %s (%d bytes)", rel, size)
	}
	if size > 0 {
		e.writeAt(rel, 0, int(size))
	}
	e.touch(rel)
	return fmt.Sprintf("new file %s (%d bytes)", rel, size)
}

// An edit changes the tree and says what it did, or returns "" when it
// does not apply to the tree as it is.
type edit struct {
	weight int
	apply  func(e *editor, l *entries) string
}

// edits are the random edits, weighted.
var edits = []edit{
	{6, (*editor).editWrite},
	{3, (*editor).editAppend},
	{3, (*editor).editTruncate},
	{2, (*editor).editPunch},
	{3, (*editor).editRename},
	{4, (*editor).editMove},
	{4, (*editor).editMoveLarge},
	{2, (*editor).editRenameOver},
	{3, (*editor).editDelete},
	{1, (*editor).editDeleteDir},
	{5, (*editor).editNewFile},
	{2, (*editor).editNewDir},
	{2, (*editor).editSymlink},
	{3, (*editor).editHardlink},
	{2, (*editor).editBreakLink},
	{2, (*editor).editChmod},
	{2, (*editor).editMtime},
	{2, (*editor).editXattr},
	{1, (*editor).editChown},
	{1, (*editor).editReplaceType},
	{1, (*editor).editFIFO},
}

// apply makes one random edit.
func (e *editor) apply() {
	total := 0
	for _, ed := range edits {
		total += ed.weight
	}
	for range 10 { // an edit that does not apply gives way to another
		l := e.scan()
		n := e.pick(total)
		for _, ed := range edits {
			if n -= ed.weight; n < 0 {
				if what := ed.apply(e, &l); what != "" {
					e.log = append(e.log, what)
					return
				}
				break
			}
		}
	}
}

// build makes a first tree: a few directories several levels deep, then
// n random creations.
func (e *editor) build(n int) {
	for _, d := range []string{"deep/a/b/c", "pg_wal", "log"} {
		e.check(os.MkdirAll(e.path(d), 0o755))
	}
	creations := []func(*editor, *entries) string{
		(*editor).editNewFile, (*editor).editNewFile, (*editor).editNewFile, (*editor).editNewDir,
		(*editor).editSymlink, (*editor).editHardlink, (*editor).editXattr, (*editor).editChmod,
	}
	for range n {
		l := e.scan()
		if what := creations[e.pick(len(creations))](e, &l); what != "" {
			e.log = append(e.log, what)
		}
	}
}

// takeLog returns the edits made since the last call.
func (e *editor) takeLog() []string {
	l := e.log
	e.log = nil
	return l
}

func (e *editor) editWrite(l *entries) string {
	rel := e.choose(l.files)
	if rel == "" {
		return ""
	}
	size := e.fileSize(rel)
	off := e.rng.Int64N(size + 1)
	n := 1 + e.rng.IntN(16*pageSize)
	e.writeAt(rel, off, n)
	e.touch(rel)
	return fmt.Sprintf("write %d bytes at %d of %s", n, off, rel)
}

func (e *editor) editAppend(l *entries) string {
	rel := e.choose(l.files)
	if rel == "" {
		return ""
	}
	n := 1 + e.rng.IntN(int(e.large))
	e.writeAt(rel, e.fileSize(rel), n)
	e.touch(rel)
	return fmt.Sprintf("append %d bytes to %s", n, rel)
}

func (e *editor) editTruncate(l *entries) string {
	rel := e.choose(l.files)
	if rel == "" {
		return ""
	}
	size := e.fileSize(rel)
	to := e.rng.Int64N(2*size + pageSize)
	e.check(os.Truncate(e.path(rel), to))
	if tail := to % pageSize; to < size && tail != 0 {
		e.writeAt(rel, to-tail, int(tail)) // the kept part of the last page is data again
	}
	e.touch(rel)
	return fmt.Sprintf("truncate %s from %d to %d", rel, size, to)
}

func (e *editor) editPunch(l *entries) string {
	rel := e.choose(l.files)
	if rel == "" {
		return ""
	}
	pages := e.fileSize(rel) / pageSize
	if pages < 2 {
		return ""
	}
	off := e.rng.Int64N(pages) * pageSize
	n := (1 + e.rng.Int64N(min(pages, 32))) * pageSize
	f, err := os.OpenFile(e.path(rel), os.O_WRONLY, 0)
	e.check(err)
	err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	f.Close()
	e.check(err)
	e.touch(rel)
	return fmt.Sprintf("punch %d bytes at %d of %s", n, off, rel)
}

// movable lists what may be renamed: everything but the root.
func movable(l *entries) []string { return append(l.nonDirs(), l.dirs[1:]...) }

func (e *editor) editRename(l *entries) string {
	rel := e.choose(movable(l))
	if rel == "" {
		return ""
	}
	to := e.newName(filepath.Dir(rel))
	if to == "" {
		return ""
	}
	e.check(os.Rename(e.path(rel), e.path(to)))
	return fmt.Sprintf("rename %s to %s", rel, to)
}

// moveTo moves rel into another directory, under a new name or its own.
func (e *editor) moveTo(rel string, l *entries) string {
	var dirs []string
	for _, d := range l.dirs {
		if d != filepath.Dir(rel) && d != rel && !strings.HasPrefix(d, rel+"/") {
			dirs = append(dirs, d)
		}
	}
	dir := e.choose(dirs)
	if dir == "" {
		return ""
	}
	to := filepath.Join(dir, filepath.Base(rel))
	if _, err := os.Lstat(e.path(to)); err == nil || e.pick(2) == 0 {
		if to = e.newName(dir); to == "" {
			return ""
		}
	}
	e.check(os.Rename(e.path(rel), e.path(to)))
	return fmt.Sprintf("move %s to %s", rel, to)
}

func (e *editor) editMove(l *entries) string {
	rel := e.choose(movable(l))
	if rel == "" {
		return ""
	}
	return e.moveTo(rel, l)
}

// editMoveLarge moves a large file to another directory, the case the
// sender's move detection is for.
func (e *editor) editMoveLarge(l *entries) string {
	var large []string
	for _, f := range l.files {
		if e.fileSize(f) >= e.large {
			large = append(large, f)
		}
	}
	rel := e.choose(large)
	if rel == "" {
		return ""
	}
	return e.moveTo(rel, l)
}

// editRenameOver renames a file over another one, which it replaces.
func (e *editor) editRenameOver(l *entries) string {
	from, to := e.choose(l.files), e.choose(l.nonDirs())
	if from == "" || from == to {
		return ""
	}
	e.check(os.Rename(e.path(from), e.path(to)))
	return fmt.Sprintf("rename %s over %s", from, to)
}

func (e *editor) editDelete(l *entries) string {
	rel := e.choose(l.nonDirs())
	if rel == "" {
		return ""
	}
	e.check(os.Remove(e.path(rel)))
	return "delete " + rel
}

func (e *editor) editDeleteDir(l *entries) string {
	rel := e.choose(l.dirs[1:])
	if rel == "" {
		return ""
	}
	e.check(os.RemoveAll(e.path(rel)))
	return "delete directory " + rel
}

func (e *editor) editNewFile(l *entries) string {
	rel := e.newName(e.choose(l.dirs))
	if rel == "" {
		return ""
	}
	return e.create(rel)
}

var dirModes = []uint32{0o755, 0o700, 0o750, 0o555, 0o1777, 0o2775}

func (e *editor) editNewDir(l *entries) string {
	rel := e.newName(e.choose(l.dirs))
	if rel == "" {
		return ""
	}
	e.check(os.Mkdir(e.path(rel), 0o755))
	if e.pick(2) == 0 {
		e.create(filepath.Join(rel, "f"))
	}
	mode := e.mode(dirModes, 0o700)
	e.check(unix.Chmod(e.path(rel), mode))
	return fmt.Sprintf("new directory %s (%o)", rel, mode)
}

// mode picks one of modes; without root, with the owner bits in owner
// set, so that later edits can still write.
func (e *editor) mode(modes []uint32, owner uint32) uint32 {
	m := modes[e.pick(len(modes))]
	if os.Geteuid() != 0 {
		m |= owner
	}
	return m
}

var linkTargets = []string{"a", "../a", "/etc/passwd", "does/not/exist", "deep/a/b", strings.Repeat("long/", 40)}

// editSymlink makes a new symlink or points an existing one elsewhere.
func (e *editor) editSymlink(l *entries) string {
	target := linkTargets[e.pick(len(linkTargets))]
	rel := ""
	if old := e.choose(l.other); old != "" && e.pick(2) == 0 {
		if st, err := os.Lstat(e.path(old)); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			rel = old
			e.check(os.Remove(e.path(rel)))
		}
	}
	if rel == "" {
		if rel = e.newName(e.choose(l.dirs)); rel == "" {
			return ""
		}
	}
	e.check(os.Symlink(target, e.path(rel)))
	e.touch(rel)
	return fmt.Sprintf("symlink %s -> %s", rel, target)
}

func (e *editor) editHardlink(l *entries) string {
	target := e.choose(l.files)
	if target == "" {
		return ""
	}
	rel := e.newName(e.choose(l.dirs))
	if rel == "" {
		return ""
	}
	e.check(os.Link(e.path(target), e.path(rel)))
	return fmt.Sprintf("hardlink %s to %s", rel, target)
}

// editBreakLink replaces one name of a hardlinked file with a copy of the
// same content, mode and times: only the inode tells them apart.
func (e *editor) editBreakLink(l *entries) string {
	var linked []string
	for _, f := range l.files {
		var st unix.Stat_t
		e.check(unix.Lstat(e.path(f), &st))
		if st.Nlink > 1 {
			linked = append(linked, f)
		}
	}
	rel := e.choose(linked)
	if rel == "" {
		return ""
	}
	var st unix.Stat_t
	e.check(unix.Lstat(e.path(rel), &st))
	tmp := e.path(rel) + ".copy"
	e.copySparse(rel, tmp, st.Size)
	e.check(unix.Chmod(tmp, st.Mode&0o7777))
	e.check(unix.UtimesNano(tmp, []unix.Timespec{st.Atim, st.Mtim}))
	e.check(os.Rename(tmp, e.path(rel)))
	return "break hardlink " + rel
}

// copySparse copies the file rel to the new file at path, holes as holes.
func (e *editor) copySparse(rel, path string, size int64) {
	in, err := os.Open(e.path(rel))
	e.check(err)
	defer in.Close()
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	e.check(err)
	defer out.Close()
	e.check(out.Truncate(size))
	exts, err := fsmeta.DataExtents(in, 0, size)
	e.check(err)
	for _, x := range exts {
		b := make([]byte, x.Len)
		_, err := in.ReadAt(b, x.Off)
		e.check(err)
		_, err = out.WriteAt(b, x.Off)
		e.check(err)
	}
}

var fileModes = []uint32{0o644, 0o600, 0o755, 0o444, 0o4755, 0o2711, 0o640}

func (e *editor) editChmod(l *entries) string {
	if e.pick(3) == 0 {
		rel := e.choose(l.dirs)
		mode := e.mode(dirModes, 0o700)
		e.check(unix.Chmod(e.path(rel), mode))
		return fmt.Sprintf("chmod %o %s", mode, rel)
	}
	rel := e.choose(l.files)
	if rel == "" {
		return ""
	}
	mode := e.mode(fileModes, 0o600)
	e.check(unix.Chmod(e.path(rel), mode))
	return fmt.Sprintf("chmod %o %s", mode, rel)
}

func (e *editor) editMtime(l *entries) string {
	rel := e.choose(append(l.nonDirs(), l.dirs...))
	e.touch(rel)
	return "set mtime of " + rel
}

// editXattr sets or removes one of two short user xattrs of a file or
// directory.
func (e *editor) editXattr(l *entries) string {
	if !e.xattrs {
		return ""
	}
	rel := e.choose(append(append([]string(nil), l.files...), l.dirs...))
	name := []string{"user.a", "user.b"}[e.pick(2)]
	if e.pick(3) == 0 {
		err := unix.Lremovexattr(e.path(rel), name)
		if errors.Is(err, unix.ENODATA) {
			return ""
		}
		e.check(err)
		return fmt.Sprintf("remove xattr %s of %s", name, rel)
	}
	value := fmt.Sprint(e.pick(1000))
	err := unix.Lsetxattr(e.path(rel), name, []byte(value), 0)
	if errors.Is(err, unix.ENOTSUP) {
		e.xattrs = false
		return ""
	}
	e.check(err)
	return fmt.Sprintf("set xattr %s=%s of %s", name, value, rel)
}

// editChown gives an entry another owner, when the test runs as root (the
// receiver then applies owners).
func (e *editor) editChown(l *entries) string {
	if os.Geteuid() != 0 {
		return ""
	}
	rel := e.choose(append(l.nonDirs(), l.dirs...))
	uid, gid := []int{0, 1000, 1234}[e.pick(3)], []int{0, 1000, 5678}[e.pick(3)]
	e.check(os.Lchown(e.path(rel), uid, gid))
	return fmt.Sprintf("chown %d:%d %s", uid, gid, rel)
}

// editReplaceType replaces a file or symlink with a directory of its
// name, or an empty directory with a file.
func (e *editor) editReplaceType(l *entries) string {
	if e.pick(2) == 0 {
		rel := e.choose(l.nonDirs())
		if rel == "" {
			return ""
		}
		e.check(os.Remove(e.path(rel)))
		e.check(os.Mkdir(e.path(rel), 0o755))
		return "replace with a directory " + rel
	}
	for _, d := range l.dirs[1:] {
		if ents, err := os.ReadDir(e.path(d)); err == nil && len(ents) == 0 {
			e.check(os.Remove(e.path(d)))
			return "replace with a file: " + e.create(d)
		}
	}
	return ""
}

func (e *editor) editFIFO(l *entries) string {
	rel := e.newName(e.choose(l.dirs))
	if rel == "" {
		return ""
	}
	e.check(unix.Mkfifo(e.path(rel), 0o640))
	e.touch(rel)
	return "new FIFO " + rel
}
