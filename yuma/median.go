package yuma

// medianScratch holds the index buffers of weightedMedian so that the
// column loop allocates nothing.
type medianScratch struct {
	cur, lower, upper []int32
}

func newMedianScratch(m int) *medianScratch {
	return &medianScratch{
		cur:   make([]int32, 0, m),
		lower: make([]int32, 0, m),
		upper: make([]int32, 0, m),
	}
}

// weightedMedian is subtensor's weighted_median over the partition [0, m):
// the deterministic middle pivot, strict '<' to enter the lower part and
// '<=' to enter the upper part, equal scores skipped (SPEC §2.6). Do not
// replace it by a sort-based median: the tie behaviour at the kappa
// boundary is part of consensus.
func weightedMedian(stake, score []I32F32, minority, lo, hi I32F32, sc *medianScratch) I32F32 {
	m := len(stake)
	cur := sc.cur[:0]
	for k := 0; k < m; k++ {
		cur = append(cur, int32(k))
	}
	lower, upper := sc.lower, sc.upper
	// Each round removes at least the pivot, so the loop ends within m
	// rounds; the explicit limit mirrors subtensor's safety counter.
	for iter := 0; iter <= m+1; iter++ {
		switch len(cur) {
		case 0:
			return 0
		case 1:
			return score[cur[0]]
		}
		pivot := score[cur[len(cur)/2]]
		var loStake, hiStake I32F32
		lower, upper = lower[:0], upper[:0]
		for _, idx := range cur {
			s := score[idx]
			if s == pivot {
				continue
			}
			if s < pivot {
				loStake = loStake.SatAdd(stake[idx])
				lower = append(lower, idx)
			} else {
				hiStake = hiStake.SatAdd(stake[idx])
				upper = append(upper, idx)
			}
		}
		switch {
		case minority < lo.SatAdd(loStake) && len(lower) > 0:
			hi = lo.SatAdd(loStake)
			cur, lower = lower, cur
		case hi.SatSub(hiStake) <= minority && len(upper) > 0:
			lo = hi.SatSub(hiStake)
			cur, upper = upper, cur
		default:
			return pivot
		}
	}
	return 0
}

// weightedMedianColSparse is weighted_median_col_sparse: the stake-weighted
// median of each column over the rows with positive stake, with that stake
// renormalised and minority = sum − majority (SPEC §2.6).
func weightedMedianColSparse(stake []I32F32, score sparse, n int, majority I32F32) []I32F32 {
	median := make([]I32F32, n)
	// rowOf[k] is the k-th row with positive stake.
	useStake := make([]I32F32, 0, len(stake))
	rowOf := make([]int, 0, len(stake))
	for i, s := range stake {
		if s > 0 {
			useStake = append(useStake, s)
			rowOf = append(rowOf, i)
		}
	}
	m := len(useStake)
	if m == 0 {
		return median // every column's partition is empty: median 0
	}
	inplaceNormalize(useStake)
	stakeSum := sum(useStake)
	minority := stakeSum.SatSub(majority)

	// Transpose the used rows into columns (CSC) so each column's dense
	// score vector can be filled in O(entries); absent entries read as 0.
	colStart := make([]int32, n+1)
	for _, i := range rowOf {
		if i < len(score) {
			for _, c := range score[i] {
				colStart[c.col+1]++
			}
		}
	}
	for j := 0; j < n; j++ {
		colStart[j+1] += colStart[j]
	}
	type kv struct {
		k   int32
		val I32F32
	}
	entries := make([]kv, colStart[n])
	fill := append([]int32(nil), colStart[:n]...)
	for k, i := range rowOf {
		if i < len(score) {
			for _, c := range score[i] {
				entries[fill[c.col]] = kv{int32(k), c.val}
				fill[c.col]++
			}
		}
	}

	colScore := make([]I32F32, m)
	sc := newMedianScratch(m)
	for j := 0; j < n; j++ {
		es := entries[colStart[j]:colStart[j+1]]
		nonZero := false
		for _, e := range es {
			if e.val != 0 {
				nonZero = true
				break
			}
		}
		if !nonZero {
			// All scores are 0, and the median of equal scores is that
			// score (the first pivot partitions nothing).
			continue
		}
		clear(colScore)
		for _, e := range es {
			colScore[e.k] = e.val
		}
		median[j] = weightedMedian(useStake, colScore, minority, 0, stakeSum, sc)
	}
	return median
}
