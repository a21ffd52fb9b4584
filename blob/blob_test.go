package blob

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// seeded is n pseudo-random bytes from seed, generated as read: tests of
// large files hold none of them.
type seeded struct {
	rng  *rand.ChaCha8
	left int64
}

func newSeeded(seed byte, n int64) *seeded {
	return &seeded{rng: rand.NewChaCha8([32]byte{seed}), left: n}
}

func (s *seeded) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	s.rng.Read(p)
	s.left -= int64(len(p))
	return len(p), nil
}

func rawCID(b []byte) cid.Cid {
	sum, _ := mh.Sum(b, mh.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, sum)
}

func cidOf(t *testing.T, r io.Reader) (cid.Cid, int64) {
	t.Helper()
	c, n, err := CID(r)
	if err != nil {
		t.Fatal(err)
	}
	return c, n
}

// Published CIDs of `ipfs add --cid-version 1 --raw-leaves`.
func TestPublishedCIDs(t *testing.T) {
	for _, v := range []struct{ content, want string }{
		{"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"},
	} {
		if c, _ := cidOf(t, bytes.NewReader([]byte(v.content))); c.String() != v.want {
			t.Errorf("%q: %s, want %s", v.content, c, v.want)
		}
	}
}

// Up to one chunk, a file is one raw block: its CID is the raw CID of its
// bytes. One byte more makes a dag-pb root over two raw leaves, built here
// by hand from the UnixFS format.
func TestChunkBoundary(t *testing.T) {
	for _, n := range []int{0, 1, int(ChunkSize) - 1, int(ChunkSize)} {
		b := make([]byte, n)
		newSeeded(1, int64(n)).Read(b)
		if c, size := cidOf(t, bytes.NewReader(b)); c != rawCID(b) || size != int64(n) {
			t.Errorf("%d bytes: %s (size %d), want the raw block %s", n, c, size, rawCID(b))
		}
	}
	b := make([]byte, ChunkSize+1)
	newSeeded(2, ChunkSize+1).Read(b)
	fs := ft.NewFSNode(ft.TFile)
	fs.AddBlockSize(uint64(ChunkSize))
	fs.AddBlockSize(1)
	data, err := fs.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	root := merkledag.NodeWithData(data)
	root.SetCidBuilder(Builder)
	for _, leaf := range [][]byte{b[:ChunkSize], b[ChunkSize:]} {
		l := merkledag.NewRawNode(leaf)
		if err := root.AddNodeLink("", l); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := cidOf(t, bytes.NewReader(b)); c != root.Cid() {
		t.Errorf("one chunk + 1: %s, want %s", c, root.Cid())
	}
}

// 100 MB: the streaming import holds a few chunks, not the file; the same
// DAG written to a CAR and read back by boxo's UnixFS reader gives the
// same bytes under the same root.
func TestLargeFileStreams(t *testing.T) {
	const size = 100 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := uint64(0)
	probe := &probeReader{r: newSeeded(3, size), every: 16 << 20, peak: &peak}
	c, n := cidOf(t, probe)
	runtime.ReadMemStats(&after)
	if n != size {
		t.Fatalf("read %d bytes", n)
	}
	if peak > before.HeapInuse+32<<20 {
		t.Errorf("heap in use rose from %d to %d MiB while importing 100 MiB", before.HeapInuse>>20, peak>>20)
	}
	// Every block kept, in a CAR, then the file reassembled from it.
	var car bytes.Buffer
	root, err := ExportCAR(context.Background(), func() (io.ReadCloser, error) { return io.NopCloser(newSeeded(3, size)), nil }, &car)
	if err != nil {
		t.Fatal(err)
	}
	if root != c {
		t.Fatalf("CAR root %s, streaming CID %s", root, c)
	}
	var out countingWriter
	back, got, err := ImportCAR(context.Background(), bytes.NewReader(car.Bytes()), &out)
	if err != nil || back != c || got != size || out.sum != checksum(newSeeded(3, size)) {
		t.Fatalf("CAR back: %s %d bytes (%v)", back, got, err)
	}
	t.Logf("100 MiB: %s, CAR %d bytes, heap peak %d MiB over %d", c, car.Len(), peak>>20, before.HeapInuse>>20)
}

// A CAR round trip gives the file back; a changed byte in any block is
// refused.
func TestCARRoundTripAndTamper(t *testing.T) {
	const size = 3*(256<<10) + 12345
	b := make([]byte, size)
	newSeeded(4, size).Read(b)
	var car bytes.Buffer
	root, err := ExportCAR(context.Background(), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, &car)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	back, n, err := ImportCAR(context.Background(), bytes.NewReader(car.Bytes()), &out)
	if err != nil || back != root || n != size || !bytes.Equal(out.Bytes(), b) {
		t.Fatalf("round trip: %s %d %v", back, n, err)
	}
	bad := append([]byte{}, car.Bytes()...)
	bad[len(bad)/2] ^= 1
	if _, _, err := ImportCAR(context.Background(), bytes.NewReader(bad), io.Discard); err == nil {
		t.Fatal("a CAR with a changed byte was accepted")
	}
}

type probeReader struct {
	r     io.Reader
	read  int64
	every int64
	next  int64
	peak  *uint64
}

func (p *probeReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.read >= p.next {
		p.next += p.every
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		*p.peak = max(*p.peak, m.HeapInuse)
	}
	return n, err
}

type countingWriter struct {
	n   int64
	sum uint64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		w.sum = w.sum*31 + uint64(c)
	}
	w.n += int64(len(p))
	return len(p), nil
}

func checksum(r io.Reader) uint64 {
	var w countingWriter
	io.Copy(&w, r)
	return w.sum
}
