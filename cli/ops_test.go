package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

// runIn is run with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	rootCmd.SetIn(strings.NewReader(stdin))
	defer rootCmd.SetIn(nil)
	return run(t, args...)
}

// keys: add --recover reads the mnemonic from stdin (never argv), show -a
// prints the address alone, delete asks and --yes skips the question.
func TestKeysCommands(t *testing.T) {
	home := t.TempDir()
	base := []string{"--home", home, "--keyring-backend", "test"}
	want := keys.DevPrivKey(1)
	out, err := runIn(t, keys.DevMnemonic(1)+"\n", append([]string{"keys", "add", "bob", "--recover"}, base...)...)
	if err != nil || strings.Contains(out, keys.DevMnemonic(1)) {
		t.Fatalf("add --recover: %v\n%s", err, out)
	}
	out, err = run(t, append([]string{"keys", "show", "bob", "-a"}, base...)...)
	addr := strings.TrimSpace(out)
	if err != nil || addr != addrOf(want) {
		t.Fatalf("show -a: %q %v, want %s", out, err, addrOf(want))
	}
	if _, err := run(t, append([]string{"keys", "import", "carol", keys.DevMnemonic(2)}, base...)...); err == nil || !strings.Contains(err.Error(), "not taken as an argument") {
		t.Fatalf("mnemonic in argv: %v", err)
	}
	if _, err := runIn(t, "not a mnemonic\n", append([]string{"keys", "import", "carol"}, base...)...); err == nil || !strings.Contains(err.Error(), "mnemonic") {
		t.Fatalf("bad mnemonic: %v", err)
	}
	if _, err := runIn(t, keys.DevMnemonic(2)+"\n", append([]string{"keys", "import", "carol"}, base...)...); err != nil {
		t.Fatalf("import from stdin: %v", err)
	}
	if _, err := runIn(t, "n\n", append([]string{"keys", "delete", "bob"}, base...)...); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("delete answered no: %v", err)
	}
	if _, err := run(t, append([]string{"keys", "show", "bob"}, base...)...); err != nil {
		t.Fatalf("bob gone after a no: %v", err)
	}
	if _, err := runIn(t, "y\n", append([]string{"keys", "delete", "bob"}, base...)...); err != nil {
		t.Fatalf("delete answered yes: %v", err)
	}
	if _, err := run(t, append([]string{"keys", "delete", "carol", "--yes"}, base...)...); err != nil {
		t.Fatalf("delete --yes: %v", err)
	}
	out, err = run(t, append([]string{"keys", "list", "-o", "json"}, base...)...)
	var list []any
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 0 {
		t.Fatalf("keys left: %v %s", err, out)
	}
}

// The Cosmos-style tx flags: --dry-run submits nothing, --chain-id must
// match the node, --node takes tcp:// and host:port, --fees takes an
// amount, and a node that is not there gets a hint.
func TestTxFlags(t *testing.T) {
	net := testnode.Start(t, 2)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 2); err != nil {
		t.Fatal(err)
	}
	bob := net.Addr(1).String()
	withNode := func(n string, args ...string) []string {
		return append(args, "--home", home, "--node", n, "--keyring-backend", "test")
	}
	api := net.Node.APIAddr()
	out, err := run(t, withNode("tcp://"+api, "tx", "bank", "send", "alice", "bob", "3tnn", "--dry-run")...)
	if err != nil || !strings.Contains(out, "would succeed") || !strings.Contains(out, "not submitted") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = run(t, withNode("http://"+api, "query", "balance", bob, "-o", "json")...)
	if err != nil || !strings.Contains(out, `"balance": 1000000000000`) {
		t.Fatalf("the dry run moved tokens, or http:// failed: %v\n%s", err, out)
	}
	if _, err := run(t, withNode(api, "tx", "bank", "send", "bob", "alice", "99999999tnn", "--dry-run")...); err == nil || !strings.Contains(err.Error(), "insufficient funds") {
		t.Fatalf("dry run of an overdraft: %v", err)
	}
	if _, err := run(t, withNode(api, "tx", "bank", "send", "alice", "bob", "1tnn", "--chain-id", "other-chain")...); err == nil || !strings.Contains(err.Error(), `runs chain "tenun-test"`) {
		t.Fatalf("wrong chain id: %v", err)
	}
	out, err = run(t, withNode(api, "tx", "bank", "send", "alice", "bob", "1tnn", "--chain-id", "tenun-test", "--fees", "0.01tnn", "-o", "json")...)
	if err != nil {
		t.Fatalf("send with --fees: %v\n%s", err, out)
	}
	var res struct{ Hash string }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Hash == "" {
		t.Fatalf("send output %q: %v", out, err)
	}
	out, err = run(t, withNode(api, "query", "tx", res.Hash, "-o", "json")...)
	if err != nil || !strings.Contains(out, `"fee": 10000`) {
		t.Fatalf("fee not 0.01tnn: %v\n%s", err, out)
	}
	if _, err := run(t, withNode(api, "tx", "bank", "send", "alice", "bob", "1tnn", "--fees", "10000")...); err == nil || !strings.Contains(err.Error(), "10000utnn") {
		t.Fatalf("bare fee: %v", err)
	}
	if _, err := run(t, withNode("ftp://"+api, "query", "block")...); err == nil || !strings.Contains(err.Error(), "tcp://host:port") {
		t.Fatalf("ftp node: %v", err)
	}
	nodeAddr = ""
	free := testnode.FreeBasePort(t)
	_, err = run(t, withNode("127.0.0.1:"+itoa(free), "query", "block")...)
	if err = explain(err); err == nil || !strings.Contains(err.Error(), "hint: no Tenun node answers") || !strings.Contains(err.Error(), "tenun devnet") {
		t.Fatalf("unreachable node: %v", err)
	}
	nodeAddr = ""
}

// init takes a MONIKER and refuses an existing home without --overwrite.
func TestInitOverwrite(t *testing.T) {
	home := t.TempDir()
	args := []string{"init", "val0", "--home", home, "--base-port", itoa(testnode.FreeBasePort(t))}
	if out, err := run(t, args...); err != nil || !strings.Contains(out, "moniker val0") {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("second init: %v", err)
	}
	os.MkdirAll(filepath.Join(home, "keyring-test"), 0o700)
	if out, err := run(t, append(args, "--overwrite", "--chain-id", "tenun-2")...); err != nil || !strings.Contains(out, "tenun-2") {
		t.Fatalf("init --overwrite: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(home, "keyring-test")); err != nil {
		t.Fatal("--overwrite removed the keyring")
	}
	c, err := node.LoadAppConfig(home)
	if err != nil || c.ChainID != "tenun-2" {
		t.Fatalf("config after --overwrite: %+v %v", c, err)
	}
	// A devnet that exists resumes with its own ports: a new --base-port is refused, not ignored.
	if _, err := run(t, "devnet", "--home", home, "--base-port", "40000"); err == nil || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("devnet --base-port on resume: %v", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version", "-o", "json")
	var v versionInfo
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v.GoVersion == "" {
		t.Fatalf("version: %v\n%s", err, out)
	}
	var b bytes.Buffer
	b.WriteString(out)
}

func itoa(n int) string { return strconv.Itoa(n) }

func addrOf(k ed25519.PrivKey) string { return chain.AddressFromPubKey(k.PubKey().Bytes()).String() }

// Shell completion offers key names from the keyring and ids from the node.
func TestCompletion(t *testing.T) {
	base := devChain(t)
	applyCompletions(rootCmd)
	out, err := run(t, append(append([]string{"__complete", "keys", "show"}, base...), "")...)
	if err != nil || !strings.Contains(out, "alice\t") || !strings.Contains(out, "bob\t") {
		t.Fatalf("key names: %v\n%s", err, out)
	}
	out, err = run(t, append(append([]string{"__complete", "tx", "bank", "send"}, base...), "--from", "")...)
	if err != nil || !strings.Contains(out, "carol\t") {
		t.Fatalf("--from: %v\n%s", err, out)
	}
	out, err = run(t, append(append([]string{"__complete", "query", "data", "dataset"}, base...), "")...)
	if err != nil || !strings.HasPrefix(out, "1\n") {
		t.Fatalf("dataset ids: %v\n%s", err, out)
	}
	out, err = run(t, "__complete", "query", "data", "dataset", "--node", "127.0.0.1:1", "")
	if err != nil || strings.HasPrefix(out, "1\n") {
		t.Fatalf("no node: %v\n%s", err, out)
	}
}
