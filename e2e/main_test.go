package e2e

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/node"
)

// tenunBin is the binary under test, built once by TestMain.
var (
	tenunBin   string
	skipReason string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		skipReason = "e2e: skipped in -short mode (builds the tenun binary and runs real node processes)"
		os.Exit(m.Run())
	}
	var tmp string
	if bin := os.Getenv("TENUN_E2E_BIN"); bin != "" {
		tenunBin = bin
	} else {
		var err error
		tmp, err = os.MkdirTemp("", "tenun-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		tenunBin = filepath.Join(tmp, "tenun")
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", tenunBin, "github.com/tenun-chain/tenun/cmd/tenun")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/tenun: %v\n%s", err, out)
			os.RemoveAll(tmp)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", tenunBin, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// workDir is the test's directory for homes and logs: removed at the end
// unless TENUN_E2E_KEEP is set.
func workDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("TENUN_E2E_KEEP") == "" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "tenun-e2e-"+t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("keeping %s", dir)
	return dir
}

// Amounts every transfer pays: the chain's minimum fee, set explicitly so
// the tests can account for it.
var fee = chain.DefaultParams().MinFee

const devAccounts = 5 // what `tenun devnet` and `tenun testnet` fund

// Dev keys are derived from mnemonics (slow: PBKDF2), so once.
var devKeys = sync.OnceValue(func() []ed25519.PrivKey {
	ks := make([]ed25519.PrivKey, devAccounts)
	for i := range ks {
		ks[i] = keys.DevPrivKey(i)
	}
	return ks
})

func devKey(i int) ed25519.PrivKey { return devKeys()[i] }

func devAddr(i int) chain.Address {
	return chain.AddressFromPubKey(devKey(i).PubKey().Bytes())
}

// ---- ports ----

// freeBase finds a base port such that the n nodes' listeners
// (base+10*i, +1, +2, +3 for metrics) are all free on 127.0.0.1. It picks below Linux's
// ephemeral range, so an outgoing connection cannot take one of them
// between this check and the node's listen.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	const lo, hi = 20000, 32000
	for try := 0; try < 200; try++ {
		base := lo + rand.IntN(hi-lo-10*n)
		var held []net.Listener
		ok := true
		for i := 0; i < n && ok; i++ {
			for j := 0; j < 4; j++ {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+10*i+j))
				if err != nil {
					ok = false
					break
				}
				held = append(held, l)
			}
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free block of ports")
	return 0
}

// ---- processes ----

// proc is one tenun process, restartable, with its output appended to a
// log file. It is killed when the test ends, and on failure the tails of
// its output and of its node log are printed.
type proc struct {
	t       *testing.T
	name    string
	args    []string
	logPath string
	nodeLog string // the home's node.log (CometBFT), printed on failure

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	starts  int
}

func newProc(t *testing.T, dir, name, home string, args ...string) *proc {
	p := &proc{t: t, name: name, args: args, logPath: filepath.Join(dir, name+".out"), nodeLog: filepath.Join(home, "node.log")}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("---- %s: %s %s", p.name, tenunBin, strings.Join(p.args, " "))
			t.Logf("---- tail of %s:\n%s", p.logPath, tail(p.logPath, 30))
			t.Logf("---- tail of %s:\n%s", p.nodeLog, tail(p.nodeLog, 40))
		}
	})
	return p
}

func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TENUN_") && !strings.HasPrefix(kv, "FAIL_TEST_INDEX=") {
			env = append(env, kv)
		}
	}
	return env
}

// start runs the process (again), with extra environment variables.
func (p *proc) start(env ...string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !p.exitedLocked() {
		p.t.Fatalf("%s already running", p.name)
	}
	out, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.starts++
	fmt.Fprintf(out, "==== start %d at %s: %s tenun %s\n", p.starts, time.Now().Format(time.TimeOnly), strings.Join(env, " "), strings.Join(p.args, " "))
	cmd := exec.Command(tenunBin, p.args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(childEnv(), env...)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		out.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(done)
	}()
}

func (p *proc) exitedLocked() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// done is closed when the current run of the process has exited.
func (p *proc) doneCh() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// exited reports whether the process has exited, and how.
func (p *proc) exited() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return true, nil
	}
	if !p.exitedLocked() {
		return false, nil
	}
	return true, p.waitErr
}

// kill sends SIGKILL and waits for the process to die: no shutdown code
// runs, as in a crash or power cut (minus the page cache).
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Kill()
	<-done
}

// stop asks the process to shut down (SIGINT) and waits for it, killing it
// after a grace period. It returns the process's exit error.
func (p *proc) stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within %s after SIGINT", p.name, grace)
	}
	_, err := p.exited()
	return err
}

// tail returns the last n lines of a file (from its last 64 KiB).
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		f.Seek(st.Size()-64<<10, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runTenun runs a short tenun command to completion.
func runTenun(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tenunBin, args...)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tenun %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ---- nodes ----

// tnode is a node process and the ways to reach it.
type tnode struct {
	name string
	home string
	api  string // host:port of the HTTP API
	rpc  string // host:port of CometBFT's RPC
	c    *client.Client
	p    *proc
}

func newNode(t *testing.T, dir, name, home string, basePort int, args ...string) *tnode {
	api := fmt.Sprintf("127.0.0.1:%d", basePort+2)
	return &tnode{
		name: name, home: home, api: api, rpc: fmt.Sprintf("127.0.0.1:%d", basePort+1),
		c: client.New(api), p: newProc(t, dir, name, home, args...),
	}
}

// alive fails the test at once if the node's process has exited.
func (n *tnode) alive(t *testing.T) {
	t.Helper()
	if done, err := n.p.exited(); done {
		t.Fatalf("%s exited unexpectedly: %v", n.name, err)
	}
}

// waitFor polls cond until it returns nil, failing the test after timeout
// with the last error. The nodes must stay alive meanwhile.
func waitFor(t *testing.T, timeout time.Duration, what string, nodes []*tnode, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		for _, n := range nodes {
			n.alive(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func quick() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// appInfo is the node's own last committed height and app hash (ABCI info
// over CometBFT RPC).
func (n *tnode) appInfo() (int64, []byte, error) {
	ctx, cancel := quick()
	defer cancel()
	return node.AppInfo(ctx, n.rpc)
}

// height is the node's app height: every block up to it is committed.
func (n *tnode) height() (int64, error) {
	h, _, err := n.appInfo()
	return h, err
}

// waitHeight waits until each node's app has committed height h.
func waitHeight(t *testing.T, timeout time.Duration, h int64, nodes ...*tnode) {
	t.Helper()
	for _, n := range nodes {
		waitFor(t, timeout, fmt.Sprintf("%s reaching height %d", n.name, h), []*tnode{n}, func() error {
			got, err := n.height()
			if err != nil {
				return err
			}
			if got < h {
				return fmt.Errorf("at height %d", got)
			}
			return nil
		})
	}
}

// balanceAt is an account's balance and the height it was read at.
func (n *tnode) balanceAt(a chain.Address) (uint64, int64, error) {
	ctx, cancel := quick()
	defer cancel()
	var b struct {
		Balance uint64 `json:"balance"`
		Height  int64  `json:"height"`
	}
	err := n.c.Get(ctx, "/accounts/"+a.String()+"/balance", &b)
	return b.Balance, b.Height, err
}

// checkBalances compares the dev accounts' balances on a node with want.
func (n *tnode) checkBalances(want map[chain.Address]uint64) error {
	for a, w := range want {
		got, h, err := n.balanceAt(a)
		if err != nil {
			return err
		}
		if got != w {
			return fmt.Errorf("%s: balance of %s at height %d is %d, want %d", n.name, a, h, got, w)
		}
	}
	return nil
}

// headerAppHash is the app hash the network agreed on after height h, read
// from the header of block h+1 on node n.
func (n *tnode) headerAppHash(h int64) (string, error) {
	ctx, cancel := quick()
	defer cancel()
	b, err := n.c.Block(ctx, h+1)
	if err != nil {
		return "", err
	}
	return b.AppHash, nil
}

// checkSameState asserts that every node's own app hash (ABCI info) is the
// one the chain's next header commits to, as served by ref, and that all
// nodes store the same block at the lowest height they have all committed.
func checkSameState(t *testing.T, ref *tnode, nodes ...*tnode) {
	t.Helper()
	low := int64(-1)
	for _, n := range nodes {
		h, own, err := n.appInfo()
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		var agreed string
		waitFor(t, 30*time.Second, fmt.Sprintf("block %d on %s", h+1, ref.name), []*tnode{ref}, func() error {
			agreed, err = ref.headerAppHash(h)
			return err
		})
		if !strings.EqualFold(agreed, hex.EncodeToString(own)) {
			t.Fatalf("%s: app hash after height %d is %X, header %d on %s says %s", n.name, h, own, h+1, ref.name, agreed)
		}
		if low < 0 || h < low {
			low = h
		}
	}
	var first node.BlockInfo
	for i, n := range nodes {
		ctx, cancel := quick()
		b, err := n.c.Block(ctx, low)
		cancel()
		if err != nil {
			t.Fatalf("%s: block %d: %v", n.name, low, err)
		}
		if i == 0 {
			first = b
		} else if b.Hash != first.Hash || b.AppHash != first.AppHash {
			t.Fatalf("block %d differs: %s has %s (app hash %s), %s has %s (app hash %s)",
				low, nodes[0].name, first.Hash, first.AppHash, n.name, b.Hash, b.AppHash)
		}
	}
}

// transfer is one bank send the test made.
type transfer struct {
	from, to int // dev key indices
	amount   uint64
}

// apply books a committed transfer into balances.
func (tr transfer) apply(bal map[chain.Address]uint64) {
	bal[devAddr(tr.from)] -= tr.amount + fee
	bal[devAddr(tr.to)] += tr.amount
}

func genesisBalances() map[chain.Address]uint64 {
	bal := map[chain.Address]uint64{}
	for i := 0; i < devAccounts; i++ {
		bal[devAddr(i)] = node.DevAccountBalance
	}
	return bal
}

// send submits a transfer and waits for it to commit.
func send(ctx context.Context, c *client.Client, tr transfer) (node.TxResponse, error) {
	res, err := c.Submit(ctx, devKey(tr.from), &chain.MsgSend{To: devAddr(tr.to), Amount: tr.amount}, client.Options{Fee: fee})
	if err == nil && (res.Code != 0 || res.Height == 0) {
		err = fmt.Errorf("transfer %+v: %+v", tr, res)
	}
	return res, err
}

// sendAll runs transfers concurrently (one goroutine per sender, in order
// per sender) through c and returns the highest height they committed at.
func sendAll(t *testing.T, c *client.Client, trs []transfer) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bySender := map[int][]transfer{}
	for _, tr := range trs {
		bySender[tr.from] = append(bySender[tr.from], tr)
	}
	var mu sync.Mutex
	var top int64
	var errs []error
	var wg sync.WaitGroup
	for _, list := range bySender {
		wg.Go(func() {
			for _, tr := range list {
				res, err := send(ctx, c, tr)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				top = max(top, res.Height)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return top
}

// commitSignatures counts the validators whose precommits are in the
// canonical commit of height h.
func commitSignatures(n *tnode, h int64) (int, error) {
	c, err := node.RPCClient(n.rpc)
	if err != nil {
		return 0, err
	}
	ctx, cancel := quick()
	defer cancel()
	res, err := c.Commit(ctx, &h)
	if err != nil {
		return 0, err
	}
	signed := 0
	for _, s := range res.Commit.Signatures {
		if s.BlockIDFlag == types.BlockIDFlagCommit {
			signed++
		}
	}
	return signed, nil
}
