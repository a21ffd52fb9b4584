package units

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParseAmount(t *testing.T) {
	good := map[string]uint64{
		"5tnn": 5_000_000, "0.5tnn": 500_000, "5000000utnn": 5_000_000, "2.5TNN": 2_500_000,
		"5 tnn": 5_000_000, ".5tnn": 500_000, "0.000001tnn": 1, "1_000tnn": 1_000_000_000,
		"0utnn": 0, "18446744073709551615utnn": 1<<64 - 1, "18446744073709.551615tnn": 1<<64 - 1,
	}
	for in, want := range good {
		got, err := ParseAmount(in)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"5": "no unit", "0.5": "no unit", "": "5tnn", "tnn": "5tnn", "1e3tnn": "5tnn", "-5tnn": "5tnn",
		"1.1234567tnn": "at most 6 decimals", "1.5utnn": "smallest unit", "5.tnn": "5tnn",
		"99999999999999999999tnn": "too large", "18446744073709.551616tnn": "too large",
		"5atom": "5tnn", "0x10tnn": "5tnn", "five tnn": "5tnn",
	}
	for in, msg := range bad {
		_, err := ParseAmount(in)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseAmount(%q): %v; want an error naming %q", in, err, msg)
		}
		if err != nil && strings.Contains(err.Error(), "strconv") {
			t.Errorf("ParseAmount(%q) leaks a parser message: %v", in, err)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for u, want := range map[uint64]string{0: "0 TNN", 1: "0.000001 TNN", 2_500_000: "2.5 TNN", 5_000_000: "5 TNN", 2_500_001: "2.500001 TNN"} {
		if got := FormatAmount(u); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", u, got, want)
		}
		back, err := ParseAmount(FormatFlagAmount(u))
		if err != nil || back != u {
			t.Errorf("round trip %d: %d %v", u, back, err)
		}
	}
}

func TestParseFraction(t *testing.T) {
	good := map[string]Fraction{
		"12.5%": 125_000, "0.125": 125_000, "100%": Whole, "1": Whole, "0": 0, "0%": 0,
		"0.0001%": 1, "0.000001": 1, "50 %": 500_000, "10%": 100_000,
	}
	for in, want := range good {
		got, err := ParseFraction(in)
		if err != nil || got != want {
			t.Errorf("ParseFraction(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"50": "at most 1", "101%": "above 100%", "12.34567%": "at most 4 decimals", "0.1234567": "at most 6",
		"": "12.5%", "%": "12.5%", "-1%": "12.5%", "1e-1": "12.5%", "half": "12.5%", "1250bps": "12.5%",
	}
	for in, msg := range bad {
		_, err := ParseFraction(in)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseFraction(%q): %v; want an error naming %q", in, err, msg)
		}
	}
}

func TestFractionScales(t *testing.T) {
	f, _ := ParseFraction("12.5%")
	if bps, err := f.Bps(); err != nil || bps != 1250 {
		t.Errorf("bps %d %v", bps, err)
	}
	if v, _ := f.Of(65535, false); v != 8192 { // 65535/8 = 8191.875
		t.Errorf("of 65535: %d", v)
	}
	if v, _ := f.Of(1000, true); v != 125 {
		t.Errorf("thousandths: %d", v)
	}
	g, _ := ParseFraction("12.345%")
	if _, err := g.Bps(); err == nil {
		t.Error("12.345% fits basis points exactly?")
	}
	if s := FormatOf(1250, 10_000); s != "12.5%" {
		t.Errorf("FormatOf bps: %s", s)
	}
	if s := FormatOf(65535, 65535); s != "100%" {
		t.Errorf("FormatOf 65535: %s", s)
	}
	if f.String() != "12.5%" || Fraction(1).String() != "0.0001%" {
		t.Errorf("String: %s %s", f, Fraction(1))
	}
}

func TestParseDuration(t *testing.T) {
	bt := 500 * time.Millisecond
	good := map[string]int64{"100": 100, "100blocks": 100, "1 block": 1, "100b": 100, "90s": 180, "10m": 1200, "1h30m": 10800, "1s": 2, "1.2s": 3}
	for in, want := range good {
		d, err := ParseDuration(in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", in, err)
			continue
		}
		if got, err := d.Blocks(bt); err != nil || got != want {
			t.Errorf("%q -> %d blocks, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ten", "-5", "-5s", "5 parsecs", "s", "1e3", "0s", "99999999999999999999"} {
		_, err := ParseDuration(in)
		if err == nil || !errors.Is(err, ErrFormat) {
			t.Errorf("ParseDuration(%q): %v; want a format error", in, err)
		}
		if err != nil && !strings.Contains(err.Error(), "90s") && !strings.Contains(err.Error(), "too large") {
			t.Errorf("ParseDuration(%q): %v does not name the format", in, err)
		}
	}
	d, _ := ParseDuration("10m")
	if _, err := d.Blocks(0); err == nil {
		t.Error("a time converted without a block time")
	}
	if s := FormatBlocks(1200, bt); s != "1200 blocks (~10m0s)" {
		t.Errorf("FormatBlocks: %s", s)
	}
}

// The flag values report the expected format through pflag's own error.
func TestFlagValues(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var fee uint64
	var share Fraction
	var wait Duration
	AmountVar(fs, &fee, "fees", 1000, "fee")
	FractionVar(fs, &share, "share", 100_000, "share")
	DurationVar(fs, &wait, "timeout", 100, "timeout")
	if fee != 1000 || share != 100_000 {
		t.Fatal("defaults")
	}
	if err := fs.Parse([]string{"--fees", "0.5tnn", "--share", "12.5%", "--timeout", "10m"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := wait.Blocks(time.Second); fee != 500_000 || share != 125_000 || n != 600 {
		t.Fatalf("parsed %d %d %d", fee, share, n)
	}
	for _, args := range [][]string{{"--fees", "5"}, {"--share", "50"}, {"--timeout", "soon"}} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		AmountVar(fs, &fee, "fees", 0, "fee")
		FractionVar(fs, &share, "share", 0, "share")
		DurationVar(fs, &wait, "timeout", 0, "timeout")
		fs.SetOutput(new(strings.Builder))
		err := fs.Parse(args)
		if err == nil || !strings.Contains(err.Error(), args[0]) || !strings.Contains(err.Error(), "want") && !strings.Contains(err.Error(), "write") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if fs.Lookup("fees").DefValue != "0.001tnn" {
		t.Errorf("default shown as %q", fs.Lookup("fees").DefValue)
	}
}
