package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

// run executes the root command with args and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	outputFormat = "text"
	err := rootCmd.Execute()
	return out.String(), err
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]uint64{"5tnn": 5_000_000, "2.5tnn": 2_500_000, "0.000001tnn": 1, "1500utnn": 1500, "42": 42} {
		got, err := parseAmount(in)
		if err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "tnn", "1.1234567tnn", "-5", "abc", "99999999999999999999tnn"} {
		if _, err := parseAmount(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if s := formatAmount(2_500_001); s != "2.500001 TNN" {
		t.Errorf("format: %s", s)
	}
}

// The chain commands against a real node: keys, a transfer, queries in text
// and JSON, and a readable error for a bad transfer.
func TestChainCommands(t *testing.T) {
	net := testnode.Start(t, 2)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 2); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test"}
	out, err := run(t, append([]string{"keys", "list"}, base...)...)
	if err != nil || !strings.Contains(out, keys.DevName(0)) || !strings.Contains(out, net.Addr(1).String()) {
		t.Fatalf("keys list: %v\n%s", err, out)
	}
	out, err = run(t, append([]string{"tx", "bank", "send", "alice", "bob", "2.5tnn"}, base...)...)
	if err != nil || !strings.Contains(out, "committed") {
		t.Fatalf("send: %v\n%s", err, out)
	}
	out, err = run(t, append([]string{"query", "balance", "bob", "-o", "json"}, base...)...)
	if err != nil {
		t.Fatalf("balance: %v\n%s", err, out)
	}
	var bal struct{ Balance uint64 }
	if err := json.Unmarshal([]byte(out), &bal); err != nil || bal.Balance != node.DevAccountBalance+2_500_000 {
		t.Fatalf("balance json %q: %v", out, err)
	}
	out, err = run(t, append([]string{"tx", "bank", "send", "bob", "alice", "99999999tnn"}, base...)...)
	if err == nil || !strings.Contains(err.Error(), "insufficient funds") {
		t.Fatalf("overdraft: %v\n%s", err, out)
	}
	out, err = run(t, append([]string{"query", "block", "-o", "json"}, base...)...)
	if err != nil || !strings.Contains(out, "app_hash") {
		t.Fatalf("block: %v\n%s", err, out)
	}
	if _, err := run(t, append([]string{"tx", "bank", "send", "alice", "nobody", "1"}, base...)...); err == nil || !strings.Contains(err.Error(), "neither an address nor a key name") {
		t.Fatalf("unknown recipient: %v", err)
	}
}
