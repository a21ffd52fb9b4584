package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// archiveMagic starts every output archive; bump the version if the layout changes.
const archiveMagic = "tenun-outputs/v1\n"

// WriteArchive writes outputs in Tenun's deterministic archive layout:
//
//	"tenun-outputs/v1\n"
//	uint64 number of files
//	per file, in byte order of the names:
//	    uint64 len(name), name, uint64 len(content), content
//
// with every integer big-endian. Names are slash-separated paths relative to
// the output directory. The layout has no timestamps, modes or ordering
// freedom, so equal outputs give equal bytes on every provider.
func WriteArchive(w io.Writer, outputs map[string][]byte) error {
	var n [8]byte
	put := func(v int) error {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		_, err := w.Write(n[:])
		return err
	}
	if _, err := io.WriteString(w, archiveMagic); err != nil {
		return fmt.Errorf("write output archive: %w", err)
	}
	if err := put(len(outputs)); err != nil {
		return fmt.Errorf("write output archive: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(outputs)) {
		data := outputs[name]
		if err := put(len(name)); err != nil {
			return fmt.Errorf("write output archive: %w", err)
		}
		if _, err := io.WriteString(w, name); err != nil {
			return fmt.Errorf("write output archive: %w", err)
		}
		if err := put(len(data)); err != nil {
			return fmt.Errorf("write output archive: %w", err)
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write output archive: %w", err)
		}
	}
	return nil
}

// ArchiveOutputs returns the archive WriteArchive describes.
func ArchiveOutputs(outputs map[string][]byte) []byte {
	var buf bytes.Buffer
	_ = WriteArchive(&buf, outputs) // bytes.Buffer writes cannot fail
	return buf.Bytes()
}

// OutputDigest is the SHA-256 of ArchiveOutputs(outputs): the value providers
// and verifiers compare to agree that a job's results are bit-for-bit equal.
// It covers the output files only, not stdout, stderr or the exit code.
func OutputDigest(outputs map[string][]byte) [32]byte {
	h := sha256.New()
	_ = WriteArchive(h, outputs) // hash writes cannot fail
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Digest is OutputDigest(r.Outputs).
func (r Result) Digest() [32]byte { return OutputDigest(r.Outputs) }

// ErrBadArchive is returned by UnpackArchive for bytes that are not an output archive.
var ErrBadArchive = errors.New("sandbox: malformed output archive")

// UnpackArchive is the inverse of ArchiveOutputs. It rejects anything
// ArchiveOutputs would not have produced (unsorted or duplicate names,
// trailing bytes), so an archive and its digest identify one set of outputs.
func UnpackArchive(archive []byte) (map[string][]byte, error) {
	rest, ok := bytes.CutPrefix(archive, []byte(archiveMagic))
	if !ok {
		return nil, fmt.Errorf("%w: missing header", ErrBadArchive)
	}
	next := func() (uint64, bool) {
		if len(rest) < 8 {
			return 0, false
		}
		v := binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		return v, true
	}
	take := func() ([]byte, bool) {
		n, ok := next()
		if !ok || n > uint64(len(rest)) {
			return nil, false
		}
		b := rest[:n:n]
		rest = rest[n:]
		return b, true
	}
	count, ok := next()
	if !ok || count > uint64(len(rest))/16 { // each file needs at least two lengths
		return nil, fmt.Errorf("%w: bad file count", ErrBadArchive)
	}
	out := make(map[string][]byte, count)
	prev := ""
	for i := range count {
		name, ok := take()
		if !ok {
			return nil, fmt.Errorf("%w: file %d: truncated name", ErrBadArchive, i)
		}
		if i > 0 && string(name) <= prev {
			return nil, fmt.Errorf("%w: names not in strictly increasing order at %q", ErrBadArchive, name)
		}
		data, ok := take()
		if !ok {
			return nil, fmt.Errorf("%w: file %q: truncated content", ErrBadArchive, name)
		}
		prev = string(name)
		out[prev] = data
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadArchive, len(rest))
	}
	return out, nil
}
