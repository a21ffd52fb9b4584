package chain_test

// A small scenario runner in the style of cockroachdb/datadriven (without the
// dependency). Each file in testdata/*.txt is a story of directives:
//
//	# comments and blank lines between directives are ignored
//	genesis
//	alice 1000
//	bob 0
//	----
//	ok
//
//	tx alice send bob 100 fee=10
//	----
//	ok
//
//	balance alice
//	----
//	890
//
// A directive is a command line, optional input lines, a "----" line, and
// the expected output, which ends at the first blank line (so output never
// contains one). Run with -rewrite to regenerate the expected outputs after
// a deliberate change, and review the diff:
//
//	go test ./chain -run TestScenarios -rewrite
//
// Every block the runner applies is also applied without its rejected
// transactions, and the two states must be identical: a rejection never
// changes anything. The supply invariant is checked after every directive.
//
// Commands (names are accounts with deterministic keys; "fees" is the fee
// collector, "zero" the zero address, pool:<name> a stake pool's account and
// escrow:<id> an escrow's; amounts are in utnn):
//
//	genesis [min_fee=N] [unbonding=N] [max_tx=N] [max_blob=N]
//	    input: one "name balance [stake=pool:amount ...]" per line
//	tx <sender> <msg...> [fee=N] [seq=N] [chain=ID] [memo=TEXT] [badsig] [events]
//	    one transaction in its own block; msg is one of
//	    send <to> <amount> | bond <pool> <amount> | unbond <pool> <amount> |
//	    blob <cid> <size> | unknown
//	    where <cid> may be cid:<text>, the CID of that text
//	block
//	    input: one "<sender> <msg...> [options]" per line, all in one block
//	advance <n>                         n empty blocks
//	balance <name> | balances | supply | seq <name> | height
//	bonded <name> <pool> | unbondings <name>
//	slash <name> <pool> <amount> reason=<text> [to=<name>]
//	slashes
//	lock <owner> <escrow> <amount> | release <escrow> <to> <amount> |
//	refund <escrow> | escrow <escrow>
//	blob <cid>                          the registered record

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata scenarios")

type directive struct {
	preamble []string // comments and blank lines before the directive
	line     int
	cmd      string
	args     []string
	input    []string
	expected string
}

func parseScenario(t *testing.T, path string) []directive {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out []directive
	var pre []string
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			i++
			continue
		}
		d := directive{preamble: pre, line: i + 1}
		pre = nil
		f := strings.Fields(l)
		d.cmd, d.args = f[0], f[1:]
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			d.input = append(d.input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %q has no ---- line", path, d.line, l)
		}
		i++
		var exp []string
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			exp = append(exp, lines[i])
		}
		d.expected = strings.Join(exp, "\n")
		out = append(out, d)
	}
	return out
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			ds := parseScenario(t, path)
			s := &scenario{t: t, app: chain.NewApp(testChainID), names: map[string]string{}}
			var rewritten strings.Builder
			for _, d := range ds {
				got := strings.TrimRight(s.run(d), "\n")
				if s.tree != nil {
					if err := chain.CheckInvariants(s.tree); err != nil {
						t.Fatalf("%s:%d: %s: %v", path, d.line, d.cmd, err)
					}
				}
				for _, p := range d.preamble {
					rewritten.WriteString(p + "\n")
				}
				rewritten.WriteString(strings.Join(append([]string{d.cmd}, d.args...), " ") + "\n")
				for _, in := range d.input {
					rewritten.WriteString(in + "\n")
				}
				rewritten.WriteString("----\n" + got + "\n")
				if !*rewrite && got != d.expected {
					t.Errorf("%s:%d: %s %s\n--- got:\n%s\n--- want:\n%s", path, d.line, d.cmd, strings.Join(d.args, " "), got, d.expected)
				}
			}
			if *rewrite {
				if err := os.WriteFile(path, []byte(rewritten.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

type scenario struct {
	t      *testing.T
	app    *chain.App
	tree   *store.Tree
	params chain.Params
	height int64
	names  map[string]string // bech32 address -> readable name
}

func (s *scenario) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf(format, args...)
}

// addr resolves a name and remembers it for printing.
func (s *scenario) addr(name string) chain.Address {
	var a chain.Address
	switch name {
	case "fees":
		a = chain.FeeCollector
	case "zero":
		return a
	default:
		if pool, ok := strings.CutPrefix(name, "pool:"); ok {
			return chain.StakePoolAddress(s.pool(pool))
		}
		if id, ok := strings.CutPrefix(name, "escrow:"); ok {
			return chain.EscrowAddress(s.escrow(id))
		}
		a = addrOf(name)
	}
	s.names[a.String()] = name
	return a
}

func (s *scenario) pool(name string) string {
	s.names[chain.StakePoolAddress(name).String()] = "pool:" + name
	return name
}

func (s *scenario) escrow(id string) string {
	s.names[chain.EscrowAddress(id).String()] = "escrow:" + id
	return id
}

// readable replaces every known address in text by its name.
func (s *scenario) readable(text string) string {
	keys := make([]string, 0, len(s.names))
	for k := range s.names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text = strings.ReplaceAll(text, k, s.names[k])
	}
	return text
}

func (s *scenario) formatEvent(ev chain.Event) string {
	var b strings.Builder
	b.WriteString(ev.Type)
	for _, a := range ev.Attrs {
		fmt.Fprintf(&b, " %s=%s", a.Key, a.Value)
	}
	return s.readable(b.String())
}

func (s *scenario) u64(v string) uint64 {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.fail("bad number %q: %v", v, err)
	}
	return n
}

func (s *scenario) ctx(kv store.KV) *chain.Context {
	b := chain.Block{Height: s.height + 1, Time: 1_700_000_000 + (s.height+1)*5, ChainID: testChainID}
	return chain.NewContext(kv, b, s.params)
}

func (s *scenario) needGenesis() {
	if s.tree == nil {
		s.fail("the scenario must start with genesis")
	}
}

func (s *scenario) run(d directive) string {
	s.t.Helper()
	if d.cmd != "genesis" {
		s.needGenesis()
	}
	arg := func(i int) string {
		if i >= len(d.args) {
			s.fail("line %d: %s needs %d arguments", d.line, d.cmd, i+1)
		}
		return d.args[i]
	}
	switch d.cmd {
	case "genesis":
		return s.genesis(d)
	case "tx":
		tx := s.buildTx(d.args, map[string]uint64{})
		res := s.applyBlock([][]byte{tx.bytes})
		return strings.Join(append([]string{s.result(res.Txs[0], tx.events)}, s.endBlockEvents(res)...), "\n")
	case "block":
		pending := map[string]uint64{}
		var txs [][]byte
		var events []bool
		for _, in := range d.input {
			tx := s.buildTx(strings.Fields(in), pending)
			txs = append(txs, tx.bytes)
			events = append(events, tx.events)
		}
		res := s.applyBlock(txs)
		var lines []string
		for i, r := range res.Txs {
			lines = append(lines, s.result(r, events[i]))
		}
		return strings.Join(append(lines, s.endBlockEvents(res)...), "\n")
	case "advance":
		var lines []string
		for n := s.u64(arg(0)); n > 0; n-- {
			lines = append(lines, s.endBlockEvents(s.applyBlock(nil))...)
		}
		return strings.Join(append(lines, fmt.Sprintf("height %d", s.height)), "\n")
	case "height":
		return fmt.Sprint(s.height)
	case "balance":
		return fmt.Sprint(chain.Balance(s.tree, s.addr(arg(0))))
	case "balances":
		var b strings.Builder
		chain.Balances(s.tree, func(a chain.Address, amount uint64) bool {
			fmt.Fprintf(&b, "%s %d\n", s.readable(a.String()), amount)
			return true
		})
		return b.String()
	case "supply":
		return fmt.Sprint(chain.Supply(s.tree))
	case "seq":
		return fmt.Sprint(chain.Sequence(s.tree, s.addr(arg(0))))
	case "bonded":
		return fmt.Sprint(chain.Bonded(s.ctx(s.tree), s.addr(arg(0)), s.pool(arg(1))))
	case "unbondings":
		var b strings.Builder
		for _, u := range chain.Unbondings(s.ctx(s.tree), s.addr(arg(0))) {
			fmt.Fprintf(&b, "%s %d at height %d\n", u.Pool, u.Amount, u.Maturity)
		}
		if b.Len() == 0 {
			return "none"
		}
		return b.String()
	case "slashes":
		var b strings.Builder
		for _, r := range chain.Slashes(s.ctx(s.tree), chain.Address{}) {
			to := "burned"
			if !r.Beneficiary.IsZero() {
				to = "to " + s.readable(r.Beneficiary.String())
			}
			fmt.Fprintf(&b, "%s %s %d %s at height %d: %s\n", s.readable(r.Account.String()), r.Pool, r.Amount, to, r.Height, r.Reason)
		}
		if b.Len() == 0 {
			return "none"
		}
		return b.String()
	case "slash":
		var reason string
		var to chain.Address
		for _, a := range d.args[3:] {
			switch {
			case strings.HasPrefix(a, "reason="):
				reason = strings.ReplaceAll(strings.TrimPrefix(a, "reason="), "-", " ")
			case strings.HasPrefix(a, "to="):
				to = s.addr(strings.TrimPrefix(a, "to="))
			default:
				s.fail("line %d: unknown slash option %q", d.line, a)
			}
		}
		who, pool, amount := s.addr(arg(0)), s.pool(arg(1)), s.u64(arg(2))
		return s.direct(func(ctx *chain.Context) (string, error) {
			took, err := chain.Slash(ctx, who, pool, reason, amount, to)
			return fmt.Sprintf("took %d", took), err
		})
	case "lock":
		owner, id, amount := s.addr(arg(0)), s.escrow(arg(1)), s.u64(arg(2))
		return s.direct(func(ctx *chain.Context) (string, error) { return "ok", chain.Lock(ctx, owner, id, amount) })
	case "release":
		id, to, amount := s.escrow(arg(0)), s.addr(arg(1)), s.u64(arg(2))
		return s.direct(func(ctx *chain.Context) (string, error) { return "ok", chain.Release(ctx, id, to, amount) })
	case "refund":
		id := s.escrow(arg(0))
		return s.direct(func(ctx *chain.Context) (string, error) {
			n, err := chain.Refund(ctx, id)
			return fmt.Sprintf("refunded %d", n), err
		})
	case "escrow":
		return fmt.Sprint(chain.EscrowBalance(s.ctx(s.tree), s.escrow(arg(0))))
	case "blob":
		r, ok := chain.GetBlob(s.ctx(s.tree), s.cid(arg(0)))
		if !ok {
			return "not registered"
		}
		return fmt.Sprintf("owner %s size %d height %d", s.readable(r.Owner.String()), r.Size, r.Height)
	}
	s.fail("line %d: unknown command %q", d.line, d.cmd)
	return ""
}

func (s *scenario) genesis(d directive) string {
	if s.tree != nil {
		s.fail("line %d: genesis twice", d.line)
	}
	tree, err := store.OpenTree("")
	if err != nil {
		s.fail("%v", err)
	}
	s.t.Cleanup(func() { tree.Close() })
	p := chain.DefaultParams()
	for _, a := range d.args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "min_fee":
			p.MinFee = s.u64(v)
		case "unbonding":
			p.UnbondingBlocks = int64(s.u64(v))
		case "max_tx":
			p.MaxTxBytes = int(s.u64(v))
		case "max_blob":
			p.MaxBlobBytes = s.u64(v)
		default:
			s.fail("line %d: unknown genesis option %q", d.line, a)
		}
	}
	g := chain.Genesis{Params: p}
	for _, in := range d.input {
		f := strings.Fields(in)
		if len(f) < 2 {
			s.fail("line %d: genesis account needs a name and a balance: %q", d.line, in)
		}
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: s.addr(f[0]), Balance: s.u64(f[1])})
		for _, opt := range f[2:] {
			v, ok := strings.CutPrefix(opt, "stake=")
			pool, amount, ok2 := strings.Cut(v, ":")
			if !ok || !ok2 {
				s.fail("line %d: bad genesis option %q", d.line, opt)
			}
			g.Stakes = append(g.Stakes, chain.GenesisStake{Address: s.addr(f[0]), Pool: s.pool(pool), Amount: s.u64(amount)})
		}
	}
	s.names[chain.FeeCollector.String()] = "fees"
	// Through a buffer, as a failed genesis must leave nothing behind.
	c := store.NewCache(tree)
	if err := s.app.InitGenesis(chain.NewContext(c, chain.Block{Height: 1, ChainID: testChainID}, p), g); err != nil {
		return "error: " + s.readable(err.Error())
	}
	c.Write()
	s.tree, s.params = tree, p
	return "ok"
}

type builtTx struct {
	bytes  []byte
	events bool
}

func (s *scenario) cid(tok string) string {
	if text, ok := strings.CutPrefix(tok, "cid:"); ok {
		return chain.BlobCID([]byte(text))
	}
	return tok
}

// buildTx signs the transaction described by f: sender, message, options.
// pending counts the transactions already built in this block per sender,
// for the default sequence.
func (s *scenario) buildTx(f []string, pending map[string]uint64) builtTx {
	if len(f) < 2 {
		s.fail("a transaction needs a sender and a message: %q", f)
	}
	sender := f[0]
	from := s.addr(sender)
	var words, opts []string
	for _, w := range f[1:] {
		if strings.Contains(w, "=") || w == "badsig" || w == "events" {
			opts = append(opts, w)
		} else {
			words = append(words, w)
		}
	}
	need := func(n int) {
		if len(words) != n {
			s.fail("message %q needs %d words", words, n)
		}
	}
	var msg chain.Msg
	switch words[0] {
	case "send":
		need(3)
		msg = &chain.MsgSend{To: s.addr(words[1]), Amount: s.u64(words[2])}
	case "bond":
		need(3)
		msg = &chain.MsgBond{Pool: s.pool(words[1]), Amount: s.u64(words[2])}
	case "unbond":
		need(3)
		msg = &chain.MsgUnbond{Pool: s.pool(words[1]), Amount: s.u64(words[2])}
	case "blob":
		need(3)
		msg = &chain.MsgRegisterBlob{CID: s.cid(words[1]), Size: s.u64(words[2])}
	case "unknown":
		need(1)
		msg = &msgUnknown{X: 1}
	default:
		s.fail("unknown message %q", words[0])
	}
	seq := chain.Sequence(s.tree, from) + pending[sender]
	fee, chainID, memo := s.params.MinFee, testChainID, ""
	var out builtTx
	badSig := false
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "fee":
			fee = s.u64(v)
		case "seq":
			seq = s.u64(v)
		case "chain":
			chainID = v
		case "memo":
			memo = v
		case "badsig":
			badSig = true
		case "events":
			out.events = true
		default:
			s.fail("unknown transaction option %q", o)
		}
	}
	pending[sender]++
	b, err := chain.SignTx(keyOf(sender), chainID, seq, fee, msg, memo)
	if err != nil {
		s.fail("%v", err)
	}
	if badSig {
		b[len(b)-1] ^= 1
	}
	out.bytes = b
	return out
}

// applyBlock applies a block, and checks that the same block without its
// rejected transactions leads to the same state.
func (s *scenario) applyBlock(txs [][]byte) chain.BlockResult {
	s.t.Helper()
	s.height++
	b := chain.Block{Height: s.height, Time: 1_700_000_000 + s.height*5, ChainID: testChainID}
	withAll := store.NewCache(s.tree)
	res := s.app.ApplyBlock(withAll, b, txs, nil)
	var accepted [][]byte
	for i, r := range res.Txs {
		if r.Code == 0 {
			accepted = append(accepted, txs[i])
		}
	}
	onlyAccepted := store.NewCache(s.tree)
	for i, r := range s.app.ApplyBlock(onlyAccepted, b, accepted, nil).Txs {
		if r.Code != 0 {
			s.fail("height %d: accepted transaction %d fails without the rejected ones: %s", s.height, i, r.Log)
		}
	}
	if kvDump(withAll) != kvDump(onlyAccepted) {
		s.fail("height %d: a rejected transaction changed the state", s.height)
	}
	withAll.Write()
	if _, _, err := s.tree.Commit(); err != nil {
		s.fail("%v", err)
	}
	return res
}

func (s *scenario) result(r chain.TxResult, events bool) string {
	if r.Code != 0 {
		if len(r.Events) != 0 {
			s.fail("rejected transaction with events: %+v", r.Events)
		}
		return fmt.Sprintf("error %d: %s", r.Code, s.readable(r.Log))
	}
	out := "ok"
	if events {
		for _, ev := range r.Events {
			out += "\n  " + s.formatEvent(ev)
		}
	}
	return out
}

func (s *scenario) endBlockEvents(res chain.BlockResult) []string {
	var lines []string
	for _, ev := range res.Events {
		lines = append(lines, fmt.Sprintf("height %d end-block: %s", s.height, s.formatEvent(ev)))
	}
	return lines
}

// direct calls a domain function in a buffer over the state, as a market
// handler would, keeps its writes only on success, and requires a failure
// to write nothing at all.
func (s *scenario) direct(f func(ctx *chain.Context) (string, error)) string {
	c := store.NewCache(s.tree)
	hash := s.tree.WorkingHash()
	out, err := f(s.ctx(c))
	if err != nil {
		if c.Len() != 0 {
			s.fail("failed step wrote %d keys: %v", c.Len(), err)
		}
		if !bytes.Equal(hash, s.tree.WorkingHash()) {
			s.fail("failed step changed the state")
		}
		return "error: " + s.readable(err.Error())
	}
	c.Write()
	return out
}
