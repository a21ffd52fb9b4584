// Package zstd stands in for github.com/DataDog/zstd (a cgo binding whose C
// sources take minutes to compile) in Tenun's build, through a replace
// directive in Tenun's go.mod. It offers the part of that API Tenun's
// dependencies use (Pebble's sstable compression: Compress, Decompress,
// NewWriterLevel) on klauspost/compress, the pure-Go Zstandard that Pebble
// itself uses when cgo is off; the two produce and read the same format.
package zstd

import (
	"io"

	"github.com/klauspost/compress/zstd"
)

// DefaultCompression is the level Pebble asks for.
const DefaultCompression = 3

var decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))

func encoderLevel(level int) zstd.EncoderLevel { return zstd.EncoderLevelFromZstd(level) }

// Compress appends src compressed at the default level to dst[:0].
func Compress(dst, src []byte) ([]byte, error) {
	return CompressLevel(dst, src, DefaultCompression)
}

// CompressLevel appends src compressed at level to dst[:0].
func CompressLevel(dst, src []byte, level int) ([]byte, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(encoderLevel(level)), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	return enc.EncodeAll(src, dst[:0]), nil
}

// Decompress appends the decompressed src to dst[:0].
func Decompress(dst, src []byte) ([]byte, error) {
	return decoder.DecodeAll(src, dst[:0])
}

// Writer compresses what is written to it into an underlying writer.
type Writer struct{ enc *zstd.Encoder }

// NewWriter is NewWriterLevel at the default level.
func NewWriter(w io.Writer) *Writer { return NewWriterLevel(w, DefaultCompression) }

// NewWriterLevel returns a Writer compressing into w at level.
func NewWriterLevel(w io.Writer, level int) *Writer {
	enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(encoderLevel(level)), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err) // only invalid options fail, and these are fixed
	}
	return &Writer{enc: enc}
}

// Write compresses p.
func (w *Writer) Write(p []byte) (int, error) { return w.enc.Write(p) }

// Close flushes the frame; it does not close the underlying writer.
func (w *Writer) Close() error { return w.enc.Close() }

// NewReader returns a reader that decompresses r.
func NewReader(r io.Reader) io.ReadCloser {
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return io.NopCloser(errReader{err})
	}
	return dec.IOReadCloser()
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
