package floatref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tenun-chain/tenun/yuma"
)

// randomSubnet builds a small subnet with sparse random weights, a few
// re-registrations and an inactive validator, then runs warm-up epochs so
// bonds exist.
func randomSubnet(t *testing.T, r *rand.Rand, p yuma.Params) (*yuma.Subnet, uint64) {
	t.Helper()
	n, v := 40, 10
	s, err := yuma.SyntheticSubnet(n, v, r.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	block := uint64(yuma.SyntheticBlock)
	for epoch := 0; epoch < 4; epoch++ {
		for i := 0; i < v; i++ {
			if i == 3 && epoch > 1 {
				continue // uid 3 stops setting weights (inactive with a short cutoff)
			}
			var uids, vals []uint16
			for j := 0; j < n; j++ {
				if r.IntN(3) > 0 {
					uids = append(uids, uint16(j))
					vals = append(vals, uint16(r.IntN(65536)))
				}
			}
			if err := s.SetWeights(uint16(i), uids, vals, block); err != nil {
				t.Fatal(err)
			}
		}
		if epoch == 2 {
			for _, uid := range []uint16{20, 31} {
				if err := s.Register(uid, uint64(r.IntN(1000)), block); err != nil {
					t.Fatal(err)
				}
			}
		}
		block += p.Tempo
		if _, err := yuma.Epoch(s, p, block, 1_000_000_000); err != nil {
			t.Fatal(err)
		}
		s.LastEpochBlock = block
	}
	return s, block + p.Tempo
}

// TestFixedMatchesFloatReference compares the fixed-point epoch with the
// float64 reference on random subnets in every mode.
func TestFixedMatchesFloatReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, mode := range []yuma.BondsMode{yuma.ModeYuma3, yuma.ModeOriginal} {
		for _, liquid := range []bool{false, true} {
			for _, bp := range []uint16{0, 32768, 65535} {
				if mode == yuma.ModeOriginal && liquid {
					continue
				}
				name := fmt.Sprintf("%s/liquid=%v/bp=%d", mode, liquid, bp)
				t.Run(name, func(t *testing.T) {
					for trial := 0; trial < 5; trial++ {
						p := yuma.DefaultParams()
						p.BondsMode, p.LiquidAlpha, p.BondsPenalty = mode, liquid, bp
						p.Tempo = 10
						p.ActivityCutoffFactorMilli = 2000 // 20-block cutoff: uid 3 goes inactive
						p.MaxAllowedValidators = 12
						s, block := randomSubnet(t, r, p)
						ref := Epoch(s.Clone(), p, block)
						got, err := yuma.Epoch(s, p, block, 1_000_000_000)
						if err != nil {
							t.Fatal(err)
						}
						nb, nc := 0, 0
						for _, row := range got.Bonds {
							nb += len(row)
						}
						for _, c := range got.Consensus {
							if c != 0 {
								nc++
							}
						}
						if nb == 0 || nc == 0 || got.Active[3] || !got.Active[0] {
							t.Fatalf("degenerate trial: %d bonds, %d non-zero consensus, active %v", nb, nc, got.Active[:4])
						}
						compare(t, "consensus", got.Fixed.Consensus, ref.Consensus, 1e-6)
						compare(t, "incentive", got.Fixed.Incentive, ref.Incentive, 1e-6)
						compare(t, "dividends", got.Fixed.Dividends, ref.Dividends, 1e-6)
						compare(t, "validator_trust", got.Fixed.ValidatorTrust, ref.ValidatorTrust, 1e-6)
						for i, row := range got.Bonds {
							if !got.ValidatorPermit[i] {
								continue
							}
							dense := make([]float64, len(got.Bonds))
							for _, e := range row {
								dense[e.UID] = float64(e.Value)
							}
							for j, want := range ref.Bonds[i] {
								if d := math.Abs(dense[j] - want*65535); d > 2 {
									t.Fatalf("trial %d bonds[%d][%d] = %v, float %v", trial, i, j, dense[j], want*65535)
								}
							}
						}
					}
				})
			}
		}
	}
}

func compare(t *testing.T, name string, got []yuma.I32F32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		g := float64(got[i].Bits()) / (1 << 32)
		if math.Abs(g-want[i]) > tol {
			t.Fatalf("%s[%d] = %v, float reference %v", name, i, g, want[i])
		}
	}
}

// TestRegressionScenariosMatchFloatRef replays yuma/testdata/regression/
// and compares every epoch with the float64 reference, which justifies the
// pinned outputs independently of the implementation that produced them.
func TestRegressionScenariosMatchFloatRef(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "regression", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no regression scenarios: %v", err)
	}
	for _, f := range files {
		sc, err := yuma.LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sc.Subnet()
		if err != nil {
			t.Fatal(err)
		}
		epochs := 0
		for k, st := range sc.Steps {
			switch {
			case st.SetWeights != nil:
				err = s.SetWeights(st.SetWeights.UID, st.SetWeights.UIDs, st.SetWeights.Values, st.Block)
			case st.Register != nil:
				err = s.Register(st.Register.UID, st.Register.Stake, st.Block)
			case st.SetStake != nil:
				err = s.SetStake(st.SetStake.UID, st.SetStake.Stake)
			case st.Epoch != nil:
				ref := Epoch(s.Clone(), sc.Params, st.Block)
				var got yuma.Result
				got, err = yuma.Epoch(s, sc.Params, st.Block, sc.Emission)
				if err == nil {
					epochs++
					compare(t, fmt.Sprintf("%s step %d consensus", f, k), got.Fixed.Consensus, ref.Consensus, 1e-6)
					compare(t, fmt.Sprintf("%s step %d incentive", f, k), got.Fixed.Incentive, ref.Incentive, 1e-6)
					compare(t, fmt.Sprintf("%s step %d dividends", f, k), got.Fixed.Dividends, ref.Dividends, 1e-6)
				}
			}
			if err != nil {
				t.Fatalf("%s step %d: %v", f, k, err)
			}
		}
		if epochs == 0 {
			t.Fatalf("%s has no epochs", f)
		}
	}
}
