package truth_test

import (
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
)

func BenchmarkZZDS(b *testing.B) {
	d, err := truth.LoadDir("../../../shared/crowd/s_rel", truth.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		truth.DawidSkene(&d.Answers, truth.Options{})
	}
}
