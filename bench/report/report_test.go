package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestRatio(t *testing.T) {
	for _, c := range []struct{ value, baseline, want float64 }{
		{3, 2, 1.5},
		{0, 2, 0},
		{1, 0, 0},  // nothing measured for the baseline
		{1, -1, 0}, // not a measurement
		{1, math.NaN(), 0},
		{1, math.Inf(1), 0},
		{math.Inf(1), 1, 0},
	} {
		if got := Ratio(c.value, c.baseline); got != c.want {
			t.Errorf("Ratio(%v, %v) = %v, want %v", c.value, c.baseline, got, c.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	if Verdict(true) != "meets" || Verdict(false) != "misses" {
		t.Fatalf("Verdict: %q %q", Verdict(true), Verdict(false))
	}
}

// A report whose ratio had no baseline still encodes; a raw Inf does not,
// with an error that says so.
func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, map[string]float64{"ratio": Ratio(5, 0)}); err != nil {
		t.Fatal(err)
	}
	var back map[string]float64
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back["ratio"] != 0 || !strings.HasSuffix(buf.String(), "}\n") {
		t.Fatalf("JSON wrote %q (%v)", buf.String(), err)
	}
	buf.Reset()
	if err := JSON(&buf, map[string]float64{"ratio": math.Inf(1)}); err == nil || !strings.Contains(err.Error(), "bench report") {
		t.Fatalf("JSON of Inf: err %v, wrote %q", err, buf.String())
	}
	if buf.Len() != 0 {
		t.Fatalf("JSON of Inf wrote %q", buf.String())
	}
}

func TestTableAligns(t *testing.T) {
	var buf bytes.Buffer
	tw := Table(&buf)
	tw.Write([]byte("a\tbb\n" + "ccc\td\n"))
	tw.Flush()
	if want := "a    bb\nccc  d\n"; buf.String() != want {
		t.Fatalf("Table wrote %q, want %q", buf.String(), want)
	}
}
