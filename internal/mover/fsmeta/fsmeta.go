// Package fsmeta reads file metadata, extended attributes and sparse file
// layouts into the mover's wire types.
package fsmeta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// ErrChangedType reports an entry that changed type while it was read.
var ErrChangedType = errors.New("entry changed type")

// Info is a source entry's metadata plus the local facts needed to find
// hardlinks and changes.
type Info struct {
	Meta  wire.Meta
	Dev   uint64
	Ino   uint64
	Nlink uint64
	Ctime int64 // nanoseconds
	// Blocks is the allocated size in 512-byte units.
	Blocks int64
}

// Dense reports whether a regular file has at least as many allocated
// blocks as its size needs, so it cannot have holes worth keeping and its
// data can be read without looking for them.
func (i *Info) Dense() bool { return i.Blocks*512 >= i.Meta.Size }

// KindOf maps st_mode's type bits to a Kind, or 0 if unknown.
func KindOf(mode uint32) wire.Kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return wire.KindRegular
	case unix.S_IFDIR:
		return wire.KindDir
	case unix.S_IFLNK:
		return wire.KindSymlink
	case unix.S_IFIFO:
		return wire.KindFIFO
	case unix.S_IFCHR:
		return wire.KindCharDev
	case unix.S_IFBLK:
		return wire.KindBlockDev
	case unix.S_IFSOCK:
		return wire.KindSocket
	}
	return 0
}

// TypeBits maps a Kind back to st_mode's type bits.
func TypeBits(k wire.Kind) uint32 {
	switch k {
	case wire.KindRegular:
		return unix.S_IFREG
	case wire.KindDir:
		return unix.S_IFDIR
	case wire.KindSymlink:
		return unix.S_IFLNK
	case wire.KindFIFO:
		return unix.S_IFIFO
	case wire.KindCharDev:
		return unix.S_IFCHR
	case wire.KindBlockDev:
		return unix.S_IFBLK
	case wire.KindSocket:
		return unix.S_IFSOCK
	}
	return 0
}

// FromStat converts a stat result; Target and Xattrs stay empty.
func FromStat(st *unix.Stat_t) Info {
	m := wire.Meta{
		Kind:  KindOf(st.Mode),
		Mode:  st.Mode & 0o7777,
		UID:   st.Uid,
		GID:   st.Gid,
		Size:  st.Size,
		Mtime: unix.TimespecToNsec(st.Mtim),
		Atime: unix.TimespecToNsec(st.Atim),
	}
	if m.Kind == wire.KindCharDev || m.Kind == wire.KindBlockDev {
		m.Rdev = st.Rdev
	}
	if m.Kind == wire.KindDir {
		m.Size = 0
	}
	return Info{Meta: m, Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Ctime: unix.TimespecToNsec(st.Ctim), Blocks: st.Blocks}
}

// Lstat reads the metadata of path without following it, including the
// symlink target and, for regular files and directories, the xattrs.
func Lstat(path string) (Info, error) { return LstatReusing(path, nil) }

// LstatReusing is Lstat, but a regular file's or directory's extended
// attributes come from reuse when it returns true (its caller knows them
// unchanged: setting or removing one changes the change time) instead of
// being read.
func LstatReusing(path string, reuse func(Info) ([]wire.Xattr, bool)) (Info, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return Info{}, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	info := FromStat(&st)
	switch info.Meta.Kind {
	case 0:
		return info, fmt.Errorf("lstat %s: unsupported file type %#o", path, st.Mode&unix.S_IFMT)
	case wire.KindSymlink:
		t, err := os.Readlink(path)
		if err != nil {
			return info, err
		}
		info.Meta.Target = t
	case wire.KindRegular, wire.KindDir:
		if reuse != nil {
			if x, ok := reuse(info); ok {
				info.Meta.Xattrs = x
				return info, nil
			}
		}
		x, err := Xattrs(path)
		if err != nil {
			return info, err
		}
		info.Meta.Xattrs = x
	}
	return info, nil
}

// StatAt reads the metadata of name in the open directory dir without
// following it, including a symlink's target. Extended attributes are
// left for FileXattrs on the entry once it is open: a regular file's are
// read only when the file is sent (they are not part of the change
// check), a directory's when the walk enters it.
func StatAt(dir *os.File, name string) (Info, error) {
	var st unix.Stat_t
	fd := int(dir.Fd())
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Info{}, &os.PathError{Op: "lstat", Path: dir.Name() + "/" + name, Err: err}
	}
	info := FromStat(&st)
	switch info.Meta.Kind {
	case 0:
		return info, fmt.Errorf("lstat %s/%s: unsupported file type %#o", dir.Name(), name, st.Mode&unix.S_IFMT)
	case wire.KindSymlink:
		t, err := ReadlinkAt(fd, name, st.Size)
		if errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w: %w", ErrChangedType, err) // no longer a symlink
		}
		if err != nil {
			return info, &os.PathError{Op: "readlink", Path: dir.Name() + "/" + name, Err: err}
		}
		info.Meta.Target = t
	}
	return info, nil
}

// ReadlinkAt reads the target of the symlink name in the directory dirfd,
// whose size stat reported; the buffer grows if the link changed
// meanwhile.
func ReadlinkAt(dirfd int, name string, size int64) (string, error) {
	n := max(int(size)+1, 128)
	for range 5 {
		buf := make([]byte, n)
		m, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if m < n {
			return string(buf[:m]), nil
		}
		n *= 4
	}
	return "", unix.ENAMETOOLONG
}

// FileXattrs reads all extended attributes of an open file, sorted by
// name. A file system without xattr support yields none.
func FileXattrs(f *os.File) ([]wire.Xattr, error) {
	fd := int(f.Fd())
	return readXattrs(f.Name(),
		func(b []byte) (int, error) { return unix.Flistxattr(fd, b) },
		func(n string, b []byte) (int, error) { return unix.Fgetxattr(fd, n, b) })
}

// Xattrs reads all extended attributes of path (not following symlinks),
// sorted by name. A file system without xattr support yields none.
func Xattrs(path string) ([]wire.Xattr, error) {
	return readXattrs(path,
		func(b []byte) (int, error) { return unix.Llistxattr(path, b) },
		func(n string, b []byte) (int, error) { return unix.Lgetxattr(path, n, b) })
}

func readXattrs(path string, list func([]byte) (int, error), get func(string, []byte) (int, error)) ([]wire.Xattr, error) {
	names, err := safefs.ListXattrs(list)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "listxattr", Path: path, Err: err}
	}
	sort.Strings(names)
	out := make([]wire.Xattr, 0, len(names))
	for _, n := range names {
		v, err := getXattr(n, get)
		if errors.Is(err, unix.ENODATA) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, &os.PathError{Op: "getxattr " + n, Path: path, Err: err}
		}
		out = append(out, wire.Xattr{Name: n, Value: v})
	}
	return out, nil
}

func getXattr(name string, get func(string, []byte) (int, error)) ([]byte, error) {
	for range 5 {
		n, err := get(name, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, n)
		m, err := get(name, buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:m], nil
	}
	return nil, unix.ERANGE
}

// Compared reports whether an extended attribute is one whose copy a
// sync checks: user attributes, POSIX ACLs and file capabilities. Others
// (security labels, trusted attributes) are copied where the receiver may
// set them but not compared, since a receiver without the privilege
// silently keeps its own.
func Compared(name string) bool {
	switch name {
	case "system.posix_acl_access", "system.posix_acl_default", "security.capability":
		return true
	}
	return strings.HasPrefix(name, "user.")
}

// XattrSum returns a digest of the compared attributes among xs, which
// are sorted by name: equal for equal attributes, whatever else differs.
func XattrSum(xs []wire.Xattr) []byte {
	h := blake3.New()
	var n [binary.MaxVarintLen64]byte
	for _, x := range xs {
		if !Compared(x.Name) {
			continue
		}
		for _, b := range [][]byte{[]byte(x.Name), x.Value} {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
			h.Write(b)
		}
	}
	return h.Sum(nil)[:16]
}
