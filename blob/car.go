package blob

import (
	"context"
	"fmt"
	"io"

	"github.com/ipfs/boxo/ipld/merkledag"
	unixfsio "github.com/ipfs/boxo/ipld/unixfs/io"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// ExportCAR writes the UnixFS DAG of the file that open returns as a CARv1
// to w, streaming: the first read computes the root (a CAR names its roots
// in its header), the second writes the blocks. It returns the root.
func ExportCAR(ctx context.Context, open func() (io.ReadCloser, error), w io.Writer) (cid.Cid, error) {
	f, err := open()
	if err != nil {
		return cid.Undef, err
	}
	root, _, err := Import(ctx, f, nil)
	f.Close()
	if err != nil {
		return cid.Undef, err
	}
	if f, err = open(); err != nil {
		return cid.Undef, err
	}
	defer f.Close()
	if err := WriteCAR(ctx, root, f, w); err != nil {
		return cid.Undef, err
	}
	return root, nil
}

// WriteCAR writes the CARv1 of the file r holds, whose CID is root (known
// already: a CAR names its root before its blocks), streaming. A raw root
// is one block of the whole content. If the content turns out not to be
// root, the error says so; the bytes written are then not a valid CAR.
func WriteCAR(ctx context.Context, root cid.Cid, r io.Reader, w io.Writer) error {
	car, err := storage.NewWritable(w, []cid.Cid{root}, carv2.WriteAsCarV1(true))
	if err != nil {
		return fmt.Errorf("write CAR: %w", err)
	}
	if root.Type() == cid.Raw {
		data, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("write CAR: %w", err)
		}
		if err := Verify(root, data); err != nil {
			return err
		}
		if err := car.Put(ctx, root.KeyString(), data); err != nil {
			return fmt.Errorf("write CAR: %w", err)
		}
		return car.Finalize()
	}
	got, _, err := Import(ctx, r, carDAG{car})
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("write CAR: the content is %s, not %s (it changed while it was read)", got, root)
	}
	return car.Finalize()
}

// ImportCAR reassembles the file a CAR holds (its single root must be a
// UnixFS file) into w, checking every block against its CID, and returns
// the root and the file's size.
func ImportCAR(ctx context.Context, r io.ReaderAt, w io.Writer) (cid.Cid, int64, error) {
	get, root, err := openCARFile(ctx, r)
	if err != nil {
		return cid.Undef, 0, err
	}
	c := root.Cid()
	dr, err := unixfsio.NewDagReader(ctx, root, get)
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("CAR root %s: %w", c, err)
	}
	n, err := io.Copy(w, dr)
	if err != nil {
		return cid.Undef, n, fmt.Errorf("CAR root %s: %w", c, err)
	}
	return c, n, nil
}

// openCARFile opens a CAR of one file: its single root, read and checked
// against its CID, and a getter for the rest of its blocks.
func openCARFile(ctx context.Context, r io.ReaderAt) (carGetter, ipld.Node, error) {
	car, err := storage.OpenReadable(r)
	if err != nil {
		return carGetter{}, nil, fmt.Errorf("read CAR: %w", err)
	}
	roots := car.Roots()
	if len(roots) != 1 {
		return carGetter{}, nil, fmt.Errorf("the CAR names %d roots; a file has one", len(roots))
	}
	get := carGetter{car}
	root, err := get.Get(ctx, roots[0])
	return get, root, err
}

// carDAG writes a DAG's blocks into a CAR.
type carDAG struct{ car storage.WritableCar }

func (d carDAG) Add(ctx context.Context, n ipld.Node) error {
	return d.car.Put(ctx, n.Cid().KeyString(), n.RawData())
}
func (d carDAG) AddMany(ctx context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		if err := d.Add(ctx, n); err != nil {
			return err
		}
	}
	return nil
}
func (carDAG) Get(context.Context, cid.Cid) (ipld.Node, error) { return nil, ipld.ErrNotFound{} }
func (carDAG) GetMany(context.Context, []cid.Cid) <-chan *ipld.NodeOption {
	return discard{}.GetMany(nil, nil)
}
func (carDAG) Remove(context.Context, cid.Cid) error       { return nil }
func (carDAG) RemoveMany(context.Context, []cid.Cid) error { return nil }

// carGetter reads nodes out of a CAR, each checked against its CID.
type carGetter struct{ car storage.ReadableCar }

func (g carGetter) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	data, err := g.car.Get(ctx, c.KeyString())
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	return decode(c, data)
}

// decode checks data against c and decodes it as a raw leaf or a dag-pb node.
func decode(c cid.Cid, data []byte) (ipld.Node, error) {
	sum, err := c.Prefix().Sum(data)
	if err != nil {
		return nil, err
	}
	if !sum.Equals(c) {
		return nil, fmt.Errorf("block %s: its bytes hash to %s", c, sum)
	}
	blk, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		return nil, err
	}
	switch c.Type() {
	case cid.Raw:
		return merkledag.DecodeRawBlock(blk)
	case cid.DagProtobuf:
		return merkledag.DecodeProtobufBlock(blk)
	}
	return nil, fmt.Errorf("block %s: codec %x is neither raw nor dag-pb", c, c.Type())
}

func (g carGetter) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	ch := make(chan *ipld.NodeOption, len(cs))
	for _, c := range cs {
		n, err := g.Get(ctx, c)
		ch <- &ipld.NodeOption{Node: n, Err: err}
	}
	close(ch)
	return ch
}
