package truth_test

import (
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
)

func BenchmarkZZLoad(b *testing.B) {
	for b.Loop() {
		truth.LoadDir("../../../shared/crowd/s_rel", truth.LoadOptions{})
	}
}
