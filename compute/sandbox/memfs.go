package sandbox

import (
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// maxOutputEntries bounds how many files and directories a job may create, so
// that empty files (which cost no bytes of budget) cannot exhaust host memory.
const maxOutputEntries = 4096

// memFS is the only file system a guest sees: a tree held in host memory.
// Inputs are mounted from one read-only memFS, the output directory from a
// writable one with a byte budget. Keeping it in memory means the guest never
// touches the host disk, there are no symlinks or hard links to escape
// through, and every timestamp is zero, so even stat results are the same on
// every provider.
//
// Writes beyond the budget fail with EIO (WASI preview1 has no ENOSPC in
// wazero's errno set) and set overflow, which Run reports as ErrOutputLimit.
type memFS struct {
	experimentalsys.UnimplementedFS

	mu       sync.Mutex
	root     *memNode
	readOnly bool
	limit    int64 // budget for file content in bytes
	used     int64
	entries  int
	overflow bool
	nextIno  uint64
}

type memNode struct {
	ino      uint64
	dir      bool
	mode     fs.FileMode // permission bits only
	data     []byte
	children map[string]*memNode
	// unlinked nodes may still be open; their growth is charged but never
	// credited back, so unlink-then-truncate cannot undercount.
	unlinked bool
}

func newMemFS(limit int64) *memFS {
	m := &memFS{limit: limit}
	m.root = m.newNode(true, 0o755)
	return m
}

// newInputFS builds the read-only input tree. Names are slash-separated
// relative paths already checked by validateJob; parents are created as needed.
func newInputFS(inputs map[string][]byte) *memFS {
	m := newMemFS(-1)
	for _, name := range slices.Sorted(maps.Keys(inputs)) { // sorted: inode numbers must not depend on map order
		dir := m.root
		parts := strings.Split(name, "/")
		for _, p := range parts[:len(parts)-1] {
			next := dir.children[p]
			if next == nil {
				next = m.newNode(true, 0o555)
				dir.children[p] = next
			}
			dir = next
		}
		f := m.newNode(false, 0o444)
		f.data = inputs[name] // never written: the FS is read-only
		dir.children[parts[len(parts)-1]] = f
	}
	m.readOnly = true
	return m
}

func (m *memFS) newNode(dir bool, mode fs.FileMode) *memNode {
	m.nextIno++
	n := &memNode{ino: m.nextIno, dir: dir, mode: mode.Perm()}
	if dir {
		n.children = map[string]*memNode{}
	}
	return n
}

// charge accounts for a file growing from oldSize to newSize bytes.
func (m *memFS) charge(n *memNode, oldSize, newSize int64) experimentalsys.Errno {
	delta := newSize - oldSize
	if delta <= 0 {
		if !n.unlinked {
			m.used += delta
		}
		return 0
	}
	if m.limit >= 0 && m.used+delta > m.limit {
		m.overflow = true
		return experimentalsys.EIO
	}
	m.used += delta
	return 0
}

// split turns a guest path (already cleaned by wazero, relative to the mount)
// into its components; "." is the root.
func split(path string) ([]string, bool, experimentalsys.Errno) {
	wantDir := strings.HasSuffix(path, "/")
	path = strings.TrimSuffix(path, "/")
	if path == "" || path == "." {
		return nil, true, 0
	}
	if !fs.ValidPath(path) {
		return nil, false, experimentalsys.ENOENT
	}
	return strings.Split(path, "/"), wantDir, 0
}

// lookup returns the node at path, or its parent and base name when the node
// does not exist (node nil, errno 0) so callers can create it.
func (m *memFS) lookup(path string) (node, parent *memNode, name string, errno experimentalsys.Errno) {
	parts, wantDir, errno := split(path)
	if errno != 0 {
		return nil, nil, "", errno
	}
	if len(parts) == 0 {
		return m.root, nil, ".", 0
	}
	dir := m.root
	for _, p := range parts[:len(parts)-1] {
		next, ok := dir.children[p]
		if !ok {
			return nil, nil, "", experimentalsys.ENOENT
		}
		if !next.dir {
			return nil, nil, "", experimentalsys.ENOTDIR
		}
		dir = next
	}
	name = parts[len(parts)-1]
	node = dir.children[name]
	if node != nil && wantDir && !node.dir {
		return nil, nil, "", experimentalsys.ENOTDIR
	}
	return node, dir, name, 0
}

func (m *memFS) addEntry(parent *memNode, name string, n *memNode) experimentalsys.Errno {
	if m.entries >= maxOutputEntries {
		m.overflow = true
		return experimentalsys.EIO
	}
	m.entries++
	parent.children[name] = n
	return 0
}

func (n *memNode) stat() sys.Stat_t {
	st := sys.Stat_t{Ino: n.ino, Mode: n.mode, Nlink: 1, Size: int64(len(n.data))}
	if n.dir {
		st.Mode |= fs.ModeDir
		st.Size = 0
	}
	return st
}

// OpenFile implements experimentalsys.FS.
func (m *memFS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	m.mu.Lock()
	defer m.mu.Unlock()
	access := flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY)
	write := access != experimentalsys.O_RDONLY
	mutates := write || flag&(experimentalsys.O_CREAT|experimentalsys.O_TRUNC|experimentalsys.O_APPEND) != 0
	if m.readOnly && mutates {
		return nil, experimentalsys.EROFS
	}
	node, parent, name, errno := m.lookup(path)
	if errno != 0 {
		return nil, errno
	}
	switch {
	case node == nil && flag&experimentalsys.O_CREAT == 0:
		return nil, experimentalsys.ENOENT
	case node == nil:
		if flag&experimentalsys.O_DIRECTORY != 0 {
			return nil, experimentalsys.EINVAL
		}
		node = m.newNode(false, perm)
		if errno := m.addEntry(parent, name, node); errno != 0 {
			return nil, errno
		}
	case flag&(experimentalsys.O_CREAT|experimentalsys.O_EXCL) == experimentalsys.O_CREAT|experimentalsys.O_EXCL:
		return nil, experimentalsys.EEXIST
	case node.dir && write:
		return nil, experimentalsys.EISDIR
	case !node.dir && flag&experimentalsys.O_DIRECTORY != 0:
		return nil, experimentalsys.ENOTDIR
	case !node.dir && flag&experimentalsys.O_TRUNC != 0 && write:
		_ = m.charge(node, int64(len(node.data)), 0)
		node.data = node.data[:0]
	}
	f := &memFile{
		fs:       m,
		node:     node,
		readable: access != experimentalsys.O_WRONLY,
		writable: write,
		append:   flag&experimentalsys.O_APPEND != 0,
	}
	shim, errno := (&sysfs.AdaptFS{FS: shimFS{f}}).OpenFile(".", experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return nil, errno
	}
	f.File = shim
	return f, 0
}

// Stat implements experimentalsys.FS.
func (m *memFS) Stat(path string) (sys.Stat_t, experimentalsys.Errno) {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, _, _, errno := m.lookup(path)
	if errno != 0 {
		return sys.Stat_t{}, errno
	}
	if node == nil {
		return sys.Stat_t{}, experimentalsys.ENOENT
	}
	return node.stat(), 0
}

// Lstat implements experimentalsys.FS; there are no symlinks, so it is Stat.
func (m *memFS) Lstat(path string) (sys.Stat_t, experimentalsys.Errno) { return m.Stat(path) }

// Mkdir implements experimentalsys.FS.
func (m *memFS) Mkdir(path string, perm fs.FileMode) experimentalsys.Errno {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readOnly {
		return experimentalsys.EROFS
	}
	node, parent, name, errno := m.lookup(path)
	switch {
	case errno != 0:
		return errno
	case node != nil:
		return experimentalsys.EEXIST
	}
	return m.addEntry(parent, name, m.newNode(true, perm))
}

// Chmod implements experimentalsys.FS. Permission bits are recorded but not
// enforced: the guest is the only user.
func (m *memFS) Chmod(path string, perm fs.FileMode) experimentalsys.Errno {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readOnly {
		return experimentalsys.EROFS
	}
	node, _, _, errno := m.lookup(path)
	switch {
	case errno != 0:
		return errno
	case node == nil:
		return experimentalsys.ENOENT
	}
	node.mode = perm.Perm()
	return 0
}

// Rename implements experimentalsys.FS with POSIX rename semantics.
func (m *memFS) Rename(from, to string) experimentalsys.Errno {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readOnly {
		return experimentalsys.EROFS
	}
	src, srcParent, srcName, errno := m.lookup(from)
	if errno != 0 {
		return errno
	}
	if src == nil {
		return experimentalsys.ENOENT
	}
	if srcParent == nil {
		return experimentalsys.EINVAL
	}
	dst, dstParent, dstName, errno := m.lookup(to)
	if errno != 0 {
		return errno
	}
	if dstParent == nil {
		return experimentalsys.EINVAL
	}
	if src == dst {
		return 0
	}
	if src.dir && isAncestor(src, dstParent) {
		return experimentalsys.EINVAL // moving a directory into itself
	}
	if dst != nil {
		switch {
		case src.dir && !dst.dir:
			return experimentalsys.ENOTDIR
		case !src.dir && dst.dir:
			return experimentalsys.EISDIR
		case dst.dir && len(dst.children) > 0:
			return experimentalsys.ENOTEMPTY
		}
		m.unlink(dst)
	}
	delete(srcParent.children, srcName)
	dstParent.children[dstName] = src
	return 0
}

func isAncestor(a, b *memNode) bool {
	if a == b {
		return true
	}
	for _, c := range a.children {
		if c.dir && isAncestor(c, b) {
			return true
		}
	}
	return false
}

// unlink releases a removed node's bytes and entry from the budget.
func (m *memFS) unlink(n *memNode) {
	_ = m.charge(n, int64(len(n.data)), 0)
	n.unlinked = true
	m.entries--
}

// Rmdir implements experimentalsys.FS.
func (m *memFS) Rmdir(path string) experimentalsys.Errno {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readOnly {
		return experimentalsys.EROFS
	}
	node, parent, name, errno := m.lookup(path)
	switch {
	case errno != 0:
		return errno
	case node == nil:
		return experimentalsys.ENOENT
	case parent == nil:
		return experimentalsys.EINVAL
	case !node.dir:
		return experimentalsys.ENOTDIR
	case len(node.children) > 0:
		return experimentalsys.ENOTEMPTY
	}
	m.unlink(node)
	delete(parent.children, name)
	return 0
}

// Unlink implements experimentalsys.FS.
func (m *memFS) Unlink(path string) experimentalsys.Errno {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readOnly {
		return experimentalsys.EROFS
	}
	node, parent, name, errno := m.lookup(path)
	switch {
	case errno != 0:
		return errno
	case node == nil:
		return experimentalsys.ENOENT
	case node.dir:
		return experimentalsys.EISDIR
	}
	m.unlink(node)
	delete(parent.children, name)
	return 0
}

// Link implements experimentalsys.FS: hard links are not supported.
func (m *memFS) Link(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

// Symlink implements experimentalsys.FS: symlinks are not supported, so no
// path can ever lead outside the tree.
func (m *memFS) Symlink(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

// Readlink implements experimentalsys.FS: nothing is a link.
func (m *memFS) Readlink(path string) (string, experimentalsys.Errno) {
	if _, errno := m.Stat(path); errno != 0 {
		return "", errno
	}
	return "", experimentalsys.EINVAL
}

// Utimens implements experimentalsys.FS as a no-op: timestamps stay zero so
// they cannot carry the host clock into the results.
func (m *memFS) Utimens(path string, _, _ int64) experimentalsys.Errno {
	_, errno := m.Stat(path)
	return errno
}

// files returns every regular file under the root keyed by its slash path.
// The slices are not copied: the memFS is discarded after the run.
func (m *memFS) files() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	var walk func(prefix string, n *memNode)
	walk = func(prefix string, n *memNode) {
		for name, c := range n.children {
			p := prefix + name
			if c.dir {
				walk(p+"/", c)
			} else {
				out[p] = c.data[:len(c.data):len(c.data)]
			}
		}
	}
	walk("", m.root)
	return out
}

// memFile is an open file or directory of a memFS.
type memFile struct {
	// File provides only Seek (see seekShim); memFile defines every other method.
	experimentalsys.File

	fs       *memFS
	node     *memNode
	readable bool
	writable bool
	append   bool
	closed   bool
	offset   int64
	dirents  []experimentalsys.Dirent // directory listing since the last rewind
	dirPos   int
}

func (f *memFile) lock() experimentalsys.Errno {
	f.fs.mu.Lock()
	if f.closed {
		f.fs.mu.Unlock()
		return experimentalsys.EBADF
	}
	return 0
}

func (f *memFile) unlock() { f.fs.mu.Unlock() }

// Dev implements experimentalsys.File.
func (f *memFile) Dev() (uint64, experimentalsys.Errno) { return 0, 0 }

// Sync implements experimentalsys.File: there is nothing to flush.
func (f *memFile) Sync() experimentalsys.Errno { return 0 }

// Datasync implements experimentalsys.File: there is nothing to flush.
func (f *memFile) Datasync() experimentalsys.Errno { return 0 }

// Ino implements experimentalsys.File.
func (f *memFile) Ino() (sys.Inode, experimentalsys.Errno) { return f.node.ino, 0 }

// IsDir implements experimentalsys.File.
func (f *memFile) IsDir() (bool, experimentalsys.Errno) { return f.node.dir, 0 }

// IsAppend implements experimentalsys.File.
func (f *memFile) IsAppend() bool { return f.append }

// SetAppend implements experimentalsys.File.
func (f *memFile) SetAppend(enable bool) experimentalsys.Errno {
	if f.node.dir {
		return experimentalsys.EISDIR
	}
	f.append = enable
	return 0
}

// Stat implements experimentalsys.File.
func (f *memFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return sys.Stat_t{}, errno
	}
	defer f.unlock()
	return f.node.stat(), 0
}

// Read implements experimentalsys.File.
func (f *memFile) Read(buf []byte) (int, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return 0, errno
	}
	defer f.unlock()
	n, errno := f.pread(buf, f.offset)
	f.offset += int64(n)
	return n, errno
}

// Pread implements experimentalsys.File.
func (f *memFile) Pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return 0, errno
	}
	defer f.unlock()
	return f.pread(buf, off)
}

func (f *memFile) pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	switch {
	case f.node.dir:
		return 0, experimentalsys.EISDIR
	case !f.readable:
		return 0, experimentalsys.EBADF
	case off < 0:
		return 0, experimentalsys.EINVAL
	case off >= int64(len(f.node.data)):
		return 0, 0 // EOF
	}
	return copy(buf, f.node.data[off:]), 0
}

// seek is memFile's Seek; see seekShim for why it is not called Seek. On a
// directory only a rewind to the start is meaningful: wazero uses it to
// restart fd_readdir.
func (f *memFile) seek(offset int64, whence int) (int64, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return 0, errno
	}
	defer f.unlock()
	if f.node.dir {
		if offset != 0 || whence != io.SeekStart {
			return 0, experimentalsys.EISDIR
		}
		f.dirents, f.dirPos = nil, 0
		return 0, 0
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.offset
	case io.SeekEnd:
		base = int64(len(f.node.data))
	default:
		return 0, experimentalsys.EINVAL
	}
	next := base + offset
	if next < 0 {
		return 0, experimentalsys.EINVAL
	}
	f.offset = next
	return next, 0
}

// Readdir implements experimentalsys.File, listing entries in name order.
func (f *memFile) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return nil, errno
	}
	defer f.unlock()
	if !f.node.dir {
		return nil, experimentalsys.EBADF
	}
	if f.dirents == nil { // snapshot at the first read after open or rewind
		f.dirents = []experimentalsys.Dirent{}
		for _, name := range slices.Sorted(maps.Keys(f.node.children)) {
			c := f.node.children[name]
			var typ fs.FileMode
			if c.dir {
				typ = fs.ModeDir
			}
			f.dirents = append(f.dirents, experimentalsys.Dirent{Ino: c.ino, Name: name, Type: typ})
		}
	}
	rest := f.dirents[f.dirPos:]
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	f.dirPos += len(rest)
	return rest, 0
}

// Write implements experimentalsys.File.
func (f *memFile) Write(buf []byte) (int, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return 0, errno
	}
	defer f.unlock()
	if f.append {
		f.offset = int64(len(f.node.data))
	}
	n, errno := f.pwrite(buf, f.offset)
	f.offset += int64(n)
	return n, errno
}

// Pwrite implements experimentalsys.File.
func (f *memFile) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if errno := f.lock(); errno != 0 {
		return 0, errno
	}
	defer f.unlock()
	return f.pwrite(buf, off)
}

func (f *memFile) pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	switch {
	case f.node.dir:
		return 0, experimentalsys.EISDIR
	case !f.writable:
		return 0, experimentalsys.EBADF
	case off < 0:
		return 0, experimentalsys.EINVAL
	case len(buf) == 0:
		return 0, 0
	}
	end := off + int64(len(buf))
	if end > int64(len(f.node.data)) {
		// Checked before allocating, so a write far past the end cannot make
		// the host allocate more than the budget allows.
		if errno := f.fs.charge(f.node, int64(len(f.node.data)), end); errno != 0 {
			return 0, errno
		}
		f.node.data = resize(f.node.data, end)
	}
	return copy(f.node.data[off:], buf), 0
}

// resize returns data with length size, zero-filling any growth.
func resize(data []byte, size int64) []byte {
	if size <= int64(len(data)) {
		return data[:size]
	}
	if size <= int64(cap(data)) {
		old := len(data)
		data = data[:size]
		clear(data[old:]) // bytes past len may hold data from before a truncate
		return data
	}
	return append(data, make([]byte, size-int64(len(data)))...)
}

// Truncate implements experimentalsys.File.
func (f *memFile) Truncate(size int64) experimentalsys.Errno {
	if errno := f.lock(); errno != 0 {
		return errno
	}
	defer f.unlock()
	switch {
	case f.node.dir:
		return experimentalsys.EISDIR
	case !f.writable || size < 0:
		return experimentalsys.EINVAL
	}
	if errno := f.fs.charge(f.node, int64(len(f.node.data)), size); errno != 0 {
		return errno
	}
	f.node.data = resize(f.node.data, size)
	return 0
}

// Utimens implements experimentalsys.File as a no-op; see memFS.Utimens.
func (f *memFile) Utimens(int64, int64) experimentalsys.Errno { return 0 }

// Close implements experimentalsys.File.
func (f *memFile) Close() experimentalsys.Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.closed = true
	return 0
}

// seekShim gives memFile its Seek method. wazero's File.Seek returns
// experimentalsys.Errno, and go vet's stdmethods check rejects any method
// named Seek that does not have io.Seeker's signature. So memFile embeds a
// File made by wazero's own fs.FS adapter, whose Seek calls this io.Seeker,
// which calls memFile.seek. The shim always stats as a regular file so the
// adapter never handles a rewind itself.
type seekShim struct{ f *memFile }

func (s seekShim) Seek(offset int64, whence int) (int64, error) {
	n, errno := s.f.seek(offset, whence)
	if errno != 0 {
		return n, errno
	}
	return n, nil
}

func (seekShim) Stat() (fs.FileInfo, error) { return shimInfo{}, nil }
func (seekShim) Read([]byte) (int, error)   { return 0, io.EOF }
func (seekShim) Close() error               { return nil }

type shimFS struct{ f *memFile }

func (s shimFS) Open(string) (fs.File, error) { return seekShim(s), nil }

type shimInfo struct{}

func (shimInfo) Name() string       { return "" }
func (shimInfo) Size() int64        { return 0 }
func (shimInfo) Mode() fs.FileMode  { return 0 }
func (shimInfo) ModTime() time.Time { return time.Time{} }
func (shimInfo) IsDir() bool        { return false }
func (shimInfo) Sys() any           { return nil }
