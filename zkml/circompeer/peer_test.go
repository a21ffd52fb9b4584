package circompeer

import (
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/train"
)

func smallArch() model.Arch {
	a := model.Arch{Sizes: []int{8, 6, 3}, InBits: 4, Shifts: []int{4}}
	a.BiasBits = []int{model.DefaultBiasBits(8, 15), model.DefaultBiasBits(6, model.ActMax)}
	return a
}

func TestSource(t *testing.T) {
	src, err := Source(smallArch())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"component main {public [x]}", "MultiMiMC7", "RescaleClamp(", "ArgMax(3)"} {
		if !strings.Contains(src, want) {
			t.Errorf("source lacks %q", want)
		}
	}
}

// TestPeerEndToEnd runs circom and snarkjs (ZK_PEER=1; needs node and the
// npm packages, which it installs into ../../.cache/zkpeer when missing).
func TestPeerEndToEnd(t *testing.T) {
	if os.Getenv("ZK_PEER") == "" {
		t.Skip("set ZK_PEER=1 to run circom and snarkjs")
	}
	m, err := train.RandomModel(smallArch(), 1)
	if err != nil {
		t.Fatal(err)
	}
	x := []int{1, 2, 3, 4, 5, 6, 7, 8}
	cls, _ := m.Predict(x)
	r := &Runner{Dir: "../../.cache/zkpeer", Timeout: 20 * time.Minute, Log: t.Logf}
	if err := r.Ensure(); err != nil {
		t.Fatal(err)
	}
	src, _ := Source(m.Arch)
	c, err := r.Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	ptau, _, _, err := r.PowersOfTau(c.Constraints)
	if err != nil {
		t.Fatal(err)
	}
	k, err := r.Setup(c, ptau)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := Input(m, x)
	res, err := r.Prove(c, k, in, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("constraints %d, prove %.2fs, verify %.1fms, public %v", c.Constraints, res.ProveSeconds, res.VerifyMillis, res.Public)
	if res.Public[1] != big.NewInt(int64(cls)).String() {
		t.Fatalf("circom class %s, plain Go %d", res.Public[1], cls)
	}
}
