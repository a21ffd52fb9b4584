package yuma

// vote is one row's (score, stake) in a column's median.
type vote struct {
	score, stake I32F32
}

// medianScratch holds the partition buffers of weightedMedian so that the
// column loop allocates nothing.
type medianScratch struct {
	a, b, c []vote
}

func newMedianScratch(m int) *medianScratch {
	return &medianScratch{a: make([]vote, 0, m), b: make([]vote, 0, m), c: make([]vote, 0, m)}
}

// weightedMedian is subtensor's weighted_median over the partition [0, m):
// the deterministic middle pivot, strict '<' to enter the lower part and
// '<=' to enter the upper part, equal scores skipped (SPEC §2.6). Do not
// replace it by a sort-based median: the tie behaviour at the kappa
// boundary is part of consensus. Partitions keep the original relative
// order, as subtensor's index vectors do, so pivots are the same.
func weightedMedian(stake, score []I32F32, minority, lo, hi I32F32, sc *medianScratch) I32F32 {
	cur := sc.a[:0]
	for k := range stake {
		cur = append(cur, vote{score[k], stake[k]})
	}
	return weightedMedianVotes(cur, minority, lo, hi, sc)
}

func weightedMedianVotes(cur []vote, minority, lo, hi I32F32, sc *medianScratch) I32F32 {
	lower, upper := sc.b, sc.c
	// Each round removes at least the pivot, so the loop ends within m
	// rounds; the explicit limit mirrors subtensor's safety counter.
	for iter, limit := 0, len(cur)+1; iter <= limit; iter++ {
		switch len(cur) {
		case 0:
			return 0
		case 1:
			return cur[0].score
		}
		pivot := cur[len(cur)/2].score
		var loStake, hiStake I32F32
		lower, upper = lower[:0], upper[:0]
		for _, v := range cur {
			if v.score == pivot {
				continue
			}
			if v.score < pivot {
				loStake = loStake.SatAdd(v.stake)
				lower = append(lower, v)
			} else {
				hiStake = hiStake.SatAdd(v.stake)
				upper = append(upper, v)
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
		// The column's votes in row order; rows without an entry vote 0.
		cur := sc.a[:m]
		for k := range cur {
			cur[k] = vote{0, useStake[k]}
		}
		for _, e := range es {
			cur[e.k].score = e.val
		}
		median[j] = weightedMedianVotes(cur, minority, 0, stakeSum, sc)
	}
	return median
}
