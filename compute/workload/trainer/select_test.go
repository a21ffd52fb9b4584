package main

import (
	"slices"
	"testing"
)

// nthSmallest finds what a sort would put at every index, duplicates and
// all, so the quantizer's percentile (and the model's bytes) is unchanged.
func TestNthSmallestMatchesSort(t *testing.T) {
	rng := splitmix64(3)
	for n := 1; n < 200; n++ {
		a := make([]int64, n)
		for i := range a {
			a[i] = int64(rng.intn(n/3+1)) - int64(n/6)
		}
		sorted := slices.Clone(a)
		slices.Sort(sorted)
		for k := range n {
			if got := nthSmallest(slices.Clone(a), k); got != sorted[k] {
				t.Fatalf("n %d k %d: got %d, want %d", n, k, got, sorted[k])
			}
		}
	}
}
