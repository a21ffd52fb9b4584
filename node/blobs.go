package node

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/atomicfile"
)

// BlobStore keeps blobs on the node's disk, one file per CID. Content is
// written to a temporary file and renamed into place, so a crash never
// leaves a partial blob under a CID, and it is re-hashed on every read.
type BlobStore struct {
	dir string
}

// ErrBlobNotFound is returned for a CID the node does not hold.
var ErrBlobNotFound = errors.New("blob not found on this node")

// OpenBlobStore opens (or creates) the blob directory.
func OpenBlobStore(dir string) (*BlobStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &BlobStore{dir: dir}, nil
}

func (s *BlobStore) path(c string) string { return filepath.Join(s.dir, c) }

// Put stores content and returns its CID.
func (s *BlobStore) Put(content []byte) (string, error) {
	c := chain.BlobCID(content)
	if _, err := os.Stat(s.path(c)); err == nil {
		return c, nil
	}
	if err := atomicfile.WriteFile(s.path(c), content, 0o644); err != nil {
		return "", fmt.Errorf("store blob: %w", err)
	}
	return c, nil
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

// Has reports whether the node holds c.
func (s *BlobStore) Has(c string) bool {
	_, err := os.Stat(s.path(c))
	return err == nil
}
