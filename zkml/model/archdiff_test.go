package model

import (
	"strings"
	"testing"
)

func TestArchDiff(t *testing.T) {
	a := Arch{Sizes: []int{64, 4, 10}, InBits: 5, Shifts: []int{4}, BiasBits: []int{19, 18}}
	b := a.Clone()
	if d := a.Diff(b); d != "" {
		t.Fatalf("equal archs differ: %s", d)
	}
	b.Shifts = []int{5}
	if a.String() == b.String() && !strings.Contains(a.Diff(b), "shifts (quantization) [4] vs [5]") {
		t.Fatalf("diff %q", a.Diff(b))
	}
	if d := a.Diff(b); d != "shifts (quantization) [4] vs [5]" {
		t.Fatalf("diff %q", d)
	}
	b.InBits, b.Sizes = 6, []int{64, 8, 10}
	if d := a.Diff(b); !strings.Contains(d, "sizes [64 4 10] vs [64 8 10]") || !strings.Contains(d, "in_bits 5 vs 6") {
		t.Fatalf("diff %q", d)
	}
}
