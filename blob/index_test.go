package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

// indexed imports content, round-trips its index through WriteIndex and
// ReadIndex, and returns it.
func indexed(t testing.TB, content []byte) Index {
	t.Helper()
	var col Collector
	root, n, err := Import(context.Background(), bytes.NewReader(content), &col)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := NewIndex(root, n, col.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(col.Nodes) == 0 {
		return ix
	}
	var buf bytes.Buffer
	if err := WriteIndex(&buf, root, col.Nodes); err != nil {
		t.Fatal(err)
	}
	back, err := ReadIndex(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Root != ix.Root || back.Size != ix.Size || back.Chunk != ix.Chunk || len(back.Leaves) != len(ix.Leaves) {
		t.Fatalf("index round trip: %+v, want %+v", back, ix)
	}
	return back
}

func TestIndexReaderRangesAndTamper(t *testing.T) {
	cs := int(ChunkSize)
	for _, size := range []int{1, cs, cs + 1, 3*cs + 17, 175 * cs} { // 175 chunks: two levels
		content, _ := io.ReadAll(newSeeded(byte(size), int64(size)))
		ix := indexed(t, content)
		if ix.Size != int64(size) || len(ix.Leaves) != (size+cs-1)/cs {
			t.Fatalf("%d bytes: index of %d bytes, %d leaves", size, ix.Size, len(ix.Leaves))
		}
		if err := Verify(ix.Root, content); err != nil {
			t.Fatal(err)
		}
		r := NewReader(bytes.NewReader(content), ix)
		all, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(all, content) {
			t.Fatalf("%d bytes: read back %d, %v", size, len(all), err)
		}
		for _, rg := range [][2]int{{0, 1}, {size / 2, size/2 + 1}, {size - 1, size}, {max(0, cs-3), min(size, cs+3)}} {
			if rg[0] >= rg[1] {
				continue
			}
			r.Seek(int64(rg[0]), io.SeekStart)
			got := make([]byte, rg[1]-rg[0])
			if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, content[rg[0]:rg[1]]) {
				t.Fatalf("%d bytes: range %v: %v", size, rg, err)
			}
		}
		// One flipped byte: the chunk holding it fails, the others read.
		bad := bytes.Clone(content)
		bad[size-1] ^= 1
		r = NewReader(bytes.NewReader(bad), ix)
		if _, err := io.ReadAll(r); !errors.Is(err, ErrChunkMismatch) {
			t.Fatalf("%d bytes: a tampered chunk read as %v", size, err)
		}
		if size > cs {
			r.Seek(0, io.SeekStart)
			if _, err := io.ReadFull(r, make([]byte, cs)); err != nil {
				t.Fatalf("an untouched chunk: %v", err)
			}
		}
		// A truncated file fails too.
		r = NewReader(bytes.NewReader(content[:size-1]), ix)
		if _, err := io.ReadAll(r); err == nil {
			t.Fatalf("%d bytes: a truncated file read without error", size)
		}
		if err := Verify(ix.Root, bad); err == nil {
			t.Fatal("Verify accepted tampered content")
		}
	}
}

func TestReadIndexRefusals(t *testing.T) {
	content, _ := io.ReadAll(newSeeded(9, 3*ChunkSize))
	var col Collector
	root, _, _ := Import(context.Background(), bytes.NewReader(content), &col)
	var good bytes.Buffer
	WriteIndex(&good, root, col.Nodes)
	enc := good.Bytes()
	cases := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a car"),
		"truncated": enc[:len(enc)-5],
		"flipped":   append(bytes.Clone(enc[:len(enc)-3]), enc[len(enc)-3]^1, enc[len(enc)-2], enc[len(enc)-1]),
	}
	var noNodes bytes.Buffer
	WriteIndex(&noNodes, root, nil)
	cases["root missing"] = noNodes.Bytes()
	raw := rawCID(content)
	var rawRoot bytes.Buffer
	WriteIndex(&rawRoot, raw, nil)
	cases["raw root"] = rawRoot.Bytes()
	for name, b := range cases {
		if _, err := ReadIndex(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzReadIndex: any bytes either decode to a consistent index or fail
// cleanly (no panic, no unbounded allocation).
func FuzzReadIndex(f *testing.F) {
	for _, n := range []int64{ChunkSize + 1, 5 * ChunkSize} {
		content, _ := io.ReadAll(newSeeded(byte(n), n))
		var col Collector
		root, _, _ := Import(context.Background(), bytes.NewReader(content), &col)
		var buf bytes.Buffer
		WriteIndex(&buf, root, col.Nodes)
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0x3a, 0xa2})
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ReadIndex(bytes.NewReader(b))
		if err != nil {
			return
		}
		if ix.Chunk <= 0 || len(ix.Leaves) == 0 || ix.Size <= int64(len(ix.Leaves)-1)*ix.Chunk || ix.Size > int64(len(ix.Leaves))*ix.Chunk {
			t.Fatalf("inconsistent index: size %d, chunk %d, %d leaves", ix.Size, ix.Chunk, len(ix.Leaves))
		}
	})
}
