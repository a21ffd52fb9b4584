// Package floatref is a float64 reference of the Yuma epoch, for
// benchmarks and cross-checks only. It must never run inside consensus:
// float64 results differ across platforms and from the fixed-point epoch
// in the last bits. Package yuma is the consensus implementation.
//
// The consensus step here uses the textbook definition (SPEC §2.6: C_j is
// the largest weight w such that validators holding at least κ of the
// active stake set w or more on j), computed by sorting, rather than
// subtensor's partition algorithm, so agreement with package yuma is an
// independent check.
package floatref

import (
	"math"
	"sort"

	"github.com/tenun-chain/tenun/yuma"
)

// Result holds the float64 epoch outputs, indexed by uid.
type Result struct {
	Stake          []float64
	ActiveStake    []float64
	Consensus      []float64
	ValidatorTrust []float64
	Incentive      []float64
	Dividends      []float64
	// Bonds[i][j] as the epoch would store them before u16 rounding: Yuma 3
	// absolute bonds, or original-mode bonds max-upscaled per column.
	Bonds [][]float64
}

type entry struct {
	j int
	v float64
}

// Prepared is the epoch input in float64: normalised stake, active stake
// and the masked, row-normalised weights.
type Prepared struct {
	N           int
	Stake       []float64
	ActiveStake []float64
	Weights     [][]entry
}

// Prepare applies SPEC §2.1–2.5 in float64.
func Prepare(s *yuma.Subnet, p yuma.Params, block uint64) *Prepared {
	n := len(s.Neurons)
	owner := func(i int) bool { return s.HasOwner && int(s.OwnerUID) == i }
	cutoff := p.ActivityCutoff()
	pr := &Prepared{N: n, Stake: make([]float64, n), ActiveStake: make([]float64, n), Weights: make([][]entry, n)}
	total := 0.0
	for i, nu := range s.Neurons {
		st := float64(nu.Stake)
		if nu.Stake < p.StakeThreshold && !owner(i) {
			st = 0
		}
		pr.Stake[i] = st
		total += st
	}
	if total > 0 {
		for i := range pr.Stake {
			pr.Stake[i] /= total
		}
	}
	for i, nu := range s.Neurons {
		permit := nu.ValidatorPermit || owner(i)
		active := nu.LastUpdate+cutoff >= block
		if permit && active {
			pr.ActiveStake[i] = pr.Stake[i]
		}
	}
	normalize(pr.ActiveStake)
	for i, nu := range s.Neurons {
		if !(nu.ValidatorPermit || owner(i)) {
			continue
		}
		var row []entry
		rowSum := 0.0
		for _, e := range nu.Weights {
			j := int(e.UID)
			if j == i && !owner(i) {
				continue
			}
			reg := s.Neurons[j].RegisteredAt
			if nu.LastUpdate <= reg {
				continue
			}
			if p.CommitReveal && nu.HasPendingCommit && nu.CommitBlock < reg {
				continue
			}
			row = append(row, entry{j, float64(e.Value)})
			rowSum += float64(e.Value)
		}
		if rowSum > 0 {
			for k := range row {
				row[k].v /= rowSum
			}
		}
		pr.Weights[i] = row
	}
	return pr
}

func normalize(x []float64) {
	t := 0.0
	for _, v := range x {
		t += v
	}
	if t == 0 {
		return
	}
	for i := range x {
		x[i] /= t
	}
}

// Consensus is the stake-weighted κ-majority weight of every column.
func (pr *Prepared) Consensus(kappa float64) []float64 {
	n := pr.N
	type vote struct{ w, s float64 }
	cols := make([][]vote, n)
	var totalStake float64
	for i, a := range pr.ActiveStake {
		if a <= 0 {
			continue
		}
		totalStake += a
		for _, e := range pr.Weights[i] {
			cols[e.j] = append(cols[e.j], vote{e.v, a})
		}
	}
	c := make([]float64, n)
	if totalStake == 0 {
		return c
	}
	need := kappa * totalStake
	for j, vs := range cols {
		// Descending by weight; accumulate stake until it reaches κ.
		sort.Slice(vs, func(a, b int) bool { return vs[a].w > vs[b].w })
		acc := 0.0
		for _, v := range vs {
			acc += v.s
			if acc >= need && v.w > 0 {
				c[j] = v.w
				break
			}
		}
	}
	return c
}

// Epoch runs the whole epoch in float64 (both bond modes, liquid alpha with
// math.Exp), reading the stored u16 bonds of s.
func Epoch(s *yuma.Subnet, p yuma.Params, block uint64) Result {
	pr := Prepare(s, p, block)
	n := pr.N
	kappa := float64(p.Kappa) / 65535
	cons := pr.Consensus(kappa)
	r := Result{Stake: pr.Stake, ActiveStake: pr.ActiveStake, Consensus: cons,
		ValidatorTrust: make([]float64, n), Incentive: make([]float64, n), Dividends: make([]float64, n)}

	clipped := make([][]entry, n)
	for i, row := range pr.Weights {
		for _, e := range row {
			v := math.Min(e.v, cons[e.j])
			clipped[i] = append(clipped[i], entry{e.j, v})
			r.ValidatorTrust[i] += v
			r.Incentive[e.j] += pr.ActiveStake[i] * v
		}
	}
	normalize(r.Incentive)

	beta := float64(p.BondsPenalty) / 65535
	wb := make([][]float64, n) // dense W̃ rows of validators with weights
	for i, row := range pr.Weights {
		if len(row) == 0 {
			continue
		}
		wb[i] = make([]float64, n)
		for k, e := range row {
			wb[i][e.j] = e.v + beta*(clipped[i][k].v-e.v)
		}
	}
	lastTempo := uint64(0)
	if s.LastEpochBlock == 0 {
		if block > p.Tempo {
			lastTempo = block - p.Tempo
		}
	} else {
		lastTempo = s.LastEpochBlock + 1
	}
	old := make([][]float64, n)
	for i, nu := range s.Neurons {
		old[i] = make([]float64, n)
		for _, e := range nu.Bonds {
			if lastTempo <= s.Neurons[e.UID].RegisteredAt {
				continue
			}
			old[i][e.UID] = float64(e.Value)
		}
	}
	a := 1 - float64(p.BondsMovingAverage)/1e6
	bonds := make([][]float64, n)
	for i := range bonds {
		bonds[i] = make([]float64, n)
	}
	if p.BondsMode == yuma.ModeYuma3 {
		anyC := false
		for _, c := range cons {
			anyC = anyC || c != 0
		}
		lo, hi := float64(p.AlphaLow)/65535, float64(p.AlphaHigh)/65535
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				b := old[i][j] / 65535
				var w float64
				if wb[i] != nil {
					w = wb[i][j]
				}
				if p.LiquidAlpha && anyC {
					if !inWTilde(pr.Weights[i], j, cons[j], beta) {
						continue // sparse path drops bonds on omitted columns
					}
					al := alphaSigmoid(cons[j], w, b, lo, hi, float64(p.AlphaSigmoidSteepness))
					bonds[i][j] = math.Min(1, (1-al)*b+math.Max(0, al*w))
				} else {
					bonds[i][j] = a*w + (1-a)*b
				}
			}
		}
		norm := colNormalized(bonds)
		for i := 0; i < n; i++ {
			t := 0.0
			for j := 0; j < n; j++ {
				t += norm[i][j] * r.Incentive[j]
			}
			r.Dividends[i] = t * pr.ActiveStake[i]
		}
		normalize(r.Dividends)
		r.Bonds = bonds
	} else {
		oldN := colNormalized(old)
		delta := make([][]float64, n)
		for i := range delta {
			delta[i] = make([]float64, n)
			if wb[i] != nil {
				for j := range delta[i] {
					delta[i][j] = wb[i][j] * pr.ActiveStake[i]
				}
			}
		}
		deltaN := colNormalized(delta)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				bonds[i][j] = a*deltaN[i][j] + (1-a)*oldN[i][j]
			}
		}
		bonds = colNormalized(bonds)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				r.Dividends[i] += bonds[i][j] * r.Incentive[j]
			}
		}
		normalize(r.Dividends)
		r.Bonds = colMaxUpscaled(bonds)
	}
	return r
}

// inWTilde reports whether the sparse W̃ row holds column j: β = 0 keeps
// every stored entry, β = 1 (clipped weights) drops positive weights on a
// zero-consensus column, other β keep only positive interpolations.
func inWTilde(row []entry, j int, c, beta float64) bool {
	for _, e := range row {
		if e.j != j {
			continue
		}
		switch beta {
		case 0:
			return true
		case 1:
			return e.v <= c || c > 0
		default:
			return e.v+beta*(math.Min(e.v, c)-e.v) > 0
		}
	}
	return false
}

func alphaSigmoid(c, w, b, lo, hi, steepness float64) float64 {
	var d float64
	if w >= b {
		d = math.Min(1, math.Max(0, w-c))
	} else {
		d = math.Min(1, math.Max(0, b-w))
	}
	x := steepness / -100 * (d - 0.5)
	sig := 1 / (1 + math.Exp(x))
	return math.Min(hi, math.Max(lo, lo+sig*(hi-lo)))
}

func colNormalized(m [][]float64) [][]float64 {
	n := len(m)
	out := make([][]float64, n)
	sums := make([]float64, n)
	for _, row := range m {
		for j, v := range row {
			sums[j] += v
		}
	}
	for i, row := range m {
		out[i] = make([]float64, len(row))
		for j, v := range row {
			if sums[j] != 0 {
				out[i][j] = v / sums[j]
			}
		}
	}
	return out
}

func colMaxUpscaled(m [][]float64) [][]float64 {
	n := len(m)
	maxes := make([]float64, n)
	for _, row := range m {
		for j, v := range row {
			maxes[j] = math.Max(maxes[j], v)
		}
	}
	out := make([][]float64, n)
	for i, row := range m {
		out[i] = make([]float64, len(row))
		for j, v := range row {
			if maxes[j] != 0 {
				out[i][j] = v / maxes[j]
			}
		}
	}
	return out
}
