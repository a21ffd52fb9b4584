package model

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
)

// Dataset holds integer feature rows and class labels.
type Dataset struct {
	X [][]int `json:"x"`
	Y []int   `json:"y"`
}

// Len is the number of rows.
func (d *Dataset) Len() int { return len(d.Y) }

// Slice returns rows [from, to) sharing storage with d.
func (d *Dataset) Slice(from, to int) (*Dataset, error) {
	if from < 0 || to > d.Len() || from > to {
		return nil, fmt.Errorf("rows %d:%d out of a data set of %d rows", from, to, d.Len())
	}
	return &Dataset{X: d.X[from:to], Y: d.Y[from:to]}, nil
}

// Digits split: the first 1,437 rows train, the last 360 are the public test split.
const (
	DigitsTrainRows = 1437
	DigitsRows      = 1797
)

// DigitsPath is the digits data relative to the repository root.
const DigitsPath = "datasets/digits/digits.csv.gz"

// LoadCSV reads rows of integer features followed by an integer label; the
// file may be gzip-compressed (".gz").
func LoadCSV(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open data: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("gunzip %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	ds := &Dataset{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("%s line %d: need features and a label", path, line)
		}
		vals := make([]int, len(rec))
		for i, s := range rec {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				if line == 1 {
					vals = nil // header row
					break
				}
				return nil, fmt.Errorf("%s line %d column %d: %w", path, line, i+1, err)
			}
			vals[i] = v
		}
		if vals == nil {
			continue
		}
		if len(ds.X) > 0 && len(vals)-1 != len(ds.X[0]) {
			return nil, fmt.Errorf("%s line %d: %d features, earlier rows have %d", path, line, len(vals)-1, len(ds.X[0]))
		}
		ds.X = append(ds.X, vals[:len(vals)-1])
		ds.Y = append(ds.Y, vals[len(vals)-1])
	}
	if ds.Len() == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return ds, nil
}

// TestSetItems lists the integers a test-set hash covers: per row, the inputs
// (InBits each) then the label (LabelBits).
func (a Arch) TestSetItems(ds *Dataset) ([]uint64, []int, error) {
	vals := make([]uint64, 0, ds.Len()*(a.NumInputs()+1))
	widths := make([]int, 0, cap(vals))
	for r := range ds.X {
		v, w, err := a.InputItems(ds.X[r])
		if err != nil {
			return nil, nil, fmt.Errorf("test row %d: %w", r, err)
		}
		y := ds.Y[r]
		if y < 0 || y >= 1<<a.LabelBits() {
			return nil, nil, fmt.Errorf("test row %d: label %d out of [0, %d)", r, y, 1<<a.LabelBits())
		}
		vals = append(append(vals, v...), uint64(y))
		widths = append(append(widths, w...), a.LabelBits())
	}
	return vals, widths, nil
}

// TestSetWidths is the width list of [Arch.TestSetItems] for n rows.
func (a Arch) TestSetWidths(n int) []int {
	widths := make([]int, 0, n*(a.NumInputs()+1))
	for range n {
		for range a.NumInputs() {
			widths = append(widths, a.InBits)
		}
		widths = append(widths, a.LabelBits())
	}
	return widths
}

// TestSetHeader is absorbed before the packed rows.
func (a Arch) TestSetHeader(n int) []uint64 {
	return []uint64{FormatVersion, uint64(a.NumInputs()), uint64(a.InBits), uint64(a.LabelBits()), uint64(n)}
}

// TestSetHash is the Poseidon2 sponge over the packed test set; accuracy
// proofs take it as a public input, and anyone holding the test set can
// recompute it.
func (a Arch) TestSetHash(ds *Dataset) (Digest, error) {
	vals, widths, err := a.TestSetItems(ds)
	if err != nil {
		return Digest{}, err
	}
	packed, err := Pack(vals, widths)
	if err != nil {
		return Digest{}, err
	}
	return DigestOf(SpongeHash(DomainTestSet, a.TestSetHeader(ds.Len()), packed)), nil
}

// PiecesRoot is the hash of a test set made of pieces: the Poseidon2 sponge
// (domain DomainTestSetPieces) over the number of pieces and their test-set
// hashes, in order. Accuracy proofs are made per piece, against the piece's
// own hash; the root names the whole set, so the pieces' counts add up to
// one claim about it.
func PiecesRoot(pieces []Digest) (Digest, error) {
	elems := make([]*big.Int, len(pieces))
	for i, p := range pieces {
		if _, err := p.Element(); err != nil {
			return Digest{}, fmt.Errorf("piece %d: %w", i, err)
		}
		elems[i] = p.BigInt()
	}
	return DigestOf(SpongeHash(DomainTestSetPieces, []uint64{FormatVersion, uint64(len(pieces))}, elems)), nil
}
