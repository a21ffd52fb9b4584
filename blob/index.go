package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	mh "github.com/multiformats/go-multihash"
)

// An Index is what a store keeps beside a file to check it chunk by chunk:
// the file's DAG root, its size, and the sha2-256 of every raw leaf, in
// order. Leaves are all Chunk bytes but the last, which is 1 to Chunk
// bytes (what the size splitter makes), so chunk i starts at i*Chunk.
type Index struct {
	Root   cid.Cid
	Size   int64
	Chunk  int64
	Leaves [][32]byte
}

// ErrChunkMismatch is returned when a chunk read back does not hash to its
// leaf CID.
var ErrChunkMismatch = errors.New("chunk does not hash to its leaf CID")

// ErrBadIndex is returned for an index that does not describe a UnixFS
// file of uniform raw leaves.
var ErrBadIndex = errors.New("bad DAG index")

// MaxIndexBytes bounds an encoded index (the internal nodes of a 64 GiB
// file take about 2 MiB).
const MaxIndexBytes = 64 << 20

// maxDepth bounds the tree's depth (a balanced tree of 174 links per node is
// 5 levels deep at 2^50 bytes).
const maxDepth = 12

// Leaf returns chunk i's offset and length.
func (ix Index) Leaf(i int) (off, n int64) {
	off = int64(i) * ix.Chunk
	return off, min(ix.Chunk, ix.Size-off)
}

// SingleBlock is the index of a file stored as one raw block named c (its
// multihash the sha2-256 of all size bytes).
func SingleBlock(c cid.Cid, size int64) (Index, error) {
	d, err := rawDigest(c)
	if err != nil {
		return Index{}, err
	}
	return Index{Root: c, Size: size, Chunk: max(size, 1), Leaves: [][32]byte{d}}, nil
}

func rawDigest(c cid.Cid) ([32]byte, error) {
	var d [32]byte
	if c.Version() != 1 || c.Type() != cid.Raw {
		return d, fmt.Errorf("%w: leaf %s is not a CIDv1 raw block", ErrBadIndex, c)
	}
	dec, err := mh.Decode(c.Hash())
	if err != nil || dec.Code != mh.SHA2_256 || len(dec.Digest) != 32 {
		return d, fmt.Errorf("%w: leaf %s is not sha2-256", ErrBadIndex, c)
	}
	copy(d[:], dec.Digest)
	return d, nil
}

// Collector is a DAG service for Import that keeps the file's internal
// (dag-pb) nodes and drops its raw leaves, which the caller stores as the
// file itself. The nodes are small: about 8 KiB per 174 chunks (44 MiB).
type Collector struct{ Nodes []ipld.Node }

func (c *Collector) Add(_ context.Context, n ipld.Node) error {
	if n.Cid().Type() == cid.DagProtobuf {
		c.Nodes = append(c.Nodes, n)
	}
	return nil
}
func (c *Collector) AddMany(ctx context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		c.Add(ctx, n)
	}
	return nil
}
func (*Collector) Get(context.Context, cid.Cid) (ipld.Node, error) { return nil, ipld.ErrNotFound{} }
func (*Collector) GetMany(context.Context, []cid.Cid) <-chan *ipld.NodeOption {
	return discard{}.GetMany(nil, nil)
}
func (*Collector) Remove(context.Context, cid.Cid) error       { return nil }
func (*Collector) RemoveMany(context.Context, []cid.Cid) error { return nil }

// NewIndex builds the index of a file from its root and the internal nodes
// Import gave a Collector. A raw root is a single block of size bytes.
func NewIndex(root cid.Cid, size int64, nodes []ipld.Node) (Index, error) {
	if root.Type() == cid.Raw {
		return SingleBlock(root, size)
	}
	blocks := make(map[string][]byte, len(nodes))
	for _, n := range nodes {
		blocks[n.Cid().KeyString()] = n.RawData()
	}
	ix, err := walk(root, blocks)
	if err == nil && ix.Size != size {
		err = fmt.Errorf("%w: the DAG holds %d bytes, the file %d", ErrBadIndex, ix.Size, size)
	}
	return ix, err
}

// WriteIndex writes a file's internal nodes as a CARv1 whose root is the
// file's root: a small, standard file (any CAR tool reads it).
func WriteIndex(w io.Writer, root cid.Cid, nodes []ipld.Node) error {
	car, err := storage.NewWritable(w, []cid.Cid{root}, carv2.WriteAsCarV1(true))
	if err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	for _, n := range nodes {
		if err := car.Put(context.Background(), n.Cid().KeyString(), n.RawData()); err != nil {
			return fmt.Errorf("write index: %w", err)
		}
	}
	return car.Finalize()
}

// ReadIndex decodes what WriteIndex wrote, checking every node against its
// CID and the tree's shape (a UnixFS file of uniform raw leaves, sizes
// summing up at every level).
func ReadIndex(r io.Reader) (Index, error) {
	lr := &io.LimitedReader{R: r, N: MaxIndexBytes + 1}
	br, err := carv2.NewBlockReader(lr)
	if err != nil {
		return Index{}, fmt.Errorf("%w: %v", ErrBadIndex, err)
	}
	if len(br.Roots) != 1 || br.Roots[0].Type() != cid.DagProtobuf {
		return Index{}, fmt.Errorf("%w: want one dag-pb root, have %d roots", ErrBadIndex, len(br.Roots))
	}
	blocks := map[string][]byte{}
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Index{}, fmt.Errorf("%w: %v", ErrBadIndex, err)
		}
		if lr.N <= 0 {
			return Index{}, fmt.Errorf("%w: over %d bytes", ErrBadIndex, MaxIndexBytes)
		}
		c := b.Cid()
		if c.Type() != cid.DagProtobuf {
			return Index{}, fmt.Errorf("%w: block %s is not dag-pb", ErrBadIndex, c)
		}
		sum, err := c.Prefix().Sum(b.RawData())
		if err != nil || !sum.Equals(c) {
			return Index{}, fmt.Errorf("%w: block %s does not hash to its CID", ErrBadIndex, c)
		}
		blocks[c.KeyString()] = b.RawData()
	}
	return walk(br.Roots[0], blocks)
}

// walk collects the leaves under root, checking the tree's shape.
func walk(root cid.Cid, blocks map[string][]byte) (Index, error) {
	if err := checkPrefix(root); err != nil {
		return Index{}, err
	}
	ix := Index{Root: root}
	var leafSizes []int64
	var visit func(c cid.Cid, want uint64, depth int) error
	visit = func(c cid.Cid, want uint64, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("%w: deeper than %d levels", ErrBadIndex, maxDepth)
		}
		data, ok := blocks[c.KeyString()]
		if !ok {
			return fmt.Errorf("%w: node %s missing", ErrBadIndex, c)
		}
		pn, err := merkledag.DecodeProtobuf(data)
		if err != nil {
			return fmt.Errorf("%w: node %s: %v", ErrBadIndex, c, err)
		}
		fs, err := unixfs.FSNodeFromBytes(pn.Data())
		if err != nil {
			return fmt.Errorf("%w: node %s: %v", ErrBadIndex, c, err)
		}
		links := pn.Links()
		if fs.Type() != unixfs.TFile || len(fs.Data()) != 0 || len(links) == 0 || len(links) != fs.NumChildren() {
			return fmt.Errorf("%w: node %s is not a UnixFS file node of raw leaves", ErrBadIndex, c)
		}
		if want != 0 && fs.FileSize() != want {
			return fmt.Errorf("%w: node %s holds %d bytes, its parent says %d", ErrBadIndex, c, fs.FileSize(), want)
		}
		var sum uint64
		for i, l := range links {
			bs := fs.BlockSize(i)
			if bs == 0 || bs > 1<<50 || sum+bs < sum {
				return fmt.Errorf("%w: node %s: child %d of %d bytes", ErrBadIndex, c, i, bs)
			}
			sum += bs
			if err := checkPrefix(l.Cid); err != nil {
				return err
			}
			if l.Cid.Type() == cid.Raw {
				d, err := rawDigest(l.Cid)
				if err != nil {
					return err
				}
				ix.Leaves = append(ix.Leaves, d)
				leafSizes = append(leafSizes, int64(bs))
				continue
			}
			if err := visit(l.Cid, bs, depth+1); err != nil {
				return err
			}
		}
		if sum != fs.FileSize() {
			return fmt.Errorf("%w: node %s: children hold %d bytes, the node says %d", ErrBadIndex, c, sum, fs.FileSize())
		}
		return nil
	}
	if err := visit(root, 0, 0); err != nil {
		return Index{}, err
	}
	ix.Chunk = leafSizes[0]
	for i, n := range leafSizes {
		last := i == len(leafSizes)-1
		if (!last && n != ix.Chunk) || n > ix.Chunk {
			return Index{}, fmt.Errorf("%w: leaf %d is %d bytes, the chunk size is %d", ErrBadIndex, i, n, ix.Chunk)
		}
		ix.Size += n
	}
	return ix, nil
}

func checkPrefix(c cid.Cid) error {
	p := c.Prefix()
	if p.Version != 1 || p.MhType != mh.SHA2_256 || (p.Codec != cid.Raw && p.Codec != cid.DagProtobuf) {
		return fmt.Errorf("%w: %s is not a CIDv1 sha2-256 raw or dag-pb block", ErrBadIndex, c)
	}
	return nil
}

// Reader reads a stored file through its index: each chunk is read whole
// and checked against its leaf before any of its bytes are returned, so a
// read of any range checks exactly the chunks it overlaps. It holds one
// chunk in memory. It is an io.ReadSeeker (http.ServeContent serves ranges
// from it).
type Reader struct {
	ra   io.ReaderAt
	ix   Index
	pos  int64
	cur  int // chunk in buf, -1 none
	buf  []byte
	Name string // for errors
}

// NewReader reads the file ra holds as ix describes it.
func NewReader(ra io.ReaderAt, ix Index) *Reader {
	return &Reader{ra: ra, ix: ix, cur: -1, Name: ix.Root.String()}
}

// Size is the file's size.
func (r *Reader) Size() int64 { return r.ix.Size }

func (r *Reader) Read(p []byte) (int, error) {
	if r.pos >= r.ix.Size {
		return 0, io.EOF
	}
	i := int(r.pos / r.ix.Chunk)
	if i != r.cur {
		if err := r.load(i); err != nil {
			return 0, err
		}
	}
	off, _ := r.ix.Leaf(i)
	n := copy(p, r.buf[r.pos-off:])
	r.pos += int64(n)
	return n, nil
}

func (r *Reader) load(i int) error {
	off, n := r.ix.Leaf(i)
	if int64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	r.cur = -1
	if _, err := r.ra.ReadAt(r.buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("blob %s: read chunk %d: %w", r.Name, i, err)
	}
	if sha256.Sum256(r.buf) != r.ix.Leaves[i] {
		return fmt.Errorf("blob %s: chunk %d (bytes %d-%d): %w", r.Name, i, off, off+n-1, ErrChunkMismatch)
	}
	r.cur = i
	return nil
}

func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.ix.Size
	default:
		return r.pos, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return r.pos, errors.New("seek: negative position")
	}
	r.pos = offset
	return offset, nil
}

// Verify checks that content is what c names: for a raw CID the sha2-256
// of all of it (a single block of any size), for a dag-pb root the UnixFS
// file `ipfs add --cid-version 1 --raw-leaves` makes of it.
func Verify(c cid.Cid, content []byte) error {
	switch c.Type() {
	case cid.Raw:
		d, err := rawDigest(c)
		if err != nil {
			return err
		}
		if sha256.Sum256(content) != d {
			return fmt.Errorf("blob %s: content does not hash to its CID", c)
		}
		return nil
	case cid.DagProtobuf:
		got, _, err := CID(bytes.NewReader(content))
		if err != nil {
			return err
		}
		if got != c {
			return fmt.Errorf("blob %s: content's UnixFS root is %s", c, got)
		}
		return nil
	}
	return fmt.Errorf("blob %s: codec 0x%x is neither raw nor dag-pb", c, c.Type())
}

// CARFile returns the root a CAR names and the size of the file it holds
// (read from the root block alone, checked against its CID).
func CARFile(ctx context.Context, r io.ReaderAt) (cid.Cid, int64, error) {
	_, n, err := openCARFile(ctx, r)
	if err != nil {
		return cid.Undef, 0, err
	}
	c := n.Cid()
	if c.Type() == cid.Raw {
		return c, int64(len(n.RawData())), nil
	}
	pn, ok := n.(*merkledag.ProtoNode)
	if !ok {
		return cid.Undef, 0, fmt.Errorf("CAR root %s is not a dag-pb node", c)
	}
	fs, err := unixfs.FSNodeFromBytes(pn.Data())
	if err != nil || fs.Type() != unixfs.TFile {
		return cid.Undef, 0, fmt.Errorf("CAR root %s is not a UnixFS file", c)
	}
	return c, int64(fs.FileSize()), nil
}
