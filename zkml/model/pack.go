package model

import (
	"fmt"
	"math/big"
)

// Span is the half-open range [Start, End) of items that one packed field
// element holds.
type Span struct{ Start, End int }

// Layout assigns items of the given bit widths to field elements: items are
// taken in order and an element is closed when the next item would not fit in
// PackBits. Item k of an element sits at the bit offset equal to the sum of
// the widths before it in that element. The circuits unpack with the same
// layout, so this function is part of the commitment format.
func Layout(widths []int) []Span {
	var spans []Span
	start, used := 0, 0
	for i, w := range widths {
		if used+w > PackBits {
			spans = append(spans, Span{start, i})
			start, used = i, 0
		}
		used += w
	}
	if start < len(widths) {
		spans = append(spans, Span{start, len(widths)})
	}
	return spans
}

// Pack packs unsigned values of the given widths into field elements (as
// integers below 2^PackBits) using [Layout].
func Pack(values []uint64, widths []int) ([]*big.Int, error) {
	if len(values) != len(widths) {
		return nil, fmt.Errorf("pack: %d values for %d widths", len(values), len(widths))
	}
	spans := Layout(widths)
	out := make([]*big.Int, len(spans))
	v := new(big.Int)
	for e, sp := range spans {
		acc := new(big.Int)
		off := 0
		for i := sp.Start; i < sp.End; i++ {
			if widths[i] < 64 && values[i]>>uint(widths[i]) != 0 {
				return nil, fmt.Errorf("pack: item %d value %d does not fit in %d bits", i, values[i], widths[i])
			}
			v.SetUint64(values[i])
			v.Lsh(v, uint(off))
			acc.Or(acc, v)
			off += widths[i]
		}
		out[e] = acc
	}
	return out, nil
}

// Unpack is the inverse of [Pack].
func Unpack(elems []*big.Int, widths []int) ([]uint64, error) {
	spans := Layout(widths)
	if len(spans) != len(elems) {
		return nil, fmt.Errorf("unpack: %d elements, layout needs %d", len(elems), len(spans))
	}
	out := make([]uint64, len(widths))
	for e, sp := range spans {
		rest := new(big.Int).Set(elems[e])
		for i := sp.Start; i < sp.End; i++ {
			mask := new(big.Int).Lsh(big.NewInt(1), uint(widths[i]))
			mask.Sub(mask, big.NewInt(1))
			out[i] = new(big.Int).And(rest, mask).Uint64()
			rest.Rsh(rest, uint(widths[i]))
		}
		if rest.Sign() != 0 {
			return nil, fmt.Errorf("unpack: element %d has bits beyond its items", e)
		}
	}
	return out, nil
}

// InputItems returns the packing widths of an input vector of the arch.
func (a Arch) InputItems(x []int) ([]uint64, []int, error) {
	if len(x) != a.NumInputs() {
		return nil, nil, fmt.Errorf("input has %d values, model takes %d", len(x), a.NumInputs())
	}
	vals := make([]uint64, len(x))
	widths := make([]int, len(x))
	for i, v := range x {
		if v < 0 || v >= 1<<a.InBits {
			return nil, nil, fmt.Errorf("input %d = %d out of [0, %d)", i, v, 1<<a.InBits)
		}
		vals[i] = uint64(v)
		widths[i] = a.InBits
	}
	return vals, widths, nil
}

// PackInput packs an input vector the way the inference circuit takes it as
// public inputs.
func (a Arch) PackInput(x []int) ([]*big.Int, error) {
	vals, widths, err := a.InputItems(x)
	if err != nil {
		return nil, err
	}
	return Pack(vals, widths)
}

// NumInputElems is the number of public field elements that carry the input.
func (a Arch) NumInputElems() int {
	w := make([]int, a.NumInputs())
	for i := range w {
		w[i] = a.InBits
	}
	return len(Layout(w))
}
