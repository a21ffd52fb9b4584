package zstd

import (
	"bytes"
	"io"
	"testing"
)

// What the writer and Compress produce, Decompress and NewReader read back.
func TestRoundTrip(t *testing.T) {
	src := bytes.Repeat([]byte("tenun state block "), 1000)
	var buf bytes.Buffer
	w := NewWriterLevel(&buf, 3)
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() >= len(src)/10 {
		t.Fatalf("%d bytes compressed to %d", len(src), buf.Len())
	}
	got, err := Decompress(nil, buf.Bytes())
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("Decompress: %v", err)
	}
	c, err := Compress(nil, src)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(c))
	got, err = io.ReadAll(r)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("NewReader: %v", err)
	}
	if _, err := Decompress(nil, []byte("not zstd")); err == nil {
		t.Fatal("garbage decompressed")
	}
}
