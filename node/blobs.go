package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/atomicfile"
)

// BlobStore keeps blobs on the node's disk, one file per CID holding the
// file's bytes. A CID is either a raw block (the sha2-256 of the whole
// content: small files, and what consensus names, such as a job's results)
// or the dag-pb root of a UnixFS file, the CID `ipfs add --cid-version 1
// --raw-leaves` gives a file over one chunk. Beside a UnixFS file the store
// keeps its index (its internal DAG nodes, a small CAR file), so every read
// checks exactly the 256 KiB chunks it touches against their leaf CIDs: a
// range of a 2 GB file costs a chunk, not the file.
//
// Uploads stream to a partial file while they are hashed (or chunked and
// hashed), and are renamed into place only when the content is what the
// uploader signed, so a crash never leaves a partial blob under a CID and no
// upload is held in memory. A partial upload is kept, per uploader and CID,
// so a broken transfer resumes where it stopped. Uploads are bounded in
// number at once and in bytes per account while no transaction has
// registered them, and a sweep removes what stays unregistered past a grace
// period.
type BlobStore struct {
	dir   string
	slots chan struct{} // one per upload in progress

	mu      sync.Mutex
	pending map[string]pendingBlob // uploaded (or uploading), not yet seen registered
}

type pendingBlob struct {
	owner chain.Address
	size  int64
	at    time.Time
}

// MaxConcurrentUploads bounds uploads in progress on one node.
const MaxConcurrentUploads = 4

// Names in the blob directory besides the blobs themselves.
const (
	indexSuffix = ".index.car" // a UnixFS blob's internal nodes
	partPrefix  = ".part-"     // a partial upload: .part-<cid>-<uploader>
	tmpPrefix   = ".put-"      // a file being written (older stores too)
)

var (
	// ErrBlobNotFound is returned for a CID the node does not hold.
	ErrBlobNotFound = errors.New("blob not found on this node")
	// ErrUploadsBusy is returned when MaxConcurrentUploads are in progress.
	ErrUploadsBusy = errors.New("too many uploads in progress; retry shortly")
	// ErrBlobSize and ErrBlobMismatch say an upload is not what it claimed.
	ErrBlobSize     = errors.New("blob size differs from the declared size")
	ErrBlobMismatch = errors.New("blob content does not match its CID")
	// ErrUploadOffset is returned when a resumed upload does not start
	// where the node's partial copy ends.
	ErrUploadOffset = errors.New("upload offset is not where the partial upload ends")
)

// An IncompleteError says an upload stopped before its declared size; the
// node keeps the Have bytes it received, and the upload resumes there.
type IncompleteError struct{ Have, Size int64 }

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("upload incomplete: %d of %d bytes received; resume at offset %d", e.Have, e.Size, e.Have)
}

// OpenBlobStore opens (or creates) the blob directory.
func OpenBlobStore(dir string) (*BlobStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &BlobStore{dir: dir, slots: make(chan struct{}, MaxConcurrentUploads), pending: map[string]pendingBlob{}}, nil
}

func (s *BlobStore) path(c string) string      { return filepath.Join(s.dir, c) }
func (s *BlobStore) indexPath(c string) string { return filepath.Join(s.dir, c+indexSuffix) }
func (s *BlobStore) partPath(c string, owner chain.Address) string {
	return filepath.Join(s.dir, partPrefix+c+"-"+owner.String())
}

// Put stores content under its raw CID (chain.BlobCID: what consensus
// computes for content it names) and returns the CID.
func (s *BlobStore) Put(content []byte) (string, error) {
	c := chain.BlobCID(content)
	return c, s.PutStream(bytes.NewReader(content), c, int64(len(content)))
}

// PutStream stores exactly size bytes read from r under want, refusing
// content that is longer or shorter or is not what want names. It streams
// to disk; memory use does not grow with size.
func (s *BlobStore) PutStream(r io.Reader, want string, size int64) error {
	return s.Upload(r, want, chain.Address{}, size, 0)
}

// Offset is how many bytes of want's upload by owner the node holds.
func (s *BlobStore) Offset(want string, owner chain.Address) int64 {
	if st, err := os.Stat(s.partPath(want, owner)); err == nil {
		return st.Size()
	}
	return 0
}

// Upload writes the bytes from offset on of want's content (size bytes in
// all) read from r, after the offset bytes owner uploaded before. Offset 0
// starts afresh. When the content is complete it is checked against want
// in one pass (the earlier part read back from disk, the rest as it
// arrives) and moved into place; a transfer that stops short keeps what
// arrived and returns an *IncompleteError.
func (s *BlobStore) Upload(r io.Reader, want string, owner chain.Address, size, offset int64) error {
	c, err := chain.ParseBlobCID(want)
	if err != nil {
		return err
	}
	if offset < 0 || offset > size {
		return fmt.Errorf("offset %d of a %d byte blob: %w", offset, size, ErrUploadOffset)
	}
	if s.Has(want) {
		_, err := io.Copy(io.Discard, io.LimitReader(r, size-offset))
		return err
	}
	var f *os.File
	if owner == (chain.Address{}) {
		// The node's own content: a fresh temporary file, never resumed.
		if offset != 0 {
			return fmt.Errorf("the node's own uploads do not resume: %w", ErrUploadOffset)
		}
		f, err = os.CreateTemp(s.dir, tmpPrefix+"*")
	} else {
		flags := os.O_RDWR | os.O_CREATE
		if offset == 0 {
			flags |= os.O_TRUNC
		}
		f, err = os.OpenFile(s.partPath(want, owner), flags, 0o644)
	}
	if err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	part := f.Name()
	defer f.Close()
	if owner == (chain.Address{}) {
		defer os.Remove(part) // gone once renamed; removed if the upload failed
	}
	if st, err := f.Stat(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	} else if st.Size() != offset {
		return fmt.Errorf("the node holds %d bytes of this upload, the request starts at %d: %w", st.Size(), offset, ErrUploadOffset)
	}
	body := io.TeeReader(io.LimitReader(r, size-offset), io.NewOffsetWriter(f, offset))
	content := io.MultiReader(io.NewSectionReader(f, 0, offset), body)
	got, n, index, err := identify(c, content)
	if n < size {
		// The transfer stopped: keep what arrived (it is on disk up to
		// the bytes read) for a resume.
		if serr := f.Sync(); serr != nil {
			return fmt.Errorf("store blob: %w", serr)
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("read blob: %w (%w)", err, &IncompleteError{Have: n, Size: size})
		}
		return &IncompleteError{Have: n, Size: size}
	}
	if err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	var extra [1]byte
	if k, _ := r.Read(extra[:]); k > 0 {
		os.Remove(part)
		return fmt.Errorf("blob is longer than the %d bytes declared: %w", size, ErrBlobSize)
	}
	if got != c {
		os.Remove(part)
		return fmt.Errorf("content is %s, the upload named %s: %w", got, want, ErrBlobMismatch)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if index != nil {
		// The index lands first: a blob is present once its content is.
		if err := atomicfile.WriteFile(s.indexPath(want), index, 0o644); err != nil {
			return fmt.Errorf("store blob index: %w", err)
		}
	}
	if err := os.Rename(part, s.path(want)); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	return nil
}

// identify reads content to its end and returns the CID of the kind want
// is (raw: the sha2-256 of all of it; dag-pb: the UnixFS root), how many
// bytes it read, and for a UnixFS file its encoded index.
func identify(want cid.Cid, content io.Reader) (cid.Cid, int64, []byte, error) {
	if want.Type() == cid.Raw {
		got, n, err := blob.RawCID(content)
		return got, n, nil, err
	}
	var nodes blob.Collector
	root, n, err := blob.Import(context.Background(), content, &nodes)
	if err != nil || root.Type() != cid.DagProtobuf {
		return root, n, nil, err
	}
	var buf bytes.Buffer
	if err := blob.WriteIndex(&buf, root, nodes.Nodes); err != nil {
		return root, n, nil, err
	}
	return root, n, buf.Bytes(), nil
}

// A BlobReader reads a stored blob, checking it against its CID: a UnixFS
// blob chunk by chunk as it is read (so a range checks only what it
// overlaps), a raw blob whole before the first byte. It seeks, so
// http.ServeContent answers range requests from it.
type BlobReader struct {
	io.ReadSeeker
	f    *os.File
	size int64
	// Index describes a UnixFS blob (Root is cid.Undef for a raw one).
	Index blob.Index
}

// Size is the blob's size in bytes.
func (b *BlobReader) Size() int64 { return b.size }

// Close closes the blob's file.
func (b *BlobReader) Close() error { return b.f.Close() }

// Open returns a reader of c. A raw blob is checked whole first (streaming,
// not loading); a UnixFS blob's index is checked, and each chunk as it is
// read.
func (s *BlobStore) Open(c string) (*BlobReader, error) {
	parsed, err := chain.ParseBlobCID(c)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(c))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", c, ErrBlobNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", c, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read blob %s: %w", c, err)
	}
	if parsed.Type() == cid.DagProtobuf {
		ix, err := s.readIndex(parsed)
		if err == nil && ix.Size != st.Size() {
			err = fmt.Errorf("integrity check failed: blob %s: the file holds %d bytes, its DAG %d", c, st.Size(), ix.Size)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return &BlobReader{ReadSeeker: blob.NewReader(f, ix), f: f, size: ix.Size, Index: ix}, nil
	}
	got, n, _, err := identify(parsed, f)
	if err == nil && got != parsed {
		err = fmt.Errorf("integrity check failed: blob %s: content hashes to %s", c, got)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &BlobReader{ReadSeeker: f, f: f, size: n}, nil
}

func (s *BlobStore) readIndex(c cid.Cid) (blob.Index, error) {
	f, err := os.Open(s.indexPath(c.String()))
	if err != nil {
		return blob.Index{}, fmt.Errorf("integrity check failed: blob %s: its DAG index: %w", c, err)
	}
	defer f.Close()
	ix, err := blob.ReadIndex(f)
	if err == nil && ix.Root != c {
		err = fmt.Errorf("the index is of %s", ix.Root)
	}
	if err != nil {
		return blob.Index{}, fmt.Errorf("integrity check failed: blob %s: %w", c, err)
	}
	return ix, nil
}

// Get returns the content of c after checking it against c.
func (s *BlobStore) Get(c string) ([]byte, error) {
	r, err := s.Open(c)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := make([]byte, r.Size())
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", c, err)
	}
	return b, nil
}

// Has reports whether the node holds c.
func (s *BlobStore) Has(c string) bool {
	_, err := os.Stat(s.path(c))
	return err == nil
}

// Acquire takes an upload slot; release it when the upload ends.
func (s *BlobStore) Acquire() (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	default:
		return nil, ErrUploadsBusy
	}
}

// Reserve counts an upload of size bytes against owner's unregistered
// bytes, after check approves the total owner would then have pending
// (registered reports content the chain knows, which no longer counts).
// Cancel undoes the reservation of an upload that failed.
func (s *BlobStore) Reserve(owner chain.Address, c string, size int64, now time.Time, registered func(string) bool, check func(pending int64) error) (cancel func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	for pc, p := range s.pending { // a sum: order does not matter
		if registered(pc) {
			delete(s.pending, pc)
			continue
		}
		if p.owner == owner && pc != c {
			total += p.size
		}
	}
	if err := check(total + size); err != nil {
		return nil, err
	}
	prev, had := s.pending[c]
	s.pending[c] = pendingBlob{owner: owner, size: size, at: now}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if had {
			s.pending[c] = prev
		} else {
			delete(s.pending, c)
		}
	}, nil
}

// Sweep removes blobs no transaction has registered that are older than
// grace (by file time, so it also covers uploads from before a restart),
// partial uploads untouched for grace, stale temporary files and indexes
// whose blob is gone. It returns how many files it removed.
func (s *BlobStore) Sweep(registered func(string) bool, grace time.Duration, now time.Time) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("sweep blobs: %w", err)
	}
	removed := 0
	for _, e := range entries {
		name := e.Name()
		info, err := e.Info()
		if err != nil || info.IsDir() || now.Sub(info.ModTime()) < grace {
			continue
		}
		switch {
		case strings.HasPrefix(name, tmpPrefix), strings.HasPrefix(name, partPrefix), strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-"):
		case strings.HasSuffix(name, indexSuffix):
			c := strings.TrimSuffix(name, indexSuffix)
			if _, err := chain.ParseBlobCID(c); err != nil || s.Has(c) {
				continue
			}
		default:
			if _, err := chain.ParseBlobCID(name); err != nil || registered(name) {
				continue
			}
			os.Remove(s.indexPath(name)) // a UnixFS blob's index goes with it
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err == nil {
			removed++
		}
	}
	s.mu.Lock()
	for c, p := range s.pending {
		if registered(c) || (now.Sub(p.at) >= grace && !s.Has(c)) {
			delete(s.pending, c)
		}
	}
	s.mu.Unlock()
	return removed, nil
}
