package node

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/multiformats/go-multihash"

	"github.com/tenun-chain/tenun/chain"
)

// BlobStore keeps blobs on the node's disk, one file per CID. Content is
// streamed to a temporary file while it is hashed, and renamed into place
// only when it hashes to the CID the uploader signed, so a crash never
// leaves a partial blob under a CID and no upload is held in memory; every
// read re-hashes the file. Uploads are bounded in number at once and in
// bytes per account while no transaction has registered them, and a
// sweep removes what stays unregistered past a grace period.
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

// ErrBlobNotFound is returned for a CID the node does not hold.
var ErrBlobNotFound = errors.New("blob not found on this node")

// ErrUploadsBusy is returned when MaxConcurrentUploads are in progress.
var ErrUploadsBusy = errors.New("too many uploads in progress; retry shortly")

// OpenBlobStore opens (or creates) the blob directory.
func OpenBlobStore(dir string) (*BlobStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &BlobStore{dir: dir, slots: make(chan struct{}, MaxConcurrentUploads), pending: map[string]pendingBlob{}}, nil
}

func (s *BlobStore) path(c string) string { return filepath.Join(s.dir, c) }

// Put stores content and returns its CID.
func (s *BlobStore) Put(content []byte) (string, error) {
	c := chain.BlobCID(content)
	return c, s.PutStream(strings.NewReader(string(content)), c, int64(len(content)))
}

// PutStream stores exactly size bytes read from r under want, refusing
// content that is longer or shorter or hashes to another CID. It streams
// to disk; memory use does not grow with size.
func (s *BlobStore) PutStream(r io.Reader, want string, size int64) error {
	if _, err := chain.ParseBlobCID(want); err != nil {
		return err
	}
	if s.Has(want) {
		_, err := io.Copy(io.Discard, io.LimitReader(r, size))
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".put-*")
	if err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	if n != size {
		return fmt.Errorf("blob is %d bytes, the upload declared %d: %w", n, size, ErrBlobSize)
	}
	if got := cidOfSum(h.Sum(nil)); got != want {
		return fmt.Errorf("content hashes to %s, the upload named %s: %w", got, want, ErrBlobMismatch)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path(want)); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	return nil
}

// ErrBlobSize and ErrBlobMismatch say an upload is not what it claimed.
var (
	ErrBlobSize     = errors.New("blob size differs from the declared size")
	ErrBlobMismatch = errors.New("blob content does not match its CID")
)

func cidOfSum(sum []byte) string {
	m, err := multihash.Encode(sum, multihash.SHA2_256)
	if err != nil {
		panic(err) // a 32-byte sha2-256 digest always encodes
	}
	return chain.BlobCIDFromMultihash(m)
}

// PutReader stores at most limit bytes read from r.
func (s *BlobStore) PutReader(r io.Reader, limit int64) (string, int64, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return "", 0, fmt.Errorf("read blob: %w", err)
	}
	if int64(len(b)) > limit {
		return "", 0, fmt.Errorf("blob larger than the %d byte limit", limit)
	}
	c, err := s.Put(b)
	return c, int64(len(b)), err
}

// Get returns the content of c after checking it still hashes to c.
func (s *BlobStore) Get(c string) ([]byte, error) {
	if _, err := chain.ParseBlobCID(c); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(c))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", c, ErrBlobNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", c, err)
	}
	if err := chain.VerifyBlob(c, b); err != nil {
		return nil, fmt.Errorf("integrity check failed: %w", err)
	}
	return b, nil
}

// Open returns c's file, positioned at the start, after checking (by
// streaming, not loading) that it still hashes to c.
func (s *BlobStore) Open(c string) (*os.File, int64, error) {
	if _, err := chain.ParseBlobCID(c); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(s.path(c))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: %w", c, ErrBlobNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read blob %s: %w", c, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil {
		if got := cidOfSum(h.Sum(nil)); got != c {
			err = fmt.Errorf("integrity check failed: blob %s: content hashes to %s", c, got)
		}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
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
// and stale temporary files. It returns how many files it removed.
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
		if !strings.HasPrefix(name, ".put-") {
			if _, err := chain.ParseBlobCID(name); err != nil || registered(name) {
				continue
			}
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
