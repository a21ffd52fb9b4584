package yuma

import "math/bits"

// Sparse matrices mirror subtensor's Vec<Vec<(u16, I32F32)>>: one row per
// uid, entries in ascending column order (Subnet.Validate guarantees it for
// stored rows and every operation below preserves it). Because rows are
// sorted and unique, operations that subtensor performs by densifying a row
// into n columns are done here by merging two sorted rows, which visits the
// same non-zero columns in the same order and so gives identical bits.

type cell struct {
	col uint32
	val I32F32
}

type sparse [][]cell

func mul64(a, b uint64) (uint64, uint64) { return bits.Mul64(a, b) }

// newSparse allocates n empty rows that share one backing array of capacity
// nnz, so building a matrix costs two allocations.
func newSparse(n, nnz int) (sparse, []cell) {
	return make(sparse, n), make([]cell, 0, nnz)
}

func (m sparse) nnz() int {
	t := 0
	for _, r := range m {
		t += len(r)
	}
	return t
}

// appendRow appends row to the shared backing array and returns the slice
// that now holds it.
func appendRow(buf *[]cell, row []cell) []cell {
	start := len(*buf)
	*buf = append(*buf, row...)
	return (*buf)[start:len(*buf):len(*buf)]
}

// sum is x.iter().sum(): plain wrapping addition.
func sum(x []I32F32) I32F32 {
	var s I32F32
	for _, v := range x {
		s += v
	}
	return s
}

// inplaceNormalize divides by the plain sum unless it is zero.
func inplaceNormalize(x []I32F32) {
	s := sum(x)
	if s == 0 {
		return
	}
	for i, v := range x {
		x[i] = v.SafeDiv(s)
	}
}

// inplaceRowNormalizeSparse normalises rows whose sum is positive.
func inplaceRowNormalizeSparse(m sparse) {
	for _, row := range m {
		var s I32F32
		for _, c := range row {
			s += c.val
		}
		if s > 0 {
			d := newDivider(s)
			for k := range row {
				row[k].val = d.div(row[k].val)
			}
		}
	}
}

// colSums returns saturating column sums (inplace_col_normalize_sparse).
func colSums(m sparse, n int) []I32F32 {
	cs := make([]I32F32, n)
	for _, row := range m {
		for _, c := range row {
			cs[c.col] = cs[c.col].SatAdd(c.val)
		}
	}
	return cs
}

// inplaceColNormalizeSparse divides every entry by its column's saturating
// sum, skipping zero-sum columns.
func inplaceColNormalizeSparse(m sparse, n int) {
	cs := colSums(m, n)
	divs := makeDividers(cs)
	for _, row := range m {
		for k := range row {
			j := row[k].col
			if cs[j] == 0 {
				continue
			}
			row[k].val = divs[j].div(row[k].val)
		}
	}
}

// inplaceColMaxUpscaleSparse divides every entry by its column's maximum.
func inplaceColMaxUpscaleSparse(m sparse, n int) {
	cm := make([]I32F32, n)
	for _, row := range m {
		for _, c := range row {
			if cm[c.col] < c.val {
				cm[c.col] = c.val
			}
		}
	}
	divs := makeDividers(cm)
	for _, row := range m {
		for k := range row {
			j := row[k].col
			if cm[j] == 0 {
				continue
			}
			row[k].val = divs[j].div(row[k].val)
		}
	}
}

// colClipSparse is col_clip_sparse: entries above their column's consensus
// are clipped to it, or dropped when the consensus is 0.
func colClipSparse(m sparse, c []I32F32) sparse {
	out, buf := newSparse(len(m), m.nnz())
	row := make([]cell, 0, 64)
	for i, r := range m {
		row = row[:0]
		for _, e := range r {
			t := c[e.col]
			if t < e.val {
				if 0 < t {
					row = append(row, cell{e.col, t})
				}
			} else {
				row = append(row, e)
			}
		}
		out[i] = appendRow(&buf, row)
	}
	return out
}

// colClipSparseInPlace is colClipSparse overwriting m (rows only shrink).
func colClipSparseInPlace(m sparse, c []I32F32) sparse {
	for i, r := range m {
		k := 0
		for _, e := range r {
			t := c[e.col]
			if t < e.val {
				if 0 < t {
					r[k] = cell{e.col, t}
					k++
				}
			} else {
				r[k] = e
				k++
			}
		}
		m[i] = r[:k]
	}
	return m
}

// rowSumSparse is row_sum_sparse (plain sums).
func rowSumSparse(m sparse) []I32F32 {
	out := make([]I32F32, len(m))
	for i, row := range m {
		var s I32F32
		for _, c := range row {
			s += c.val
		}
		out[i] = s
	}
	return out
}

// matmulSparse is matmul_sparse: r_j = sum_i v_i · m_ij (saturating).
func matmulSparse(m sparse, v []I32F32, n int) []I32F32 {
	out := make([]I32F32, n)
	for i, row := range m {
		vi := v[i]
		if vi == 0 {
			// 0 · x = 0 and x + 0 = x: skipping is exact.
			continue
		}
		for _, c := range row {
			out[c.col] = out[c.col].SatAdd(vi.Mul(c.val))
		}
	}
	return out
}

// matmulTransposeSparse is matmul_transpose_sparse: d_i = sum_j v_j · m_ij.
func matmulTransposeSparse(m sparse, v []I32F32) []I32F32 {
	out := make([]I32F32, len(m))
	for i, row := range m {
		var s I32F32
		for _, c := range row {
			s = s.SatAdd(v[c.col].Mul(c.val))
		}
		out[i] = s
	}
	return out
}

// rowHadamardSparse is row_hadamard_sparse: m_ij · v_i.
func rowHadamardSparse(m sparse, v []I32F32) sparse {
	out, buf := newSparse(len(m), m.nnz())
	for i, row := range m {
		start := len(buf)
		for _, c := range row {
			buf = append(buf, cell{c.col, c.val.Mul(v[i])})
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// interpolateSparse is interpolate_sparse(mat1, mat2, ratio): ratio 0 gives
// mat1, 1 gives mat2, otherwise mat1 + ratio·(mat2 − mat1) keeping values
// > 0. mat2's columns must be a subset of mat1's (true for W and W̄).
func interpolateSparse(m1, m2 sparse, ratio I32F32) sparse {
	if ratio == 0 {
		return m1
	}
	if ratio == One32 {
		return m2
	}
	out, buf := newSparse(len(m1), m1.nnz()+m2.nnz())
	for i := range m1 {
		start := len(buf)
		r1, r2 := m1[i], m2[i]
		a, b := 0, 0
		for a < len(r1) || b < len(r2) {
			var col uint32
			var v1, v2 I32F32
			switch {
			case b >= len(r2) || (a < len(r1) && r1[a].col < r2[b].col):
				col, v1 = r1[a].col, r1[a].val
				a++
			case a >= len(r1) || r2[b].col < r1[a].col:
				col, v2 = r2[b].col, r2[b].val
				b++
			default:
				col, v1, v2 = r1[a].col, r1[a].val, r2[b].val
				a++
				b++
			}
			v := v1.SatAdd(ratio.Mul(v2.SatSub(v1)))
			if v > 0 {
				buf = append(buf, cell{col, v})
			}
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// matEmaSparse is mat_ema_sparse: alpha·new + (1 − alpha)·old over the
// union of entries, keeping values > 0.
func matEmaSparse(newM, oldM sparse, alpha I32F32) sparse {
	oneMinus := One32.SatSub(alpha)
	out, buf := newSparse(len(newM), newM.nnz()+oldM.nnz())
	for i := range newM {
		start := len(buf)
		rn, ro := newM[i], oldM[i]
		a, b := 0, 0
		for a < len(rn) || b < len(ro) {
			var col uint32
			var v I32F32
			switch {
			case b >= len(ro) || (a < len(rn) && rn[a].col < ro[b].col):
				col, v = rn[a].col, alpha.Mul(rn[a].val)
				a++
			case a >= len(rn) || ro[b].col < rn[a].col:
				col, v = ro[b].col, oneMinus.Mul(ro[b].val)
				b++
			default:
				col = rn[a].col
				v = alpha.Mul(rn[a].val).SatAdd(oneMinus.Mul(ro[b].val))
				a++
				b++
			}
			if v > 0 {
				buf = append(buf, cell{col, v})
			}
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// matEmaAlphaSparse is mat_ema_alpha_sparse with alpha supplied per entry of
// the new matrix: for each (j, w) in new row i the result is
// min(1, (1 − α)·old_ij + max(0, α·w)), kept if > 0. Old bonds whose column
// is absent from the new row are dropped (SPEC §3 item 4). alphaAt(i, j, w,
// b) returns α_ij given the new value w and the old value b (0 if absent).
func matEmaAlphaSparse(newM, oldM sparse, alphaAt func(i int, j uint32, w, b I32F32) I32F32) sparse {
	out, buf := newSparse(len(newM), newM.nnz())
	for i := range newM {
		start := len(buf)
		ro := oldM[i]
		b := 0
		for _, e := range newM[i] {
			for b < len(ro) && ro[b].col < e.col {
				b++
			}
			var old I32F32
			if b < len(ro) && ro[b].col == e.col {
				old = ro[b].val
			}
			alpha := alphaAt(i, e.col, e.val, old)
			decayed := One32.SatSub(alpha).Mul(old)
			purchase := alpha.Mul(e.val)
			if purchase < 0 {
				purchase = 0
			}
			v := decayed.SatAdd(purchase)
			if v > One32 {
				v = One32
			}
			if v > 0 {
				buf = append(buf, cell{e.col, v})
			}
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// divider computes x.SafeDiv(d) for a fixed divisor d > 0 and 0 <= x, the
// common case in normalisation, falling back to the general routine for
// anything else. Values here are proportions (x < 2^32), so the 96-bit
// numerator x<<32 fits the fast single-word path.
type divider struct {
	d I32F32
}

func newDivider(d I32F32) divider { return divider{d: d} }

func makeDividers(ds []I32F32) []divider {
	out := make([]divider, len(ds))
	for i, d := range ds {
		out[i] = divider{d: d}
	}
	return out
}

func (v divider) div(x I32F32) I32F32 {
	if x >= 0 && x < 1<<32 && v.d > 0 {
		// (x << 32) fits in 64 bits: a plain unsigned division truncates
		// exactly like checked_div for non-negative operands; the quotient
		// is < 2^64 and fits I32F32 unless it exceeds MaxInt64.
		q := (uint64(x) << 32) / uint64(v.d)
		if q <= 1<<63-1 {
			return I32F32(q)
		}
		return 0
	}
	return x.SafeDiv(v.d)
}
