package mover_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/safefs"
)

// These tests cover changes that leave a file's size and mtime alone —
// hardlink groups, extended attributes and ACLs — and user files whose
// names once were the receiver's temporary names. Each sync runs with
// Verify, and compareTrees checks what Verify may miss.

// syncPair is a source, a destination and a receiver serving it.
type syncPair struct {
	t        *testing.T
	src, dst string
	b        *treeBuilder
	addr     string
	pki      string
}

func newSyncPair(t *testing.T) *syncPair {
	t.Helper()
	src, dst := t.TempDir(), t.TempDir()
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)
	return &syncPair{t: t, src: src, dst: dst, b: newTree(t, src), addr: r.addr, pki: pki}
}

// sync runs one sync with Delete and Verify and compares the trees.
func (p *syncPair) sync(what string) mover.Progress {
	p.t.Helper()
	prog, err := runSync(context.Background(), p.t, p.src, p.addr, clientTLS(p.t, p.pki), withDelete, withVerify)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	compareTrees(p.t, p.src, p.dst)
	return prog
}

// copyKeepTimes replaces rel with a copy of itself: same content, mode and
// times, a new inode.
func (b *treeBuilder) copyKeepTimes(rel string) {
	b.t.Helper()
	data, err := os.ReadFile(b.path(rel))
	b.check(err)
	var st unix.Stat_t
	b.check(unix.Lstat(b.path(rel), &st))
	tmp := b.path(rel) + ".copy"
	b.check(os.WriteFile(tmp, data, os.FileMode(st.Mode&0o777)))
	b.check(unix.UtimesNano(tmp, []unix.Timespec{st.Atim, st.Mtim}))
	b.check(os.Rename(tmp, b.path(rel)))
}

// TestHardlinkGroupSplit: links split on the source (one group into two,
// a group into single files) are split on the destination too, though
// size and mtime stay the same; then joined again.
func TestHardlinkGroupSplit(t *testing.T) {
	for _, size := range []int{3000, 3 << 20} { // batched and large files
		t.Run(fmtSize(size), func(t *testing.T) {
			p := newSyncPair(t)
			b := p.b
			b.file("a", b.random(size))
			b.times("a", 1_700_000_000, 1)
			for _, l := range []string{"b", "dir/c", "d"} {
				b.check(os.MkdirAll(filepath.Dir(b.path(l)), 0o755))
				b.check(os.Link(b.path("a"), b.path(l)))
			}
			b.file("single", b.random(size))
			p.sync("first sync")

			// {a,b,c,d} -> {a,b}, {c,d}: c becomes a copy and d a link of it.
			b.copyKeepTimes("dir/c")
			b.check(os.Remove(b.path("d")))
			b.check(os.Link(b.path("dir/c"), b.path("d")))
			p.sync("sync after splitting the group in two")

			// {a,b} -> a, b: separate files.
			b.copyKeepTimes("b")
			p.sync("sync after splitting a pair")
			// A write through a now separate name must not show through another.
			assertDistinctInodes(t, p.dst, "a", "b", "dir/c")

			// And joined again: b a link of single.
			b.check(os.Remove(b.path("b")))
			b.check(os.Link(b.path("single"), b.path("b")))
			p.sync("sync after joining")
		})
	}
}

func fmtSize(n int) string {
	if n >= 1<<20 {
		return "large"
	}
	return "small"
}

func assertDistinctInodes(t *testing.T, root string, rels ...string) {
	t.Helper()
	seen := map[uint64]string{}
	for _, rel := range rels {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, rel), &st); err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[st.Ino]; ok {
			t.Errorf("destination %s and %s share an inode", other, rel)
		}
		seen[st.Ino] = rel
	}
}

// TestAttributeOnlyChanges: extended attributes set, changed and removed,
// and a POSIX ACL grant revoked, on files and directories whose size and
// mtime stay the same, reach the destination.
func TestAttributeOnlyChanges(t *testing.T) {
	p := newSyncPair(t)
	b := p.b
	b.file("small", b.random(100))
	b.file("large", b.random(2<<20))
	b.dir("dir", 0o755)
	for _, rel := range []string{"small", "large", "dir"} {
		b.xattr(rel, "user.keep", "1")
		b.xattr(rel, "user.change", "old")
		b.xattr(rel, "user.drop", "x")
	}
	if !b.xattrs {
		t.Skip("the test's file system has no user xattrs")
	}
	acl := aclWith(t, b.path("small"), 1234, 7)
	// Past the mover's ctime slack: the second sync must find the changes
	// by their ctimes, not because everything was recent.
	time.Sleep(1500 * time.Millisecond)
	p.sync("first sync")

	time.Sleep(20 * time.Millisecond) // ctimes after the first sync's start, whatever the clock's tick
	for _, rel := range []string{"small", "large", "dir"} {
		// Removal first, so that ext4 keeps them all in the inode: an
		// extra xattr block would count in the compared block counts.
		b.check(unix.Lremovexattr(b.path(rel), "user.drop"))
		b.xattr(rel, "user.change", "new")
		b.xattr(rel, "user.add", "y")
	}
	if acl {
		aclWith(t, b.path("small"), 1234, 4) // revoke write and execute; the mask stays rwx
	}
	p.sync("sync after attribute changes")
	if acl {
		got := make([]byte, 256)
		n, err := unix.Getxattr(filepath.Join(p.dst, "small"), "system.posix_acl_access", got)
		if err != nil || perm(got[:n], 1234) != 4 {
			t.Errorf("destination ACL grants user 1234 %d (%v), want 4 (read only)", perm(got[:n], 1234), err)
		}
	}
}

// TestAttributesOfPrepopulatedDestination: a destination that holds the
// same files (size and mtime) with other attributes, and no record of an
// earlier sync, is compared in full.
func TestAttributesOfPrepopulatedDestination(t *testing.T) {
	p := newSyncPair(t)
	b := p.b
	b.file("f", b.random(100))
	b.xattr("f", "user.x", "source")
	if !b.xattrs {
		t.Skip("the test's file system has no user xattrs")
	}
	data, _ := os.ReadFile(b.path("f"))
	d := newTree(t, p.dst)
	d.file("f", data)
	d.xattr("f", "user.x", "stale")
	var st unix.Stat_t
	b.check(unix.Stat(b.path("f"), &st))
	b.check(unix.UtimesNano(d.path("f"), []unix.Timespec{st.Atim, st.Mtim}))
	p.sync("sync into a pre-populated destination")
}

// TestUserFilesNamedLikeTemporaries: files whose names the receiver once
// used for its temporary files are ordinary files: copied, kept, not
// resent by the next sync and never removed by the receiver.
func TestUserFilesNamedLikeTemporaries(t *testing.T) {
	p := newSyncPair(t)
	b := p.b
	b.file(".ferry-tmp-x", b.random(10))
	b.file("dir/.ferry-tmp-data.bin-0123456789ab", b.random(2<<20))
	b.file("dir/plain", b.random(10))
	p.sync("first sync")
	prog := p.sync("second sync")
	if prog.Skipped != 3 || prog.BytesSent > 64<<10 {
		t.Errorf("second sync skipped %d files and sent %d bytes; want all 3 skipped and next to nothing sent", prog.Skipped, prog.BytesSent)
	}
}

// TestSourceWithReservedDirectory: a source that was once a destination
// holds the mover's reserved directory at its root; it is not copied,
// and the destination's own is left alone.
func TestSourceWithReservedDirectory(t *testing.T) {
	p := newSyncPair(t)
	p.b.file("data", p.b.random(100))
	p.sync("first sync")
	second := t.TempDir()
	r := startReceiver(t, second, serverTLS(t, p.pki), false)
	if _, err := runSync(context.Background(), t, p.dst, r.addr, clientTLS(t, p.pki), withDelete, withVerify); err != nil {
		t.Fatalf("sync of a former destination: %v", err)
	}
	compareTrees(t, p.src, second)
	if _, err := os.Stat(filepath.Join(second, ".ferry-mover", "state.json")); err != nil {
		t.Errorf("destination's own sync state: %v", err)
	}
}

// POSIX ACL xattr encoding (linux/posix_acl_xattr.h).
const (
	aclVersion   = 2
	aclUserObj   = 0x01
	aclUser      = 0x02
	aclGroupObj  = 0x04
	aclMask      = 0x10
	aclOther     = 0x20
	aclUndefined = 0xffffffff
)

// aclWith sets an access ACL on path granting uid perm, with mask rwx so
// that the mode stays the same whatever perm is; it reports false where
// the file system has no ACLs.
func aclWith(t *testing.T, path string, uid uint32, perm uint16) bool {
	t.Helper()
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range []struct {
		tag, perm uint16
		id        uint32
	}{{aclUserObj, 6, aclUndefined}, {aclUser, perm, uid}, {aclGroupObj, 4, aclUndefined}, {aclMask, 7, aclUndefined}, {aclOther, 4, aclUndefined}} {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	err := unix.Setxattr(path, "system.posix_acl_access", b, 0)
	if err == unix.ENOTSUP || err == unix.EOPNOTSUPP {
		t.Log("the test's file system has no POSIX ACLs; ACL changes not tested")
		return false
	}
	if err != nil {
		t.Fatalf("set ACL: %v", err)
	}
	return true
}

// perm returns the permission an encoded ACL grants uid, or -1.
func perm(acl []byte, uid uint32) int {
	for off := 4; off+8 <= len(acl); off += 8 {
		if binary.LittleEndian.Uint16(acl[off:]) == aclUser && binary.LittleEndian.Uint32(acl[off+4:]) == uid {
			return int(binary.LittleEndian.Uint16(acl[off+2:]))
		}
	}
	return -1
}

// TestVerifyReportsAttributeDifference changes a destination file's
// extended attributes behind the mover's back: the transfer has no reason
// to look (the source has not changed since before the last sync), and
// Verify must name it. (A directory's attributes are applied by every
// sync.)
func TestVerifyReportsAttributeDifference(t *testing.T) {
	p := newSyncPair(t)
	b := p.b
	b.file("dir/f", b.random(100))
	b.xattr("dir/f", "user.x", "1")
	if !b.xattrs {
		t.Skip("the test's file system has no user xattrs")
	}
	time.Sleep(1500 * time.Millisecond) // past the mover's ctime slack, so the source counts as unchanged
	p.sync("first sync")
	if err := unix.Lsetxattr(filepath.Join(p.dst, "dir/f"), "user.x", []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := runSync(context.Background(), t, p.src, p.addr, clientTLS(t, p.pki), withVerify)
	var verr *mover.VerifyError
	if !errors.As(err, &verr) {
		t.Fatalf("sync returned %v, want a VerifyError", err)
	}
	if !slices.Equal(verr.Paths, []string{"dir/f"}) {
		t.Errorf("mismatching paths = %v, want [dir/f]", verr.Paths)
	}
}

// TestFinalSyncLeavesNoReservedDirectory: a final sync leaves the
// destination holding the source's data alone, the root's times
// included, and a later sync still works (from no recorded state).
func TestFinalSyncLeavesNoReservedDirectory(t *testing.T) {
	p := newSyncPair(t)
	p.b.file("data", p.b.random(100))
	p.sync("stage")
	final := func(o *mover.Options) { o.Final = true }
	if _, err := runSync(context.Background(), t, p.src, p.addr, clientTLS(t, p.pki), withDelete, withVerify, final); err != nil {
		t.Fatalf("final sync: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(p.dst, safefs.ReservedName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reserved directory after the final sync: %v", err)
	}
	compareTrees(t, p.src, p.dst) // the root's mtime too, though the reserved directory went after it was set
	p.b.file("more", p.b.random(2<<20))
	p.sync("sync after the final one")
}
