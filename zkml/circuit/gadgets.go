package circuit

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/permutation/poseidon2"

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

// rangeCheck asserts 0 <= v < 2^bits for any width (split into limbs).
func rangeCheck(api frontend.API, lk *Lookups, v frontend.Variable, bits int) error {
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

// sponge is the in-circuit twin of model.SpongeHash.
func sponge(api frontend.API, domain uint64, header []uint64, elems []frontend.Variable) (frontend.Variable, error) {
	perm, err := poseidon2.NewPoseidon2FromParameters(api, model.SpongeWidth, model.SpongeFullRounds, model.SpongePartialRounds)
	if err != nil {
		return nil, fmt.Errorf("sponge: %w", err)
	}
	in := make([]frontend.Variable, 0, len(header)+len(elems))
	for _, h := range header {
		in = append(in, h)
	}
	in = append(in, elems...)
	state := make([]frontend.Variable, model.SpongeWidth)
	for k := range state {
		state[k] = 0
	}
	state[model.SpongeWidth-1] = model.SpongeIV(domain, len(in))
	for i := 0; i < len(in); i += model.SpongeRate {
		for k := 0; k < model.SpongeRate && i+k < len(in); k++ {
			state[k] = api.Add(state[k], in[i+k])
		}
		if err := perm.Permutation(state); err != nil {
			return nil, fmt.Errorf("sponge: %w", err)
		}
	}
	return state[0], nil
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
	return layers, nil
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

// denseHidden computes h_j = clamp(floor(z_j / 2^shift), 0, 255) for a
// hidden layer. Each slot t = z + 2^Z of the packed accumulators is split as
//
//	t = r + 2^shift * a + 2^(shift+8) * hf,   r < 2^shift, a < 2^8, hf < 2^hb
//
// so floor(z/2^shift) = a + 256*(hf - 2^(hb-1)). The result is a when hf is
// exactly 2^(hb-1), saturates at 255 above and is 0 below; one 3-column
// lookup (hf, e, g) yields those two flags, and h = e*a + 255*g.
func denseHidden(api frontend.API, lk *Lookups, arch model.Arch, l int, x []frontend.Variable, lv layerVars) ([]frontend.Variable, error) {
	G, shift, hb := arch.SlotsPerElem(l), arch.Shifts[l], arch.FlagBits(l)
	S := arch.SlotBits(l)
	nOut := arch.Sizes[l+1]
	rw := fine(shift)
	slot := append(append(append([]int(nil), rw...), model.ActBits), hb)
	used := 0
	for _, w := range slot {
		used += w
	}
	if used != S {
		return nil, fmt.Errorf("layer %d: slot widths %d != %d", l, used, S)
	}
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
			part := limbs[s*len(slot) : (s+1)*len(slot)]
			for k, w := range rw {
				lk.Range(api, part[k], w)
			}
			a, hf := part[len(rw)], part[len(rw)+1]
			lk.Range(api, a, model.ActBits)
			flags, err := api.Compiler().NewHint(saturationHint, 2, hb, hf)
			if err != nil {
				return nil, fmt.Errorf("layer %d: %w", l, err)
			}
			lk.Saturation(hf, flags[0], flags[1], hb)
			h = append(h, api.Add(api.Mul(flags[0], a), api.Mul(flags[1], model.ActMax)))
		}
	}
	return h, nil
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

// predict runs all layers on x and returns the class.
func predict(api frontend.API, lk *Lookups, arch model.Arch, x []frontend.Variable, layers []layerVars) (frontend.Variable, error) {
	cur := x
	for l := 0; l < arch.NumLayers()-1; l++ {
		h, err := denseHidden(api, lk, arch, l, cur, layers[l])
		if err != nil {
			return nil, err
		}
		cur = h
	}
	return denseArgmax(api, lk, arch, arch.NumLayers()-1, cur, layers[arch.NumLayers()-1])
}
