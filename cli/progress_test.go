package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/tenun-chain/tenun/internal/testnode"
)

// runWith executes the root command with separate stdout and stderr.
func runWith(t *testing.T, stdout, stderr io.Writer, args ...string) error {
	t.Helper()
	rootCmd.SetOut(stdout)
	rootCmd.SetErr(stderr)
	rootCmd.SetArgs(args)
	applyExamples(rootCmd)
	outputFormat = "text"
	return rootCmd.Execute()
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// onTerminal runs a command with its stderr on a pseudo-terminal and
// returns what the terminal showed.
func onTerminal(t *testing.T, stdout io.Writer, args ...string) (string, error) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var screen lockedBuf
	done := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(done) }()
	err = runWith(t, stdout, tty, args...)
	tty.Close()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	return screen.String(), err
}

// devChain is a test node with the dev keys in a test keyring and a
// dataset (id 1, the vehicle schema) created by alice.
func devChain(t *testing.T) []string {
	t.Helper()
	net := testnode.Start(t, 3)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 3); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test"}
	if out, err := run(t, append([]string{"tx", "data", "create", "telemetry", "--schema", "vehicle", "--from", "alice", "--yes"}, base...)...); err != nil {
		t.Fatalf("create dataset: %v\n%s", err, out)
	}
	return base
}

// contribute --count shows a bar with the count, the rate and the time
// left on a terminal; its result still goes to stdout.
func TestContributeProgressOnTerminal(t *testing.T) {
	base := devChain(t)
	var stdout bytes.Buffer
	screen, err := onTerminal(t, &stdout, append([]string{"contribute", "--from", "bob", "--dataset", "1", "--synthetic", "vehicle", "--count", "400", "--batch", "40"}, base...)...)
	if err != nil {
		t.Fatalf("contribute: %v\n%s", err, screen)
	}
	t.Logf("terminal:\n%q", screen)
	for _, want := range []string{"contribute", "400/400", "records/s", "\r"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal shows no %q:\n%q", want, screen)
		}
	}
	if strings.Contains(stdout.String(), "records/s") || !strings.Contains(stdout.String(), "400 accepted") {
		t.Errorf("stdout: %q", stdout.String())
	}
}

// With -o json stdout holds only the JSON result; progress is on stderr.
func TestJSONOutputStaysCleanOfProgress(t *testing.T) {
	base := devChain(t)
	var stdout, stderr lockedBuf
	err := runWith(t, &stdout, &stderr, append([]string{"contribute", "--from", "bob", "--dataset", "1", "--synthetic", "vehicle", "--count", "100", "--batch", "50", "-o", "json"}, base...)...)
	if err != nil {
		t.Fatalf("contribute: %v\n%s", err, stderr.String())
	}
	var st struct{ Sent, Accepted int }
	dec := json.NewDecoder(strings.NewReader(stdout.String()))
	if err := dec.Decode(&st); err != nil || st.Sent != 100 || st.Accepted != 100 || dec.More() {
		t.Fatalf("stdout is not exactly one JSON result (%v): %q", err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "contribute: 100/100 records") {
		t.Fatalf("no progress on stderr: %q", stderr.String())
	}
}

// contribute to a dataset that does not exist fails (non-zero exit).
func TestContributeToMissingDatasetFails(t *testing.T) {
	base := devChain(t)
	var stdout, stderr lockedBuf
	err := runWith(t, &stdout, &stderr, append([]string{"contribute", "--from", "bob", "--dataset", "99", "--synthetic", "vehicle", "--count", "10"}, base...)...)
	if err == nil || !strings.Contains(err.Error(), "dataset 99") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("contribute to dataset 99: %v\n%s", err, stdout.String())
	}
}

// zk setup shows its phases on a terminal while gnark runs.
func TestZkSetupProgressOnTerminal(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, args := range [][]string{
		{"zk", "train", "--hidden", "4", "--epochs", "2", "--rows", "0:300", "--test-rows", "", "--out", p("f.json")},
		{"zk", "quantize", "--float", p("f.json"), "--rows", "0:300", "--test-rows", "", "--out", p("m.json")},
		{"zk", "compile", "--model", p("m.json"), "--out", p("keys/c")},
	} {
		if out, err := run(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	var stdout bytes.Buffer
	screen, err := onTerminal(t, &stdout, "zk", "setup", "--keys", p("keys/c.json"))
	if err != nil {
		t.Fatalf("zk setup: %v\n%s", err, screen)
	}
	t.Logf("terminal:\n%q", screen)
	for _, want := range []string{"zk setup [2/3] Groth16 setup", "zk setup done", "\r"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal shows no %q:\n%q", want, screen)
		}
	}
	if _, err := os.Stat(p("keys/c.pk")); err != nil && !strings.Contains(stdout.String(), "setup in") {
		t.Errorf("setup wrote nothing: %v\n%s", err, stdout.String())
	}
}
