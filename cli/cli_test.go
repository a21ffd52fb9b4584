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
	applyExamples(rootCmd)
	outputFormat = "text"
	err := rootCmd.Execute()
	return out.String(), err
}

// Amount arguments take the one amount format; a bare number is refused
// with the units named (the format itself is tested in internal/units).
func TestAmountArgument(t *testing.T) {
	_, err := run(t, "tx", "bank", "send", "alice", "bob", "5", "--home", t.TempDir(), "--keyring-backend", "test")
	if err == nil || !strings.Contains(err.Error(), "5tnn or 5utnn") {
		t.Fatalf("bare amount: %v", err)
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
	if _, err := run(t, append([]string{"tx", "bank", "send", "alice", "nobody", "1utnn"}, base...)...); err == nil || !strings.Contains(err.Error(), "neither an address nor a key name") {
		t.Fatalf("unknown recipient: %v", err)
	}
}
