package yuma

import (
	"fmt"
	"math/bits"
	"strings"
)

// String prints the value the way subtensor's epoch traces print I32F32
// (substrate-fixed's Display): the shortest decimal that parses back to the
// same bits, e.g. 429496729 prints as 0.0999999999 and 1717986918 as 0.4.
func (a I32F32) String() string {
	neg := a < 0
	mag := abs64(int64(a))
	intPart := mag >> 32
	digits, k := shortestFrac(mag & (1<<32 - 1))
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	fmt.Fprintf(&b, "%d", intPart)
	if k > 0 {
		s := strings.TrimRight(fmt.Sprintf("%0*d", k, digits), "0")
		b.WriteByte('.')
		b.WriteString(s)
	}
	return b.String()
}

// shortestFrac returns the fewest decimal digits (d, k), value d/10^k, that
// round to frac/2^32 under round-to-nearest parsing. Ten digits always
// suffice because 10^-10 is below the 2^-32 step.
func shortestFrac(frac uint64) (uint64, int) {
	if frac == 0 {
		return 0, 0
	}
	var d uint64
	pow := uint64(1)
	for k := 1; k <= 10; k++ {
		pow *= 10
		// d = round_half_even(frac · 10^k / 2^32)
		hi, lo := bits.Mul64(frac, pow)
		d = hi<<32 | lo>>32
		if rem := lo & (1<<32 - 1); rem > 1<<31 || (rem == 1<<31 && d&1 == 1) {
			d++
		}
		if d < pow && roundFrac(d, pow) == frac {
			return d, k
		}
	}
	return d, 10
}

// roundFrac is round_half_even(d · 2^32 / pow), for d < pow <= 10^19.
func roundFrac(d, pow uint64) uint64 {
	hi, lo := bits.Mul64(d, 1<<32)
	q, r := bits.Div64(hi, lo, pow)
	if r > pow-r || (r == pow-r && q&1 == 1) {
		q++
	}
	return q
}

// MarshalText encodes the decimal form of String.
func (a I32F32) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses a decimal such as "0.25" or "-3", rounding to the
// nearest representable value (ties to even), as fixed's from_str does.
func (a *I32F32) UnmarshalText(text []byte) error {
	v, err := ParseI32F32(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ParseI32F32 parses a decimal number into the nearest I32F32 (ties to
// even). It accepts an optional sign, an integer part and up to 30
// fractional digits.
func ParseI32F32(s string) (I32F32, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	intStr, fracStr, _ := strings.Cut(s, ".")
	if intStr == "" && fracStr == "" {
		return 0, fmt.Errorf("parse I32F32 %q: no digits", orig)
	}
	var ip uint64
	for _, c := range intStr {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("parse I32F32 %q: bad digit %q", orig, c)
		}
		ip = ip*10 + uint64(c-'0')
		if ip > 1<<31 {
			return 0, fmt.Errorf("parse I32F32 %q: out of range", orig)
		}
	}
	if len(fracStr) > 19 {
		// Beyond 19 digits only matters for exact ties; keep 19 and mark
		// any non-zero tail as sticky so rounding stays correct.
		tail := strings.TrimRight(fracStr[19:], "0")
		fracStr = fracStr[:19]
		if tail != "" {
			fracStr += "1"
		}
	}
	// frac = F / 10^k; bits = round(F · 2^32 / 10^k).
	var f, pow uint64 = 0, 1
	for _, c := range fracStr {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("parse I32F32 %q: bad digit %q", orig, c)
		}
		if pow > (1<<64-1)/10 {
			break // cannot happen with <= 20 digits, kept for safety
		}
		f = f*10 + uint64(c-'0')
		pow *= 10
	}
	var fracBits uint64
	if pow > 1 {
		hi, lo := bits.Mul64(f, 1<<32)
		q, r := bits.Div64(hi, lo, pow)
		// Compare 2r with pow without overflow.
		if r > pow-r || (r == pow-r && q&1 == 1) {
			q++
		}
		fracBits = q
	}
	mag := ip<<32 + fracBits
	if (!neg && mag > 1<<63-1) || (neg && mag > 1<<63) {
		return 0, fmt.Errorf("parse I32F32 %q: out of range", orig)
	}
	if neg {
		return I32F32(-int64(mag)), nil
	}
	return I32F32(mag), nil
}
