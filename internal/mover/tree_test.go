package mover_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	bigSize    = 16 << 20
	sparseSize = 32 << 20
)

// treeBuilder makes fixture trees; every helper fails the test on error.
type treeBuilder struct {
	t    *testing.T
	root string
	rng  *rand.Rand
	// xattrs is false when the file system refuses user xattrs.
	xattrs bool
}

func newTree(t *testing.T, root string) *treeBuilder {
	return &treeBuilder{t: t, root: root, rng: rand.New(rand.NewPCG(1, 2)), xattrs: true}
}

func (b *treeBuilder) path(rel string) string { return filepath.Join(b.root, rel) }

func (b *treeBuilder) check(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

func (b *treeBuilder) random(n int) []byte {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(b.rng.Uint32())
	}
	return buf
}

func (b *treeBuilder) dir(rel string, mode os.FileMode) {
	b.t.Helper()
	b.check(os.MkdirAll(b.path(rel), 0o755))
	b.check(os.Chmod(b.path(rel), mode))
}

func (b *treeBuilder) file(rel string, data []byte) {
	b.t.Helper()
	b.check(os.MkdirAll(filepath.Dir(b.path(rel)), 0o755))
	b.check(os.WriteFile(b.path(rel), data, 0o644))
}

func (b *treeBuilder) chmod(rel string, mode uint32) {
	b.t.Helper()
	b.check(unix.Fchmodat(unix.AT_FDCWD, b.path(rel), mode, 0))
}

// sparse writes a file of size bytes with data only at the given offsets.
func (b *treeBuilder) sparse(rel string, size int64, offs ...int64) {
	b.t.Helper()
	f, err := os.Create(b.path(rel))
	b.check(err)
	defer f.Close()
	b.check(f.Truncate(size))
	for _, off := range offs {
		_, err := f.WriteAt(b.random(64<<10), off)
		b.check(err)
	}
}

func (b *treeBuilder) xattr(rel, name, value string) {
	b.t.Helper()
	err := unix.Lsetxattr(b.path(rel), name, []byte(value), 0)
	if err == unix.ENOTSUP {
		b.xattrs = false
		return
	}
	b.check(err)
}

// times sets a nanosecond mtime (and atime) without following symlinks.
func (b *treeBuilder) times(rel string, sec, nsec int64) {
	b.t.Helper()
	ts := []unix.Timespec{{Sec: sec - 100, Nsec: nsec}, {Sec: sec, Nsec: nsec}}
	b.check(unix.UtimesNanoAt(unix.AT_FDCWD, b.path(rel), ts, unix.AT_SYMLINK_NOFOLLOW))
}

// fullTree builds a tree with every supported file type and attribute.
func fullTree(t *testing.T, root string) *treeBuilder {
	b := newTree(t, root)
	root0 := os.Geteuid() == 0
	b.file("a.txt", []byte("hello\n"))
	b.file("dir1/b.bin", b.random(3<<20))
	b.file("big.bin", b.random(bigSize))
	b.file("weird name\nwith newline", []byte("x"))
	b.file("empty-file", nil)
	b.sparse("sparse.img", sparseSize, 0, 8<<20)
	b.sparse("small-sparse", 512<<10, 256<<10)
	b.file("dir1/hl1", []byte("linked"))
	b.check(os.MkdirAll(b.path("dir2"), 0o755))
	b.check(os.Link(b.path("dir1/hl1"), b.path("dir2/hl2")))
	b.check(os.Link(b.path("dir1/hl1"), b.path("hl3")))
	b.check(os.Link(b.path("big.bin"), b.path("big-link.bin")))
	b.check(os.Symlink("/etc/passwd", b.path("link-out")))
	b.check(os.Symlink("does/not/exist", b.path("dangling")))
	b.check(os.Symlink("../a.txt", b.path("dir1/rel")))
	b.dir("empty", 0o755)
	b.dir("deep/a/b/c/empty", 0o755)
	b.file("deep/a/b/file", []byte("deep"))
	b.file("suid", []byte("#!/bin/sh\n"))
	b.chmod("suid", 0o4755)
	b.file("sgid", []byte("g"))
	b.chmod("sgid", 0o2711)
	b.dir("sticky", 0o1777)
	b.file("ro-dir/inside", []byte("ro"))
	b.dir("ro-dir", 0o555)
	b.file("lost+found/ignored", []byte("never copied"))
	b.xattr("a.txt", "user.ferry", "hello")
	b.xattr("dir1", "user.ferry.dir", "d")
	b.check(unix.Mkfifo(b.path("fifo"), 0o640))
	if root0 {
		b.check(unix.Mknod(b.path("null-dev"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		b.check(os.Lchown(b.path("a.txt"), 1234, 5678))
		b.check(os.Lchown(b.path("dir1"), 1234, 5678))
		b.check(os.Lchown(b.path("dangling"), 1234, 5678))
		b.check(os.Lchown(b.path("suid"), 1234, 5678))
		b.chmod("suid", 0o4755) // chown cleared setuid
	}
	b.stampTimes()
	return b
}

// stampTimes gives every entry a distinct nanosecond mtime, children
// before their directories.
func (b *treeBuilder) stampTimes() {
	var paths []string
	b.check(filepath.Walk(b.root, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return err
	}))
	for i := len(paths) - 1; i >= 0; i-- {
		rel, _ := filepath.Rel(b.root, paths[i])
		b.times(rel, 1_600_000_000+int64(i)*1000, int64(123456789+i))
	}
}

// mutate modifies about 1% of big.bin in place and reshapes the tree.
func (b *treeBuilder) mutate() {
	b.t.Helper()
	f, err := os.OpenFile(b.path("big.bin"), os.O_WRONLY, 0)
	b.check(err)
	_, err = f.WriteAt(bytes.Repeat([]byte{0xAB}, bigSize/100), bigSize/2)
	b.check(err)
	b.check(f.Close())
	b.sparseEdit()
	b.check(os.Remove(b.path("a.txt")))
	b.check(os.RemoveAll(b.path("deep/a")))
	b.check(os.Rename(b.path("dir1/hl1"), b.path("dir1/hl1-renamed")))
	b.check(os.Rename(b.path("weird name\nwith newline"), b.path("renamed")))
	b.file("new/x.txt", []byte("new file"))
	b.file("new/y.bin", b.random(100<<10))
	b.check(os.Remove(b.path("empty")))
	b.file("empty", []byte("was a dir, now a file"))
	b.check(os.Remove(b.path("dangling")))
	b.check(os.Mkdir(b.path("dangling"), 0o700))
	b.chmod("sgid", 0o600)
	b.times("sgid", 1_700_000_000, 1)
}

// sparseEdit writes into a hole of sparse.img and punches a hole where it
// had data, so the delta sends data and a hole.
func (b *treeBuilder) sparseEdit() {
	b.t.Helper()
	f, err := os.OpenFile(b.path("sparse.img"), os.O_WRONLY, 0)
	b.check(err)
	defer f.Close()
	_, err = f.WriteAt(b.random(64<<10), 16<<20)
	b.check(err)
	b.check(unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 64<<10))
}
