// Package units parses and prints the quantities a person types on the
// command line: token amounts, fractions and durations. Every amount flag,
// fee included, takes one format (5tnn, 0.5tnn, 5000000utnn), every fraction
// one format (12.5% or 0.125), and every duration either blocks or time
// (90s, 10m) converted with the chain's block time. Integer math only, so a
// value prints back exactly as the chain stores it.
package units

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// UTNNPerTNN is the number of base units (utnn) in one TNN.
const UTNNPerTNN = 1_000_000

// AmountFormat names the accepted amount forms, for error messages.
const AmountFormat = "an amount with its unit, e.g. 5tnn, 0.5tnn or 5000000utnn"

// FractionFormat names the accepted fraction forms.
const FractionFormat = "a percentage or a fraction, e.g. 12.5% or 0.125"

// DurationFormat names the accepted duration forms.
const DurationFormat = "blocks or a time, e.g. 100, 100blocks, 90s, 10m or 1h30m"

// ErrFormat marks a value that does not have the expected format.
var ErrFormat = errors.New("malformed value")

func formatErr(s, want string) error {
	return fmt.Errorf("%w %q: want %s", ErrFormat, s, want)
}

// decimal splits "12.345" into its integer value scaled by 10^scale,
// refusing more than scale decimals, signs, exponents and empty parts.
func decimal(num string, scale int) (uint64, bool, string) {
	whole, frac, hasDot := strings.Cut(num, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, false, ""
	}
	if hasDot && frac == "" {
		return 0, false, ""
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, false, ""
			}
		}
	}
	if len(frac) > scale {
		return 0, false, fmt.Sprintf("at most %d decimals", scale)
	}
	var w uint64
	if whole != "" {
		v, err := strconv.ParseUint(whole, 10, 64)
		if err != nil {
			return 0, false, "too large"
		}
		w = v
	}
	mul := uint64(1)
	for i := 0; i < scale; i++ {
		mul *= 10
	}
	hi, lo := bits.Mul64(w, mul)
	if hi != 0 {
		return 0, false, "too large"
	}
	var f uint64
	if frac != "" {
		frac += strings.Repeat("0", scale-len(frac))
		v, _ := strconv.ParseUint(frac, 10, 64)
		f = v
	}
	sum, carry := bits.Add64(lo, f, 0)
	if carry != 0 {
		return 0, false, "too large"
	}
	return sum, true, ""
}

// ParseAmount reads an amount in utnn from "5tnn", "0.5tnn", "5 TNN" or
// "5000000utnn". A bare number is refused: "5" would otherwise silently
// mean 0.000005 TNN.
func ParseAmount(s string) (uint64, error) {
	in := s
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	s = strings.ReplaceAll(s, "_", "")
	var num string
	scale := 6
	switch {
	case strings.HasSuffix(s, "utnn"):
		num, scale = strings.TrimSuffix(s, "utnn"), 0
	case strings.HasSuffix(s, "tnn"):
		num = strings.TrimSuffix(s, "tnn")
	default:
		if _, ok, _ := decimal(s, 6); ok {
			return 0, fmt.Errorf("%w %q: a bare number has no unit; write %stnn or %sutnn", ErrFormat, in, s, s)
		}
		return 0, formatErr(in, AmountFormat)
	}
	v, ok, why := decimal(num, scale)
	if !ok {
		if why != "" {
			if scale == 0 {
				why = "utnn is the smallest unit: no decimals"
			}
			return 0, fmt.Errorf("%w %q: %s; want %s", ErrFormat, in, why, AmountFormat)
		}
		return 0, formatErr(in, AmountFormat)
	}
	return v, nil
}

// FormatAmount prints utnn as TNN, with as many decimals as it needs:
// "2.5 TNN", "0.000001 TNN", "5 TNN".
func FormatAmount(u uint64) string {
	whole, frac := u/UTNNPerTNN, u%UTNNPerTNN
	if frac == 0 {
		return fmt.Sprintf("%d TNN", whole)
	}
	return fmt.Sprintf("%d.%s TNN", whole, strings.TrimRight(fmt.Sprintf("%06d", frac), "0"))
}

// Fraction is a share of a whole in parts per million (0 to 1,000,000).
type Fraction uint64

// Whole is the Fraction 100%.
const Whole Fraction = 1_000_000

// ParseFraction reads "12.5%" (up to 4 decimals) or "0.125" (up to 6
// decimals, at most 1). Bare numbers above 1 are refused since "50" could
// mean 50% or 50 basis points.
func ParseFraction(s string) (Fraction, error) {
	in := s
	s = strings.TrimSpace(s)
	if num, ok := strings.CutSuffix(s, "%"); ok {
		v, ok, why := decimal(strings.TrimSpace(num), 4)
		if !ok {
			if why != "" {
				return 0, fmt.Errorf("%w %q: %s; want %s", ErrFormat, in, why, FractionFormat)
			}
			return 0, formatErr(in, FractionFormat)
		}
		if v > uint64(Whole) {
			return 0, fmt.Errorf("%w %q: above 100%%", ErrFormat, in)
		}
		return Fraction(v), nil
	}
	v, ok, why := decimal(s, 6)
	if !ok {
		if why != "" {
			return 0, fmt.Errorf("%w %q: %s; want %s", ErrFormat, in, why, FractionFormat)
		}
		return 0, formatErr(in, FractionFormat)
	}
	if v > uint64(Whole) {
		return 0, fmt.Errorf("%w %q: a fraction is at most 1, for a percentage write %s%%; want %s", ErrFormat, in, s, FractionFormat)
	}
	return Fraction(v), nil
}

// Of scales the fraction to a whole of `whole` units (basis points: 10000,
// out of 65535, millionths: 1e6, thousandths: 1000), rounding to the
// nearest unit. It fails when the rounding changes the value by more than
// half a unit of the target, which cannot happen, or when the target cannot
// hold the value exactly and exact is true.
func (f Fraction) Of(whole uint64, exact bool) (uint64, error) {
	hi, lo := bits.Mul64(uint64(f), whole)
	q, r := bits.Div64(hi, lo, uint64(Whole))
	if exact && r != 0 {
		return 0, fmt.Errorf("%s cannot be expressed in 1/%d steps", f, whole)
	}
	if r*2 >= uint64(Whole) {
		q++
	}
	return q, nil
}

// Bps is the fraction in basis points (1/10000), exactly.
func (f Fraction) Bps() (uint32, error) {
	v, err := f.Of(10_000, true)
	return uint32(v), err
}

// String prints the fraction as a percentage: "12.5%".
func (f Fraction) String() string {
	whole, rest := uint64(f)/10_000, uint64(f)%10_000
	if rest == 0 {
		return fmt.Sprintf("%d%%", whole)
	}
	return fmt.Sprintf("%d.%s%%", whole, strings.TrimRight(fmt.Sprintf("%04d", rest), "0"))
}

// FormatOf prints v out of whole as a percentage (e.g. bps 1250 -> "12.5%").
func FormatOf(v, whole uint64) string {
	hi, lo := bits.Mul64(v, uint64(Whole))
	if hi >= whole {
		return fmt.Sprintf("%d/%d", v, whole)
	}
	q, r := bits.Div64(hi, lo, whole)
	if r*2 >= whole {
		q++
	}
	return Fraction(q).String()
}

// Duration is a length of time typed as blocks or as a time. A time needs
// the chain's block time to become blocks (Blocks).
type Duration struct {
	blocks int64
	time   time.Duration // when typed as a time
}

// BlocksDuration is a Duration of n blocks.
func BlocksDuration(n int64) Duration { return Duration{blocks: n} }

// ParseDuration reads "100" or "100blocks" (blocks) or a Go time such as
// "90s", "10m", "1h30m".
func ParseDuration(s string) (Duration, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	num := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "blocks"), "block"), "b"))
	if num != "" && strings.Trim(num, "0123456789") == "" {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return Duration{}, fmt.Errorf("%w %q: too large", ErrFormat, in)
		}
		return Duration{blocks: n}, nil
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return Duration{}, formatErr(in, DurationFormat)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return Duration{}, formatErr(in, DurationFormat)
	}
	return Duration{time: d}, nil
}

// IsTime reports whether the duration was typed as a time.
func (d Duration) IsTime() bool { return d.time != 0 }

// Blocks converts the duration with the chain's block time, rounding a
// time up to whole blocks.
func (d Duration) Blocks(blockTime time.Duration) (int64, error) {
	if d.time == 0 {
		return d.blocks, nil
	}
	if blockTime <= 0 {
		return 0, fmt.Errorf("cannot convert %s to blocks: unknown block time", d.time)
	}
	return int64((d.time + blockTime - 1) / blockTime), nil
}

// String prints what was typed: "100 blocks" or "10m0s".
func (d Duration) String() string {
	if d.time != 0 {
		return d.time.String()
	}
	return fmt.Sprintf("%d blocks", d.blocks)
}

// FormatBlocks shows a number of blocks as both blocks and time:
// "1200 blocks (~10m0s)".
func FormatBlocks(n int64, blockTime time.Duration) string {
	if blockTime <= 0 {
		return fmt.Sprintf("%d blocks", n)
	}
	return fmt.Sprintf("%d blocks (~%s)", n, (time.Duration(n) * blockTime).Round(time.Second))
}

// FormatInt prints n in decimal.
func FormatInt(n int64) string { return strconv.FormatInt(n, 10) }
