package cli

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
)

// commands is every command a user can run (groups that only print their
// help, and cobra's own help and completion commands, excluded).
func commands(t *testing.T) []*cobra.Command {
	t.Helper()
	applyExamples(rootCmd)
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != rootCmd && (!c.IsAvailableCommand() || c.Name() == "help" || c.Name() == "completion") {
			return
		}
		if c.Runnable() {
			out = append(out, c)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(rootCmd)
	if len(out) < 80 {
		t.Fatalf("only %d commands found", len(out))
	}
	return out
}

// Every command shows at least one example of itself in its help.
func TestEveryCommandHasAnExample(t *testing.T) {
	for _, c := range commands(t) {
		if c == rootCmd {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no example in its help: set Example on its cobra.Command (e.g. Example: \"  %s ...\")", c.CommandPath(), c.CommandPath())
			continue
		}
		if !strings.Contains(c.Example, c.CommandPath()) {
			t.Errorf("%q: its Example does not show the command itself (want a line starting %q):\n%s", c.CommandPath(), c.CommandPath(), c.Example)
		}
	}
}

// -o/--output is the global output format on every command: no command
// may define its own --output or -o (files and folders take --out/--dir).
func TestEveryCommandTakesOutputJSON(t *testing.T) {
	global := rootCmd.PersistentFlags().Lookup("output")
	for _, c := range commands(t) {
		if f := c.Flags().Lookup("output"); f != nil && f != global {
			t.Errorf("%q defines its own --output (%s): -o/--output is the output format; name it --out (a file) or --dir (a folder)", c.CommandPath(), f.Usage)
			continue
		}
		if f := c.Flags().ShorthandLookup("o"); f != nil && f != global {
			t.Errorf("%q gives -o to --%s: -o is the output format", c.CommandPath(), f.Name)
			continue
		}
		outputFormat = "text"
		if err := c.ParseFlags([]string{"-o", "json"}); err != nil {
			t.Errorf("%q refuses -o json: %v", c.CommandPath(), err)
		} else if outputFormat != "json" {
			t.Errorf("%q: -o json did not set the output format", c.CommandPath())
		}
		global.Changed = false
	}
	outputFormat = "text"
}

// Flag names that say what kind of quantity they take.
var (
	amountName   = regexp.MustCompile(`(^|-)(price|stake|reward|fees?|amount|budget|bond|deposit)$`)
	fractionName = regexp.MustCompile(`(^|-)(share|bps|confidence|quality|kappa|penalty|percentile|ratio|moving-average)$`)
	blocksName   = regexp.MustCompile(`(^|-)(deadline|timeout|reveal|grace|window|tempo|challenge-blocks)$`)
)

// Every amount, fraction and duration flag takes the common formats and
// refuses malformed values with a message naming the expected format;
// flags named like one of them must have its type.
func TestQuantityFlags(t *testing.T) {
	kinds := map[string]struct {
		good, bad []string
		hint      string
	}{
		"amount":   {[]string{"5tnn", "0.5tnn", "5000000utnn", "2.5 TNN"}, []string{"5", "1e3tnn", "5 atom", "-1tnn", "0.0000001tnn"}, "5tnn"},
		"fraction": {[]string{"12.5%", "0.125", "50%", "1"}, []string{"50", "1e-1", "half", "101%"}, "12.5%"},
		"blocks":   {[]string{"100", "100blocks", "90s", "10m"}, []string{"soon", "-5", "1e3", "5 parsecs"}, "90s"},
		"time":     {[]string{"90s", "500ms", "10m", "1h30m"}, []string{"soon", "100", "-5s", "5 parsecs"}, "90s"},
	}
	seen := map[string]int{}
	for _, c := range commands(t) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Deprecated != "" {
				return
			}
			typ := f.Value.Type()
			for want, re := range map[string]*regexp.Regexp{"amount": amountName, "fraction": fractionName, "blocks": blocksName} {
				if re.MatchString(f.Name) && typ != want && typ != "bool" && !(want == "blocks" && typ == "time") {
					t.Errorf("%s --%s is a %s flag: define it with the %s flag helpers (cli/flags.go), not as %s", c.CommandPath(), f.Name, want, want, typ)
				}
			}
			k, ok := kinds[typ]
			if !ok {
				return
			}
			seen[typ]++
			orig := f.Value.String()
			for _, v := range k.good {
				if err := f.Value.Set(v); err != nil {
					t.Errorf("%s --%s %q: %v", c.CommandPath(), f.Name, v, err)
				}
			}
			for _, v := range k.bad {
				err := f.Value.Set(v)
				if err == nil {
					t.Errorf("%s --%s took malformed %q", c.CommandPath(), f.Name, v)
				} else if !strings.Contains(err.Error(), k.hint) && !strings.Contains(err.Error(), "above 100%") && !strings.Contains(err.Error(), "decimals") {
					t.Errorf("%s --%s %q: %q does not name the expected format (%s)", c.CommandPath(), f.Name, v, err, k.hint)
				}
			}
			if err := f.Value.Set(orig); err != nil {
				t.Fatalf("%s --%s: cannot restore %q: %v", c.CommandPath(), f.Name, orig, err)
			}
		})
	}
	pendingDurations = nil
	for typ := range kinds {
		if seen[typ] < 2 {
			t.Errorf("only %d %s flags found", seen[typ], typ)
		}
	}
}

// The read-only commands print JSON that parses with -o json, against a
// real node with a dataset and a transfer on it. Arguments are taken from
// each command's usage line, so new query commands are covered as they are
// added; a query for an id the node does not hold may answer "not found".
func TestReadOnlyCommandsPrintJSON(t *testing.T) {
	net := testnode.Start(t, 3)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 3); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test", "-o", "json"}
	out, err := run(t, append([]string{"tx", "bank", "send", "alice", "bob", "1tnn"}, base...)...)
	if err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	var sent struct{ Hash string }
	if err := json.Unmarshal([]byte(out), &sent); err != nil || sent.Hash == "" {
		t.Fatalf("send output %q: %v", out, err)
	}
	if out, err := run(t, append([]string{"tx", "data", "create", "telemetry", "--schema", "vehicle", "--from", "alice"}, base...)...); err != nil {
		t.Fatalf("create dataset: %v\n%s", err, out)
	}
	argFor := map[string]string{
		"ADDRESS|KEY": "alice", "ADDRESS": "alice", "KEY": "alice", "HASH": sent.Hash, "QUERY": "supply",
		"HEIGHT": "2", "REF": "dataset/1@1", "NAME": "alice",
	}
	// Hashes of objects the node does not hold (a 404, not a bad request).
	argOverride := map[string]string{
		"tenun query zkml circuit": strings.Repeat("0", 64), "tenun query zkml testset": strings.Repeat("0", 64),
	}
	readOnly := []*cobra.Command{}
	for _, c := range commands(t) {
		p := c.CommandPath()
		if strings.HasPrefix(p, "tenun query ") || p == "tenun keys list" || p == "tenun keys show" || p == "tenun version" {
			readOnly = append(readOnly, c)
		}
	}
	if len(readOnly) < 30 {
		t.Fatalf("only %d read-only commands", len(readOnly))
	}
	parsed := 0
	for _, c := range readOnly {
		args := strings.Split(strings.TrimPrefix(c.CommandPath(), "tenun "), " ")
		for _, w := range strings.Fields(c.Use)[1:] {
			if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") {
				break
			}
			a, ok := argFor[w]
			if !ok {
				a = "1"
			}
			args = append(args, a)
		}
		if c.Flags().Lookup("worker") != nil {
			args = append(args, "--worker", "bob")
		}
		if a, ok := argOverride[c.CommandPath()]; ok {
			args = append(args[:len(args)-1], a)
		}
		out, err := run(t, append(args, base...)...)
		if err != nil {
			var ae *client.APIError
			if errors.As(err, &ae) && ae.Status == 404 {
				continue
			}
			t.Errorf("tenun %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("tenun %s -o json printed what is not JSON (%v):\n%s", strings.Join(args, " "), err, out)
		}
		parsed++
	}
	if parsed < len(readOnly)/2 {
		t.Errorf("only %d of %d read-only commands answered (the rest: not found)", parsed, len(readOnly))
	}
	t.Logf("%d of %d read-only commands printed JSON that parses", parsed, len(readOnly))
}
