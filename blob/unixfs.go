// Package blob computes, stores and moves files the way IPFS does: a file
// is cut into 256 KiB chunks (raw leaves), linked by a balanced tree of
// dag-pb UnixFS nodes, and named by the CIDv1 of its root, the CID that
// `ipfs add --cid-version 1 --raw-leaves` prints. A file of one chunk or
// less is a single raw block, so its CID is Tenun's chain.BlobCID of its
// bytes. The IPFS project's libraries do the work (boxo's chunker and
// UnixFS importer and reader, go-car for CAR files); this package streams
// with memory bounded by a chunk and the tree's open nodes, never the file.
//
// Nothing here runs in consensus.
package blob

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// ChunkSize is the chunker's size (boxo's and kubo's default, size-262144).
var ChunkSize = chunker.DefaultBlockSize

// Builder is the CID builder of every node: CIDv1, sha2-256 (leaves are
// raw blocks; inner nodes dag-pb).
var Builder = cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256}

// Import chunks r into a UnixFS file DAG and hands every block to dag (a
// CAR writer, a block store; nil: blocks are dropped and only the CID is
// computed). It returns the root CID and the file's size.
func Import(ctx context.Context, r io.Reader, dag ipld.DAGService) (cid.Cid, int64, error) {
	counting := &countingReader{r: r}
	if dag == nil {
		dag = discard{}
	}
	p := ihelper.DagBuilderParams{Maxlinks: ihelper.DefaultLinksPerBlock, RawLeaves: true, CidBuilder: Builder, Dagserv: dag}
	db, err := p.New(chunker.NewSizeSplitter(counting, ChunkSize))
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("unixfs import: %w", err)
	}
	n, err := balanced.Layout(db)
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("unixfs import: %w", err)
	}
	if counting.err != nil {
		return cid.Undef, 0, counting.err
	}
	return n.Cid(), counting.n, nil
}

// CID is the IPFS CID of r's bytes (ipfs add --cid-version 1 --raw-leaves).
func CID(r io.Reader) (cid.Cid, int64, error) { return Import(context.Background(), r, nil) }

// RawCID is the CID of r's bytes as one raw block, whatever their size:
// the sha2-256 of all of them (chain.BlobCID's), streaming.
func RawCID(r io.Reader) (cid.Cid, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return cid.Undef, n, err
	}
	m, err := mh.Encode(h.Sum(nil), mh.SHA2_256)
	if err != nil {
		return cid.Undef, n, err
	}
	return cid.NewCidV1(cid.Raw, m), n, nil
}

// CIDAs is the CID of r's bytes in the kind like names: RawCID for a raw
// CID, the UnixFS root (CID) for a dag-pb one.
func CIDAs(like cid.Cid, r io.Reader) (cid.Cid, int64, error) {
	if like.Type() == cid.Raw {
		return RawCID(r)
	}
	return CID(r)
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error // a read error other than EOF: the chunker would stop silently
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// discard is a DAG service that keeps nothing: CID computation only.
type discard struct{}

func (discard) Get(context.Context, cid.Cid) (ipld.Node, error) {
	return nil, ipld.ErrNotFound{}
}
func (discard) GetMany(context.Context, []cid.Cid) <-chan *ipld.NodeOption {
	ch := make(chan *ipld.NodeOption)
	close(ch)
	return ch
}
func (discard) Add(context.Context, ipld.Node) error        { return nil }
func (discard) AddMany(context.Context, []ipld.Node) error  { return nil }
func (discard) Remove(context.Context, cid.Cid) error       { return nil }
func (discard) RemoveMany(context.Context, []cid.Cid) error { return nil }
