package units

import "github.com/spf13/pflag"

// Amount is a pflag.Value holding utnn, set from the amount format.
type Amount uint64

func (a *Amount) Set(s string) error {
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = Amount(v)
	return nil
}
func (a *Amount) String() string { return FormatFlagAmount(uint64(*a)) }
func (a *Amount) Type() string   { return "amount" }

// FormatFlagAmount prints an amount the way a flag takes it back ("1.5tnn").
func FormatFlagAmount(u uint64) string {
	s := FormatAmount(u)
	return s[:len(s)-4] + "tnn"
}

// AmountVar defines an amount flag (default in utnn).
func AmountVar(fs *pflag.FlagSet, p *uint64, name string, def uint64, usage string) {
	*p = def
	fs.Var((*Amount)(p), name, usage+" (e.g. 5tnn, 0.5tnn, 5000000utnn)")
	if def == 0 {
		fs.Lookup(name).DefValue = "" // "0tnn" would read as a default fee of nothing
	}
}

// FractionValue is a pflag.Value holding a Fraction.
type FractionValue Fraction

func (f *FractionValue) Set(s string) error {
	v, err := ParseFraction(s)
	if err != nil {
		return err
	}
	*f = FractionValue(v)
	return nil
}
func (f *FractionValue) String() string { return Fraction(*f).String() }
func (f *FractionValue) Type() string   { return "fraction" }

// FractionVar defines a fraction flag.
func FractionVar(fs *pflag.FlagSet, p *Fraction, name string, def Fraction, usage string) {
	*p = def
	fs.Var((*FractionValue)(p), name, usage+" (e.g. 12.5% or 0.125)")
}

// DurationValue is a pflag.Value holding a Duration.
type DurationValue Duration

func (d *DurationValue) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = DurationValue(v)
	return nil
}
func (d *DurationValue) String() string {
	v := Duration(*d)
	if v.IsTime() {
		return v.time.String()
	}
	return FormatInt(v.blocks)
}
func (d *DurationValue) Type() string { return "duration" }

// DurationVar defines a duration flag whose default is def blocks.
func DurationVar(fs *pflag.FlagSet, p *Duration, name string, def int64, usage string) {
	*p = BlocksDuration(def)
	fs.Var((*DurationValue)(p), name, usage+" (blocks, or a time such as 90s or 10m)")
}
