package model

import (
	"fmt"
	"slices"
	"strings"
)

// Diff names the fields in which a and b differ, each with both values,
// e.g. "shifts [4] vs [5]"; empty when they are equal. Error messages use
// it so a mismatch shows what differs, not two identical short names.
func (a Arch) Diff(b Arch) string {
	var d []string
	if !slices.Equal(a.Sizes, b.Sizes) {
		d = append(d, fmt.Sprintf("sizes %v vs %v", a.Sizes, b.Sizes))
	}
	if a.InBits != b.InBits {
		d = append(d, fmt.Sprintf("in_bits %d vs %d", a.InBits, b.InBits))
	}
	if !slices.Equal(a.Shifts, b.Shifts) {
		d = append(d, fmt.Sprintf("shifts (quantization) %v vs %v", a.Shifts, b.Shifts))
	}
	if !slices.Equal(a.BiasBits, b.BiasBits) {
		d = append(d, fmt.Sprintf("bias_bits %v vs %v", a.BiasBits, b.BiasBits))
	}
	return strings.Join(d, ", ")
}
