package yuma

import (
	"cmp"
	"fmt"
	"slices"
)

// Result is what one epoch produces. The u16 vectors are the values
// subtensor stores (⌊x·65535⌋); Fixed holds the same quantities unrounded.
type Result struct {
	Block uint64 `json:"block"`
	// Amount is the emission E passed to the epoch.
	Amount uint64 `json:"amount"`

	StakeWeight     []uint16 `json:"stake_weight"`     // normalised stake S
	Active          []bool   `json:"active"`           // !inactive
	ValidatorPermit []bool   `json:"validator_permit"` // P', stored for the next epoch
	Consensus       []uint16 `json:"consensus"`
	Incentive       []uint16 `json:"incentive"`
	Dividends       []uint16 `json:"dividends"`
	ValidatorTrust  []uint16 `json:"validator_trust"`

	// Emission is the stored combined emission ⌊ce_i·E⌋; ServerEmission
	// (miners, by incentive) and ValidatorEmission (by dividends) are what
	// the coinbase pays out.
	Emission          []uint64 `json:"emission"`
	ServerEmission    []uint64 `json:"server_emission"`
	ValidatorEmission []uint64 `json:"validator_emission"`

	// Bonds are the rows written back to Subnet (positive entries only).
	Bonds [][]Entry `json:"bonds"`

	Fixed FixedVectors `json:"fixed"`
}

// FixedVectors are the epoch's I32F32 intermediates, for tests and tracing.
type FixedVectors struct {
	Stake          []I32F32 `json:"stake"`
	ActiveStake    []I32F32 `json:"active_stake"`
	Consensus      []I32F32 `json:"consensus"`
	Incentive      []I32F32 `json:"incentive"`
	Dividends      []I32F32 `json:"dividends"`
	ValidatorTrust []I32F32 `json:"validator_trust"`
}

// Epoch runs one Yuma consensus epoch over s at block with emission amount
// (subtensor's epoch_mechanism, sparse production path; SPEC §2). On
// success it writes the new bond rows and validator permits into s, as the
// pallet does; it never touches LastEpochBlock (the scheduler sets it). On
// error s is unchanged.
//
// The computation is integer-only and iterates in uid order, so every node
// obtains identical bits.
func Epoch(s *Subnet, p Params, block uint64, emission uint64) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("yuma: epoch at block %d: params: %w", block, err)
	}
	if err := s.Validate(); err != nil {
		return Result{}, fmt.Errorf("yuma: epoch at block %d: state: %w", block, err)
	}
	n := len(s.Neurons)
	nr := s.Neurons
	isOwner := func(i int) bool { return s.HasOwner && int(s.OwnerUID) == i }

	// ---- SPEC §2.1 masks
	cutoff := p.ActivityCutoff()
	active := make([]bool, n)
	for i := range nr {
		lu := nr[i].LastUpdate
		end := lu + cutoff
		if end < lu {
			end = 1<<64 - 1 // saturating_add
		}
		active[i] = !(end < block)
	}
	var lastTempo uint64
	if s.LastEpochBlock == 0 {
		if block > p.Tempo {
			lastTempo = block - p.Tempo
		}
	} else {
		lastTempo = s.LastEpochBlock + 1
	}

	// ---- SPEC §2.2 stake, normalised in I64F64 then truncated to I32F32
	stake64 := make([]I64F64, n)
	var total uint64
	for i := range nr {
		st := nr[i].Stake
		if st < p.StakeThreshold && !isOwner(i) {
			st = 0
		}
		if st > 1<<63-1 {
			return Result{}, fmt.Errorf("yuma: epoch at block %d: stake %d of uid %d exceeds I64F64", block, st, i)
		}
		if total+st < total || total+st > 1<<63-1 {
			return Result{}, fmt.Errorf("yuma: epoch at block %d: total stake overflows I64F64", block)
		}
		total += st
		stake64[i] = I64F64FromU64(st)
	}
	stake := make([]I32F32, n)
	sumStake := I64F64FromU64(total)
	for i := range stake64 {
		if total == 0 {
			stake[i] = stake64[i].ToI32F32()
		} else {
			stake[i] = stake64[i].SafeDiv(sumStake).ToI32F32()
		}
	}

	// ---- SPEC §2.3 validator permits
	permit := make([]bool, n)
	for i := range nr {
		permit[i] = nr[i].ValidatorPermit || isOwner(i)
	}
	newPermit := isTopKNonzero(stake, int(p.MaxAllowedValidators))
	if s.HasOwner {
		newPermit[s.OwnerUID] = true
	}

	// ---- SPEC §2.4 active stake
	activeStake := make([]I32F32, n)
	for i := range stake {
		if permit[i] && active[i] {
			activeStake[i] = stake[i]
		}
	}
	inplaceNormalize(activeStake)

	// ---- SPEC §2.5 weights: permit rows, diagonal, outdated, commit-reveal, normalise
	weights := buildWeights(s, p, permit)

	// ---- SPEC §2.6 consensus
	kappa := U16ProportionToFixed(p.Kappa)
	consensus := weightedMedianColSparse(activeStake, weights, n, kappa)

	// ---- SPEC §2.7 clipping, validator trust, rank, incentive
	bondsPenalty := U16ProportionToFixed(p.BondsPenalty)
	var clipped sparse
	if bondsPenalty == One32 {
		// β = 1 (the default): W̃ = W̄ and W is not needed again, so clip in
		// place instead of copying the matrix.
		clipped = colClipSparseInPlace(weights, consensus)
	} else {
		clipped = colClipSparse(weights, consensus)
	}
	validatorTrust := rowSumSparse(clipped)
	incentive := matmulSparse(clipped, activeStake, n)
	inplaceNormalize(incentive)

	// ---- SPEC §2.8 bonds and dividends
	weightsForBonds := clipped
	if bondsPenalty != One32 {
		weightsForBonds = interpolateSparse(weights, clipped, bondsPenalty)
	}
	recent := func(j uint32) bool { return lastTempo <= nr[j].RegisteredAt }

	var dividends []I32F32
	var stored sparse // bonds as they will be stored, before u16 conversion
	if p.BondsMode == ModeYuma3 {
		bonds := readBonds(s, recent, U16ProportionToFixed)
		ema := computeBondsYuma3(p, weightsForBonds, bonds, consensus)
		// D_i = A_i · sum_j B̂_ij·I_j (mat_vec_mul_sparse, row_sum, vec_mul)
		// with B̂ the column-normalised EMA; B̂_ij is computed on the fly
		// exactly as inplace_col_normalize_sparse would, so ema stays as
		// stored.
		cs := colSums(ema, n)
		divs := makeDividers(cs)
		dividends = make([]I32F32, n)
		for i, row := range ema {
			var t I32F32
			for _, c := range row {
				v := c.val
				if cs[c.col] != 0 {
					v = divs[c.col].div(v)
				}
				t += v.Mul(incentive[c.col])
			}
			// vec_mul uses checked_mul(..).unwrap_or_default().
			if v, ok := t.checkedMul(activeStake[i]); ok {
				dividends[i] = v
			}
		}
		inplaceNormalize(dividends)
		stored = ema
	} else {
		bonds := readBonds(s, recent, FromU16)
		inplaceColNormalizeSparse(bonds, n)
		delta := rowHadamardSparse(weightsForBonds, activeStake)
		inplaceColNormalizeSparse(delta, n)
		ema := matEmaSparse(delta, bonds, bmaAlpha(p))
		inplaceColNormalizeSparse(ema, n)
		dividends = matmulTransposeSparse(ema, incentive)
		inplaceNormalize(dividends)
		inplaceColMaxUpscaleSparse(ema, n)
		stored = ema
	}

	// ---- SPEC §2.9 emission
	combined := make([]I32F32, n)
	for i := range combined {
		combined[i] = incentive[i].SatAdd(dividends[i])
	}
	emissionSum := sum(combined)
	normServer := append([]I32F32(nil), incentive...)
	normValidator := append([]I32F32(nil), dividends...)
	normCombined := append([]I32F32(nil), combined...)
	if emissionSum != 0 {
		for i := range normServer {
			normServer[i] = normServer[i].SafeDiv(emissionSum)
			normValidator[i] = normValidator[i].SafeDiv(emissionSum)
		}
	}
	inplaceNormalize(normCombined)
	if emissionSum == 0 {
		// No usable weights: pay validators by stake.
		fallback := activeStake
		if sum(activeStake) == 0 {
			fallback = stake
		}
		copy(normValidator, fallback)
		copy(normCombined, fallback)
	}

	res := Result{
		Block:             block,
		Amount:            emission,
		StakeWeight:       toU16(stake),
		Active:            active,
		ValidatorPermit:   newPermit,
		Consensus:         toU16(consensus),
		Incentive:         toU16(incentive),
		Dividends:         toU16(dividends),
		ValidatorTrust:    toU16(validatorTrust),
		Emission:          toAmount(normCombined, emission),
		ServerEmission:    toAmount(normServer, emission),
		ValidatorEmission: toAmount(normValidator, emission),
		Bonds:             make([][]Entry, n),
		Fixed: FixedVectors{
			Stake:          stake,
			ActiveStake:    activeStake,
			Consensus:      consensus,
			Incentive:      incentive,
			Dividends:      dividends,
			ValidatorTrust: validatorTrust,
		},
	}
	// Bond rows: written for new permit holders; every other row ends up
	// empty (cleared when the permit was just lost, and non-validators hold
	// no bonds in the sparse path; SPEC §2.9).
	for i := 0; i < n; i++ {
		row := []Entry{}
		if !newPermit[i] {
			res.Bonds[i] = row
			continue
		}
		for _, c := range stored[i] {
			if u := FixedProportionToU16(c.val); u > 0 {
				row = append(row, Entry{UID: uint16(c.col), Value: u})
			}
		}
		res.Bonds[i] = row
	}
	// The state gets its own copy of each row (nil when empty, so stored
	// state has one canonical form); Result keeps [] for readable JSON.
	for i := range s.Neurons {
		s.Neurons[i].Bonds = nil
		if len(res.Bonds[i]) > 0 {
			s.Neurons[i].Bonds = slices.Clone(res.Bonds[i])
		}
		s.Neurons[i].ValidatorPermit = newPermit[i]
	}
	return res, nil
}

// isTopKNonzero is is_topk_nonzero: non-zero entries, and when n >= k the
// n−k smallest (stable ascending sort, so the lower uid loses ties) cleared.
func isTopKNonzero(v []I32F32, k int) []bool {
	n := len(v)
	out := make([]bool, n)
	for i, x := range v {
		out[i] = x != 0
	}
	if n < k {
		return out
	}
	// A stable ascending sort by value equals an unstable sort by the
	// unique key (value, uid).
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(v[a], v[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, i := range idx[:n-k] {
		out[i] = false
	}
	return out
}

// buildWeights reads the stored weights as integer-valued I32F32 and applies
// SPEC §2.5: rows without permit emptied, diagonal dropped except the
// owner's self-weight, entries set before the target (re)registered dropped,
// the commit-reveal mask, then row normalisation.
func buildWeights(s *Subnet, p Params, permit []bool) sparse {
	n := len(s.Neurons)
	total := 0
	for i := range s.Neurons {
		if permit[i] {
			total += len(s.Neurons[i].Weights)
		}
	}
	w, buf := newSparse(n, total)
	for i := range s.Neurons {
		if !permit[i] {
			continue
		}
		nu := &s.Neurons[i]
		start := len(buf)
		for _, e := range nu.Weights {
			j := int(e.UID)
			if j == i && !(s.HasOwner && int(s.OwnerUID) == i) {
				continue
			}
			reg := s.Neurons[j].RegisteredAt
			if nu.LastUpdate <= reg {
				continue // outdated: set before j last registered
			}
			if p.CommitReveal && nu.HasPendingCommit && nu.CommitBlock < reg {
				continue // committed before j registered (sniping mask)
			}
			buf = append(buf, cell{uint32(j), FromU16(e.Value)})
		}
		w[i] = buf[start:len(buf):len(buf)]
	}
	inplaceRowNormalizeSparse(w)
	return w
}

// readBonds reads stored bonds through conv and drops bonds on uids
// registered since the last epoch.
func readBonds(s *Subnet, recent func(uint32) bool, conv func(uint16) I32F32) sparse {
	total := 0
	for i := range s.Neurons {
		total += len(s.Neurons[i].Bonds)
	}
	b, buf := newSparse(len(s.Neurons), total)
	for i := range s.Neurons {
		start := len(buf)
		for _, e := range s.Neurons[i].Bonds {
			j := uint32(e.UID)
			if recent(j) {
				continue
			}
			buf = append(buf, cell{j, conv(e.Value)})
		}
		b[i] = buf[start:len(buf):len(buf)]
	}
	return b
}

// bmaAlpha is 1 − I32F32(I64F64(bma) / I64F64(1e6)), the EMA weight of the
// new observation (900_000 gives 429496730 / 2^32).
func bmaAlpha(p Params) I32F32 {
	ratio := I64F64FromU64(p.BondsMovingAverage).SafeDiv(I64F64FromU64(1_000_000))
	return One32.SatSub(ratio.ToI32F32())
}

// computeBondsYuma3 is compute_bonds_sparse: liquid alpha when enabled and
// some consensus is non-zero, otherwise the plain EMA with bmaAlpha.
func computeBondsYuma3(p Params, w, b sparse, consensus []I32F32) sparse {
	anyConsensus := false
	for _, c := range consensus {
		if c != 0 {
			anyConsensus = true
			break
		}
	}
	if !p.LiquidAlpha || !anyConsensus {
		return matEmaSparse(w, b, bmaAlpha(p))
	}
	lo := U16ProportionToFixed(p.AlphaLow)
	hi := U16ProportionToFixed(p.AlphaHigh)
	slope := FromInt(int64(p.AlphaSigmoidSteepness)).SatDiv(FromInt(-100))
	// α is only consulted at the new row's columns, so it is computed there
	// rather than for all n×n pairs as subtensor does; the values used are
	// identical. α depends on (c, w, b) only through d, so a small
	// direct-mapped memo of the pure function d -> α skips repeated exp
	// evaluations (d = 0 whenever a weight is at or below consensus).
	var memo [1024]struct {
		d, alpha I32F32
		ok       bool
	}
	return matEmaAlphaSparse(w, b, func(_ int, j uint32, wv, bv I32F32) I32F32 {
		d := sigmoidDiff(consensus[j], wv, bv)
		slot := &memo[(uint64(d)*0x9e3779b97f4a7c15)>>54]
		if slot.ok && slot.d == d {
			return slot.alpha
		}
		a := alphaFromDiff(d, lo, hi, slope)
		slot.d, slot.alpha, slot.ok = d, a, true
		return a
	})
}

// alphaSigmoid is subtensor's alpha_sigmoid (SPEC §2.8b), with the slope
// steepness/−100 (I32F32 saturating_div) computed once by the caller.
func alphaSigmoid(consensus, weight, bond, lo, hi, slope I32F32) I32F32 {
	return alphaFromDiff(sigmoidDiff(consensus, weight, bond), lo, hi, slope)
}

// sigmoidDiff is alpha_sigmoid's combined_diff: buying above consensus when
// the weight is at least the bond, selling a bond above the weight otherwise.
func sigmoidDiff(consensus, weight, bond I32F32) I32F32 {
	if weight >= bond {
		return clampFixed(weight.SatSub(consensus), 0, One32)
	}
	return clampFixed(bond.SatSub(weight), 0, One32)
}

// alphaFromDiff is the rest of alpha_sigmoid: lo + σ·(hi − lo) clamped, with
// σ = 1 / (1 + exp_safe(slope·(d − 0.5))).
func alphaFromDiff(d, lo, hi, slope I32F32) I32F32 {
	x := slope.SatMul(d.SatSub(half32))
	sigmoid := One32.SatDiv(One32.SatAdd(expSafe(x)))
	alpha := lo.SatAdd(sigmoid.SatMul(hi.SatSub(lo)))
	return clampFixed(alpha, lo, hi)
}

func toU16(x []I32F32) []uint16 {
	out := make([]uint16, len(x))
	for i, v := range x {
		out[i] = FixedProportionToU16(v)
	}
	return out
}

func toAmount(x []I32F32, e uint64) []uint64 {
	out := make([]uint64, len(x))
	for i, v := range x {
		out[i] = v.MulU64Floor(e)
	}
	return out
}
