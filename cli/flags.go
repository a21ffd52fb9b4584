package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tenun-chain/tenun/internal/units"
)

// Typed flags for the three kinds of quantity a person types: amounts,
// fractions and durations. They check the value while the flags are
// parsed, so a malformed one fails with the flag's name and the expected
// format before anything runs (internal/units has the formats).

// amountString is an amount flag kept as the text typed (commands parse it
// with parseAmount), checked on Set.
type amountString struct{ p *string }

func (a amountString) Set(s string) error {
	if s == "" { // none: the command's own default
		*a.p = s
		return nil
	}
	if _, err := units.ParseAmount(s); err != nil {
		return err
	}
	*a.p = s
	return nil
}
func (a amountString) String() string { return *a.p }
func (a amountString) Type() string   { return "amount" }

// amountFlag defines an amount flag held as text; def may be "" (none).
func amountFlag(fs *pflag.FlagSet, p *string, name, def, usage string) {
	*p = def
	fs.Var(amountString{p}, name, usage+" (e.g. 5tnn, 0.5tnn, 5000000utnn)")
}

// fractionOf is a fraction flag stored as units of a whole (basis points:
// 10000, out of 65535, millionths, thousandths) in an integer field.
type fractionOf[T ~uint16 | ~uint32 | ~uint64] struct {
	p     *T
	whole uint64
	exact bool // refuse values that do not fit the whole's steps
}

func (f fractionOf[T]) Set(s string) error {
	v, err := units.ParseFraction(s)
	if err != nil {
		return err
	}
	n, err := v.Of(f.whole, f.exact)
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	*f.p = T(n)
	return nil
}
func (f fractionOf[T]) String() string { return units.FormatOf(uint64(*f.p), f.whole) }
func (f fractionOf[T]) Type() string   { return "fraction" }

// fractionFlag defines a fraction flag over an integer field holding
// units of whole.
func fractionFlag[T ~uint16 | ~uint32 | ~uint64](fs *pflag.FlagSet, p *T, name string, whole uint64, exact bool, usage string) {
	fs.Var(fractionOf[T]{p, whole, exact}, name, usage+" (e.g. 12.5% or 0.125)")
}

// fractionFloat is a fraction flag for client-side settings kept as a
// float64 in [0, 1].
type fractionFloat struct{ p *float64 }

func (f fractionFloat) Set(s string) error {
	v, err := units.ParseFraction(s)
	if err != nil {
		return err
	}
	*f.p = float64(v) / float64(units.Whole)
	return nil
}
func (f fractionFloat) String() string {
	return units.Fraction(*f.p*float64(units.Whole) + 0.5).String()
}
func (f fractionFloat) Type() string { return "fraction" }

func fractionFloatFlag(fs *pflag.FlagSet, p *float64, name string, def float64, usage string) {
	*p = def
	fs.Var(fractionFloat{p}, name, usage+" (e.g. 12.5% or 0.125)")
}

// blocksValue is a duration flag stored in blocks. A time (90s, 10m) is
// converted with the chain's block time once the flags are parsed
// (resolveDurations, run before every command).
type blocksValue[T ~int64 | ~uint64] struct {
	p    *T
	name string
	d    *units.Duration
}

func (b blocksValue[T]) Set(s string) error {
	d, err := units.ParseDuration(s)
	if err != nil {
		return err
	}
	*b.d = d
	if !d.IsTime() {
		n, _ := d.Blocks(0)
		*b.p = T(n)
		return nil
	}
	pendingDurations = append(pendingDurations, func(bt time.Duration, log io.Writer) error {
		n, err := d.Blocks(bt)
		if err != nil {
			return fmt.Errorf("--%s %s: %w", b.name, d, err)
		}
		*b.p = T(n)
		fmt.Fprintf(log, "--%s %s = %s\n", b.name, d, units.FormatBlocks(n, bt))
		return nil
	})
	return nil
}
func (b blocksValue[T]) String() string {
	if b.d.IsTime() {
		return b.d.String()
	}
	return strconv.FormatInt(int64(*b.p), 10)
}
func (b blocksValue[T]) Type() string { return "blocks" }

// blocksFlag defines a duration flag over a field counting blocks.
func blocksFlag[T ~int64 | ~uint64](fs *pflag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	fs.Var(blocksValue[T]{p, name, new(units.Duration)}, name, usage+" (blocks, or a time such as 90s or 10m)")
}

// pendingDurations are duration flags typed as times, waiting for the
// chain's block time.
var pendingDurations []func(time.Duration, io.Writer) error

// resolveDurations converts the durations typed as times into blocks with
// the block time the node shows (the mean over its recent blocks).
func resolveDurations(cmd *cobra.Command) error {
	if len(pendingDurations) == 0 {
		return nil
	}
	defer func() { pendingDurations = nil }()
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	bt, err := chainBlockTime(ctx)
	if err != nil {
		return fmt.Errorf("a duration given as a time needs the chain's block time: %w", err)
	}
	for _, f := range pendingDurations {
		if err := f(bt, cmd.ErrOrStderr()); err != nil {
			return err
		}
	}
	return nil
}

// chainBlockTime is the mean time between the node's last blocks.
func chainBlockTime(ctx context.Context) (time.Duration, error) {
	return newClient().BlockTime(ctx)
}

// timeValue is a wall-clock duration flag (a node's block time, a poll
// interval) with an error that names the format instead of Go's parser.
type timeValue struct{ p *time.Duration }

func (v timeValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("%w %q: want a time such as 500ms, 90s, 10m or 1h30m", units.ErrFormat, s)
	}
	*v.p = d
	return nil
}
func (v timeValue) String() string { return v.p.String() }
func (v timeValue) Type() string   { return "time" }

// timeFlag defines a wall-clock duration flag.
func timeFlag(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(timeValue{p}, name, usage)
}
