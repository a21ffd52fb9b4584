package circuit

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/multicommit"

	"github.com/tenun-chain/tenun/zkml/model"
)

// pow2 returns 2^k as a big integer constant.
func pow2(k int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(k)) }

// split hints the limbs of v with the given widths, packed from bit 0
// upwards, and asserts that they recompose to v. It does NOT range-check the
// limbs: the caller must, otherwise the split is not unique.
func split(api frontend.API, v frontend.Variable, widths []int) ([]frontend.Variable, error) {
	offsets := make([]int, len(widths))
	off := 0
	for k, w := range widths {
		offsets[k] = off
		off += w
	}
	return splitAt(api, v, widths, offsets)
}

// splitAt is split with explicit bit offsets (bits between limbs must be zero).
func splitAt(api frontend.API, v frontend.Variable, widths, offsets []int) ([]frontend.Variable, error) {
	in := make([]frontend.Variable, 0, 2*len(widths)+1)
	in = append(in, v)
	for k, w := range widths {
		in = append(in, w, offsets[k])
	}
	limbs, err := api.Compiler().NewHint(splitHint, len(widths), in...)
	if err != nil {
		return nil, fmt.Errorf("split hint: %w", err)
	}
	terms := make([]frontend.Variable, len(limbs))
	for k, l := range limbs {
		terms[k] = api.Mul(l, pow2(offsets[k]))
	}
	api.AssertIsEqual(sum(api, terms), v)
	return limbs, nil
}

// fine splits a width into lookup-sized pieces (MaxRangeBits at most).
func fine(w int) []int {
	var out []int
	for ; w > MaxRangeBits; w -= MaxRangeBits {
		out = append(out, MaxRangeBits)
	}
	if w > 0 {
		out = append(out, w)
	}
	return out
}

// decompose splits v into items of the given widths, each range-checked
// (wide items via lookup-sized limbs), and returns the items. Because every
// limb is range-checked and the widths sum to at most model.PackBits, the
// decomposition is unique: this is what makes a packed commitment bind the
// individual integers.
func decompose(api frontend.API, lk *Lookups, v frontend.Variable, widths []int) ([]frontend.Variable, error) {
	var fw []int
	total := 0
	for _, w := range widths {
		fw = append(fw, fine(w)...)
		total += w
	}
	if total > model.PackBits {
		return nil, fmt.Errorf("decompose: %d bits exceed a field element", total)
	}
	limbs, err := split(api, v, fw)
	if err != nil {
		return nil, err
	}
	for k, l := range limbs {
		lk.Range(api, l, fw[k])
	}
	items := make([]frontend.Variable, len(widths))
	k := 0
	for i, w := range widths {
		parts := fine(w)
		terms := make([]frontend.Variable, len(parts))
		off := 0
		for p, pw := range parts {
			terms[p] = api.Mul(limbs[k], pow2(off))
			off += pw
			k++
		}
		items[i] = sum(api, terms)
	}
	return items, nil
}

// rangeCheck asserts 0 <= v < 2^bits for any width (split into limbs when
// wider than a lookup table).
func rangeCheck(api frontend.API, lk *Lookups, v frontend.Variable, bits int) error {
	if bits <= MaxRangeBits {
		lk.Range(api, v, bits)
		return nil
	}
	_, err := decompose(api, lk, v, []int{bits})
	return err
}

// unpack decomposes packed elements laid out by model.Layout(widths).
func unpack(api frontend.API, lk *Lookups, elems []frontend.Variable, widths []int) ([]frontend.Variable, error) {
	spans := model.Layout(widths)
	if len(spans) != len(elems) {
		return nil, fmt.Errorf("unpack: %d elements, layout needs %d", len(elems), len(spans))
	}
	items := make([]frontend.Variable, 0, len(widths))
	for e, sp := range spans {
		it, err := decompose(api, lk, elems[e], widths[sp.Start:sp.End])
		if err != nil {
			return nil, fmt.Errorf("unpack element %d: %w", e, err)
		}
		items = append(items, it...)
	}
	return items, nil
}

// layerVars are one layer's weights as unsigned u = w+128 (u[j][i]) and its
// signed biases.
type layerVars struct {
	u    [][]frontend.Variable
	bias []frontend.Variable
}

// unpackModel range-checks and unpacks the packed model and asserts that it
// hashes to the public commitment.
func unpackModel(api frontend.API, lk *Lookups, arch model.Arch, packed []frontend.Variable, commitment frontend.Variable) ([]layerVars, error) {
	items, err := unpack(api, lk, packed, arch.ItemWidths())
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	h, err := sponge(api, model.DomainModel, arch.Header(), packed)
	if err != nil {
		return nil, err
	}
	api.AssertIsEqual(h, commitment)
	return layersFromItems(api, arch, items), nil
}

// layersFromItems arranges unpacked model items (model.Arch.ItemWidths
// order) into layers.
func layersFromItems(api frontend.API, arch model.Arch, items []frontend.Variable) []layerVars {
	layers := make([]layerVars, arch.NumLayers())
	k := 0
	for l := range layers {
		nIn, nOut := arch.Sizes[l], arch.Sizes[l+1]
		layers[l].u = make([][]frontend.Variable, nOut)
		for j := range nOut {
			layers[l].u[j] = items[k : k+nIn]
			k += nIn
		}
	}
	for l := range layers {
		off := pow2(arch.BiasBits[l] - 1)
		for range arch.Sizes[l+1] {
			layers[l].bias = append(layers[l].bias, api.Sub(items[k], off))
			k++
		}
	}
	return layers
}

// packedAccumulators computes, for each group of up to G outputs of a layer,
//
//	A'_g = sum_i x_i * P_{i,g} + sum_s (b_j - 128*sum(x) + 2^Z) * 2^(S*s)
//
// where P_{i,g} = sum_s u[j][i] * 2^(S*s) packs the unsigned weights of the
// group's outputs j = g*G+s. One multiplication per (input, group) computes G
// dot products at once: slot s of A'_g holds z_j + 2^Z, which lies in
// [0, 2^(Z+1)) by the arch bound, so slots never carry into each other and
// the integers are exact (the total stays below 2^253 < p).
func packedAccumulators(api frontend.API, arch model.Arch, l int, x []frontend.Variable, lv layerVars) []frontend.Variable {
	S, G, Z := arch.SlotBits(l), arch.SlotsPerElem(l), arch.ZBits(l)
	nOut := arch.Sizes[l+1]
	sumX := sum(api, x)
	var out []frontend.Variable
	for j0 := 0; j0 < nOut; j0 += G {
		j1 := min(j0+G, nOut)
		terms := make([]frontend.Variable, 0, len(x)+j1-j0)
		for i := range x {
			packedW := make([]frontend.Variable, 0, j1-j0)
			for j := j0; j < j1; j++ {
				packedW = append(packedW, api.Mul(lv.u[j][i], pow2(S*(j-j0))))
			}
			terms = append(terms, api.Mul(x[i], sum(api, packedW)))
		}
		for j := j0; j < j1; j++ {
			// b_j - 128*sum(x) + 2^Z turns the unsigned-weight sum into z_j + 2^Z.
			t := api.Add(lv.bias[j], api.Mul(sumX, -model.WeightOffset), pow2(Z))
			terms = append(terms, api.Mul(t, pow2(S*(j-j0))))
		}
		out = append(out, sum(api, terms))
	}
	return out
}

// slotWidths is the split of one hidden pre-activation t = z + 2^Z into
// lookup-sized limbs: the shifted-out remainder r, the 8 activation bits a
// and the high part hf (see activation).
func slotWidths(arch model.Arch, l int) []int {
	return append(append(fine(arch.Shifts[l]), model.ActBits), arch.FlagBits(l))
}

// activation computes h = clamp(floor(z / 2^shift), 0, 255) from the limbs
// of t = z + 2^Z, split as
//
//	t = r + 2^shift * a + 2^(shift+8) * hf,   r < 2^shift, a < 2^8, hf < 2^hb
//
// so floor(z/2^shift) = a + 256*(hf - 2^(hb-1)). The result is a when hf is
// exactly 2^(hb-1), saturates at 255 above and is 0 below; the saturation
// lookup yields those two flags, and h = e*a + 255*g.
//
// r and a are always range-checked. hf is range-checked unless pinned: when
// the caller separately proves that the limbs recompose to the exact
// pre-activation (the batched Freivalds check does), r and a in range force
// hf = (t - r - 2^shift*a) / 2^(shift+8) to be an integer only for the true
// split, and the saturation lookup (with e, g boolean) already bounds hf to
// a small integer, so a second check would be redundant.
func activation(api frontend.API, lk *Lookups, arch model.Arch, l int, limbs []frontend.Variable, pinned bool) (frontend.Variable, error) {
	v, err := requantReLU(api, lk, arch.Shifts[l], arch.FlagBits(l), limbs, pinned)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", l, err)
	}
	return v, nil
}

// requantReLU is activation for any shift and flag width hb (the limbs are
// those of reluWidths(shift, hb)).
func requantReLU(api frontend.API, lk *Lookups, shift, hb int, limbs []frontend.Variable, pinned bool) (frontend.Variable, error) {
	rw := fine(shift)
	for k, w := range rw {
		lk.Range(api, limbs[k], w)
	}
	a, hf := limbs[len(rw)], limbs[len(rw)+1]
	lk.Range(api, a, model.ActBits)
	if !pinned {
		if err := rangeCheck(api, lk, hf, hb); err != nil {
			return nil, err
		}
	}
	flags, err := api.Compiler().NewHint(saturationHint, 2, hb, hf)
	if err != nil {
		return nil, err
	}
	lk.Saturation(api, hf, flags[0], flags[1], hb)
	return api.Add(api.Mul(flags[0], a), api.Mul(flags[1], model.ActMax)), nil
}

// denseHidden computes a hidden layer for one input vector from packed
// accumulators: slot s of each accumulator is t = z + 2^Z of one output,
// split into the limbs of activation with a single recomposition constraint
// per accumulator.
func denseHidden(api frontend.API, lk *Lookups, arch model.Arch, l int, x []frontend.Variable, lv layerVars) ([]frontend.Variable, error) {
	G := arch.SlotsPerElem(l)
	nOut := arch.Sizes[l+1]
	slot := slotWidths(arch, l)
	h := make([]frontend.Variable, 0, nOut)
	for g, acc := range packedAccumulators(api, arch, l, x, lv) {
		n := min(G, nOut-g*G)
		var widths []int
		for range n {
			widths = append(widths, slot...)
		}
		limbs, err := split(api, acc, widths)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		for s := range n {
			v, err := activation(api, lk, arch, l, limbs[s*len(slot):(s+1)*len(slot)], false)
			if err != nil {
				return nil, err
			}
			h = append(h, v)
		}
	}
	return h, nil
}

// packingCost and freivaldsCost estimate the multiplications a hidden layer
// needs over rows inputs with each method.
func packingCost(arch model.Arch, l, rows int) int {
	groups := (arch.Sizes[l+1] + arch.SlotsPerElem(l) - 1) / arch.SlotsPerElem(l)
	return rows * arch.Sizes[l] * groups
}

func freivaldsCost(arch model.Arch, l, rows int) int {
	nIn, nOut := arch.Sizes[l], arch.Sizes[l+1]
	_, G := freivaldsStride(arch, l)
	groups := (nOut + G - 1) / G
	return (nIn+1)*groups + rows*(nIn+groups+nOut)
}

// denseHiddenBatch computes a hidden layer for many input vectors at once.
// The prover hints every pre-activation's limbs; the circuit checks them all
// with one random linear combination per row (Freivalds):
//
//	sum_j w_j * z[r][j] == sum_i x[r][i] * c_i + B
//	c_i = sum_j w_j * (u[j][i] - 128),  B = sum_j w_j * b_j
//
// with weights w_j = rho^(g+1) * 2^(F*s) for output j = g*G + s: random
// across groups of G outputs (rho from gnark's commitment to the limbs,
// inputs, weights and biases) and packed with a constant stride of F bits
// inside a group. A wrong z makes some group's packed difference non-zero,
// and the random combination of groups then vanishes with probability at most
// groups/p. Inside a group, every difference is below 2^F in absolute value
// (the limbs bound z even though hf is not range-checked, see activation), so
// a zero packed difference means every difference is zero. c and B are
// computed once, so a row costs nIn + groups multiplications; inputs that are
// constants (a test set compiled into the circuit) cost none.
func denseHiddenBatch(api frontend.API, lk *Lookups, arch model.Arch, l int, xs [][]frontend.Variable, lv layerVars) ([][]frontend.Variable, error) {
	nIn, nOut, Z := arch.Sizes[l], arch.Sizes[l+1], arch.ZBits(l)
	F, G := freivaldsStride(arch, l)
	slot := slotWidths(arch, l)
	in := []frontend.Variable{len(xs), nIn, nOut, Z}
	for _, w := range slot {
		in = append(in, w)
	}
	toCommit := make([]frontend.Variable, 0, nIn*nOut+nOut+len(xs)*(nIn+nOut*len(slot)))
	for j := range nOut {
		in = append(in, lv.u[j]...)
		toCommit = append(toCommit, lv.u[j]...)
	}
	in = append(in, lv.bias...)
	toCommit = append(toCommit, lv.bias...)
	for _, x := range xs {
		in = append(in, x...)
		for _, v := range x {
			if _, isConst := api.Compiler().ConstantValue(v); !isConst {
				toCommit = append(toCommit, v)
			}
		}
	}
	limbs, err := api.Compiler().NewHint(preactivationHint, len(xs)*nOut*len(slot), in...)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", l, err)
	}
	toCommit = append(toCommit, limbs...)

	groups := (nOut + G - 1) / G
	hs := make([][]frontend.Variable, len(xs))
	packedZ := make([][]frontend.Variable, len(xs)) // per row and group: sum_s 2^(F*s) * z
	for r := range xs {
		terms := make([][]frontend.Variable, groups)
		for j := range nOut {
			part := limbs[(r*nOut+j)*len(slot) : (r*nOut+j+1)*len(slot)]
			h, err := activation(api, lk, arch, l, part, true)
			if err != nil {
				return nil, err
			}
			hs[r] = append(hs[r], h)
			g, sh := j/G, F*(j%G)
			terms[g] = append(terms[g], new(big.Int).Neg(pow2(Z+sh)))
			off := 0
			for k, w := range slot {
				terms[g] = append(terms[g], api.Mul(part[k], pow2(off+sh)))
				off += w
			}
		}
		for g := range groups {
			packedZ[r] = append(packedZ[r], sum(api, terms[g]))
		}
	}
	multicommit.WithCommitment(api, func(api frontend.API, rho frontend.Variable) error {
		pw := make([]frontend.Variable, groups)
		pw[0] = rho
		for g := 1; g < groups; g++ {
			pw[g] = api.Mul(pw[g-1], rho)
		}
		// w_j = pw[j/G] * 2^(F*(j%G)); packed(v) = sum over a group of 2^(F*s)*v_j.
		packed := func(g int, v func(j int) frontend.Variable) frontend.Variable {
			var t []frontend.Variable
			for j := g * G; j < min(nOut, (g+1)*G); j++ {
				t = append(t, api.Mul(v(j), pow2(F*(j%G))))
			}
			return sum(api, t)
		}
		c := make([]frontend.Variable, nIn)
		for i := range nIn {
			terms := make([]frontend.Variable, 0, groups)
			for g := range groups {
				uMinus := packed(g, func(j int) frontend.Variable { return api.Sub(lv.u[j][i], model.WeightOffset) })
				terms = append(terms, api.Mul(uMinus, pw[g]))
			}
			c[i] = sum(api, terms)
		}
		bt := make([]frontend.Variable, groups)
		for g := range groups {
			bt[g] = api.Mul(packed(g, func(j int) frontend.Variable { return lv.bias[j] }), pw[g])
		}
		B := sum(api, bt)
		for r, x := range xs {
			terms := make([]frontend.Variable, 0, groups+nIn+1)
			for g := range groups {
				terms = append(terms, api.Mul(packedZ[r][g], pw[g]))
			}
			for i := range nIn {
				terms = append(terms, api.Neg(api.Mul(x[i], c[i])))
			}
			terms = append(terms, api.Neg(B))
			// 1 * 0 == lhs - rhs: keeps the full-size products out of B.
			api.AssertIsEqual(0, sum(api, terms))
		}
		return nil
	}, toCommit...)
	return hs, nil
}

// freivaldsStride returns the packing stride F and group size G of the
// batched check of hidden layer l. Limbs bound z to (-2^(Z+3), 2^(Z+4)) and
// the true z to (-2^Z, 2^Z), so differences are below 2^(Z+5).
func freivaldsStride(arch model.Arch, l int) (F, G int) {
	F = arch.ZBits(l) + 5
	return F, model.PackBits / F
}

// denseArgmax computes the output layer and returns the predicted class
// (first index of the maximum logit) as a variable.
//
// Slots of the packed accumulators hold t_j = logit_j + 2^Z. The prover
// hints a one-hot e (the class) and tmax. For every group the circuit forms
//
//	D_g = sum_s (tmax - t_j - [j < class]) * 2^(S*s)
//
// and splits it into digits of S-1 bits. With tmax range-checked, each true
// slot value lies in [-2^(S-1), 2^(S-1)), so D_g has a valid split iff every
// slot is non-negative, and then the digits are the slots. Requiring the
// digit at the class to be zero pins tmax to the class's logit; the other
// digits being >= 0 makes the class the first maximum.
func denseArgmax(api frontend.API, lk *Lookups, arch model.Arch, l int, x []frontend.Variable, lv layerVars) (frontend.Variable, error) {
	S, G, Z := arch.SlotBits(l), arch.SlotsPerElem(l), arch.ZBits(l)
	nOut := arch.Sizes[l+1]
	accs := packedAccumulators(api, arch, l, x, lv)
	in := []frontend.Variable{nOut, S, G}
	in = append(in, accs...)
	hint, err := api.Compiler().NewHint(argmaxHint, nOut+1, in...)
	if err != nil {
		return nil, fmt.Errorf("argmax: %w", err)
	}
	e, tmax := hint[:nOut], hint[nOut]
	if err := rangeCheck(api, lk, tmax, Z+1); err != nil {
		return nil, err
	}
	for _, b := range e {
		api.AssertIsBoolean(b)
	}
	api.AssertIsEqual(sum(api, e), 1)

	// lt[j] = [j < class] = sum of e over indices above j.
	lt := make([]frontend.Variable, nOut)
	lt[nOut-1] = 0
	for j := nOut - 2; j >= 0; j-- {
		lt[j] = api.Add(lt[j+1], e[j+1])
	}
	var atClass []frontend.Variable
	for g, acc := range accs {
		n := min(G, nOut-g*G)
		terms := []frontend.Variable{api.Neg(acc)}
		// Digit s sits at offset S*s and has S-1 bits (split into lookup-sized
		// limbs); the bit between digits must be zero.
		var widths, offsets []int
		for s := range n {
			j := g*G + s
			terms = append(terms, api.Mul(api.Sub(tmax, lt[j]), pow2(S*s)))
			off := S * s
			for _, w := range fine(S - 1) {
				widths = append(widths, w)
				offsets = append(offsets, off)
				off += w
			}
		}
		limbs, err := splitAt(api, sum(api, terms), widths, offsets)
		if err != nil {
			return nil, fmt.Errorf("argmax: %w", err)
		}
		per := len(fine(S - 1))
		for s := range n {
			parts := make([]frontend.Variable, per)
			for k := range per {
				lk.Range(api, limbs[s*per+k], widths[s*per+k])
				parts[k] = api.Mul(limbs[s*per+k], pow2(offsets[s*per+k]-S*s))
			}
			atClass = append(atClass, api.Mul(e[g*G+s], sum(api, parts)))
		}
	}
	api.AssertIsEqual(sum(api, atClass), 0)

	cls := make([]frontend.Variable, nOut)
	for j := range e {
		cls[j] = api.Mul(e[j], j)
	}
	return sum(api, cls), nil
}

// forceFreivalds makes tests exercise the batched path on small shapes.
var forceFreivalds = false

// predictRows runs all layers on each input vector and returns the classes.
// Hidden layers over several rows use the batched Freivalds check when it
// needs fewer multiplications than packing.
func predictRows(api frontend.API, lk *Lookups, arch model.Arch, xs [][]frontend.Variable, layers []layerVars) ([]frontend.Variable, error) {
	cur := xs
	for l := 0; l < arch.NumLayers()-1; l++ {
		if forceFreivalds || freivaldsCost(arch, l, len(cur)) < packingCost(arch, l, len(cur)) {
			h, err := denseHiddenBatch(api, lk, arch, l, cur, layers[l])
			if err != nil {
				return nil, err
			}
			cur = h
			continue
		}
		next := make([][]frontend.Variable, len(cur))
		for r, x := range cur {
			h, err := denseHidden(api, lk, arch, l, x, layers[l])
			if err != nil {
				return nil, err
			}
			next[r] = h
		}
		cur = next
	}
	out := make([]frontend.Variable, len(cur))
	for r, x := range cur {
		cls, err := denseArgmax(api, lk, arch, arch.NumLayers()-1, x, layers[arch.NumLayers()-1])
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", r, err)
		}
		out[r] = cls
	}
	return out, nil
}
