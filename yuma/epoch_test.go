package yuma

import (
	"reflect"
	"testing"
)

func TestEpochEmptyAndZeroStake(t *testing.T) {
	res, err := Epoch(&Subnet{}, DefaultParams(), 1, 1000)
	if err != nil || len(res.Emission) != 0 {
		t.Fatalf("empty subnet: %v %+v", err, res)
	}
	s := newTestSubnet(3, 1)
	for i := range s.Neurons {
		s.Neurons[i].Stake = 0
	}
	res, err = Epoch(s, DefaultParams(), 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range res.Emission {
		if e != 0 || res.ValidatorPermit[i] {
			t.Fatalf("zero stake: emission %v permits %v", res.Emission, res.ValidatorPermit)
		}
	}
}

// Running the same epoch on two copies gives identical results, and the
// written-back state equals the result.
func TestEpochDeterministic(t *testing.T) {
	s, err := SyntheticSubnet(300, 20, 42)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []BondsMode{ModeYuma3, ModeOriginal} {
		p := DefaultParams()
		p.BondsMode, p.LiquidAlpha = mode, true
		a, b := s.Clone(), s.Clone()
		for k := 0; k < 3; k++ {
			ra, err1 := Epoch(a, p, SyntheticBlock, 1e9)
			rb, err2 := Epoch(b, p, SyntheticBlock, 1e9)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !reflect.DeepEqual(ra, rb) || !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: epochs differ", mode)
			}
			for i := range a.Neurons {
				got := a.Neurons[i].Bonds
				if len(got) != len(ra.Bonds[i]) || (len(got) > 0 && !reflect.DeepEqual(got, ra.Bonds[i])) || a.Neurons[i].ValidatorPermit != ra.ValidatorPermit[i] {
					t.Fatalf("state not written back for uid %d", i)
				}
			}
		}
	}
}

// The owner keeps its permit and self-weight and is exempt from the stake
// threshold (sparse production semantics, SPEC §2.2–2.5).
func TestOwnerRules(t *testing.T) {
	s := newTestSubnet(4, 1) // stakes 1, 2, 3, 4
	s.HasOwner, s.OwnerUID = true, 0
	p := DefaultParams()
	p.Tempo = 1
	p.StakeThreshold = 2
	p.MaxAllowedValidators = 2
	res, err := Epoch(s, p, 1, 1000)
	must(t, err)
	if !res.ValidatorPermit[0] || res.StakeWeight[0] == 0 {
		t.Fatalf("owner lost permit or stake: %v %v", res.ValidatorPermit, res.StakeWeight)
	}
	if want := []bool{true, false, true, true}; !reflect.DeepEqual(res.ValidatorPermit, want) {
		t.Fatalf("permits = %v, want %v", res.ValidatorPermit, want)
	}
	// Owner self-weight survives masking: a majority owner weighting only
	// itself earns the whole incentive.
	must(t, s.SetStake(0, 100))
	must(t, s.SetWeights(0, []uint16{0}, []uint16{1}, 2))
	res, err = Epoch(s, p, 2, 1000)
	must(t, err)
	if res.Consensus[0] == 0 || res.Incentive[0] != 65535 {
		t.Fatalf("owner self-weight masked: C=%v I=%v", res.Consensus, res.Incentive)
	}
	// A non-owner self-weight is masked.
	must(t, s.SetWeights(2, []uint16{2}, []uint16{1}, 3))
	s.HasOwner = false
	res, err = Epoch(s, p, 3, 1000)
	must(t, err)
	if res.Incentive[2] != 0 {
		t.Fatalf("self-weight not masked: %v", res.Incentive)
	}
}

// Weights set before the target (re)registered are dropped, as are those
// committed before it under commit-reveal.
func TestOutdatedAndCommitRevealMasks(t *testing.T) {
	p := DefaultParams()
	p.Tempo = 1
	s := newTestSubnet(3, 1)
	must(t, s.SetStake(0, 100))    // uid 0 alone decides consensus
	_, err := Epoch(s, p, 1, 1000) // permits
	must(t, err)
	must(t, s.SetWeights(0, []uint16{1, 2}, []uint16{1, 1}, 5))
	must(t, s.SetWeights(1, []uint16{2}, []uint16{1}, 5))
	must(t, s.Register(2, 3, 5)) // same block as the weights: outdated
	res, err := Epoch(s, p, 6, 1000)
	must(t, err)
	if res.Incentive[2] != 0 || res.Incentive[1] == 0 {
		t.Fatalf("outdated mask: incentive %v", res.Incentive)
	}

	s = newTestSubnet(3, 1)
	_, err = Epoch(s, p, 1, 1000)
	must(t, err)
	must(t, s.SetWeights(0, []uint16{1}, []uint16{1}, 5))
	must(t, s.SetWeights(2, []uint16{1}, []uint16{1}, 5))
	s.Neurons[1].RegisteredAt = 3 // uid 1 re-registered at block 3
	s.Neurons[0].HasPendingCommit, s.Neurons[0].CommitBlock = true, 2
	p.CommitReveal = true
	res, err = Epoch(s, p, 6, 1000)
	must(t, err)
	if res.Fixed.ValidatorTrust[0] != 0 || res.Fixed.ValidatorTrust[2] == 0 {
		t.Fatalf("commit-reveal mask: trust %v", res.Fixed.ValidatorTrust)
	}
}

// Yuma 3 in steady consensus: a bond tracks the validator's own
// row-normalised weight (SPEC §2.8b).
func TestYuma3BondsTrackWeights(t *testing.T) {
	p := DefaultParams()
	p.Tempo = 1
	p.ActivityCutoffFactorMilli = 1_000_000 // 1000-block cutoff: stay active
	s := newTestSubnet(4, 1)
	s.Neurons[2].Stake, s.Neurons[3].Stake = 0, 0
	_, err := Epoch(s, p, 1, 1000)
	must(t, err)
	for _, v := range []uint16{0, 1} {
		must(t, s.SetWeights(v, []uint16{2, 3}, []uint16{65535, 21845}, 2)) // 0.75 / 0.25
	}
	var res Result
	for b := uint64(2); b < 200; b++ {
		res, err = Epoch(s, p, b, 1000)
		must(t, err)
	}
	// The stored u16 is floored every epoch, so the EMA stalls once
	// 0.1·(target − bond) drops below one u16 step: up to 10 steps short.
	for _, v := range []int{0, 1} {
		if b := bondAt(res.Bonds[v], 2); b < 49151-11 || b > 49151 {
			t.Fatalf("bond[%d][2] = %d, want ≈ 0.75·65535", v, b)
		}
		if b := bondAt(res.Bonds[v], 3); b < 16383-11 || b > 16384 {
			t.Fatalf("bond[%d][3] = %d, want ≈ 0.25·65535", v, b)
		}
	}
}
