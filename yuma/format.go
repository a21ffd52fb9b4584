package yuma

import (
	"fmt"
	"math/bits"
	"strings"
)

// String prints the value the way substrate-fixed's Display does for I32F32
// (and so the way subtensor's epoch traces print it): ten fractional digits
// rounded half to even, then trailing zeros trimmed. Example: the bits
// 429496729 print as 0.0999999999.
func (a I32F32) String() string {
	neg := a < 0
	mag := abs64(int64(a))
	intPart := mag >> 32
	frac := mag & (1<<32 - 1)

	// digits = round_half_even(frac · 10^10 / 2^32); frac·10^10 < 2^66.
	const scale = 10_000_000_000
	hi, lo := bits.Mul64(frac, scale)
	digits := hi<<32 | lo>>32
	rem := lo & (1<<32 - 1)
	if rem > 1<<31 || (rem == 1<<31 && digits&1 == 1) {
		digits++
	}
	if digits == scale {
		intPart++
		digits = 0
	}
	var b strings.Builder
	if neg && (intPart != 0 || digits != 0) {
		b.WriteByte('-')
	}
	fmt.Fprintf(&b, "%d", intPart)
	if digits != 0 {
		s := strings.TrimRight(fmt.Sprintf("%010d", digits), "0")
		b.WriteByte('.')
		b.WriteString(s)
	}
	return b.String()
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
