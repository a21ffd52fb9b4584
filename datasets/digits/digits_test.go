package digits

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"testing"
)

func TestEmbeddedSet(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(Gzip))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(zr).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != Rows {
		t.Fatalf("%d rows, want %d", len(recs), Rows)
	}
	for i, r := range recs {
		if len(r) != 65 {
			t.Fatalf("row %d has %d fields, want 65", i, len(r))
		}
	}
}
