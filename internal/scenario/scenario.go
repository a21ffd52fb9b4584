// Package scenario runs story files against the chain: each file in a
// package's testdata is a cockroachdb/datadriven script of directives,
// every one a command, optional input, "----" and the expected output.
//
//	# Alice pays Bob.
//	genesis
//	alice 1000
//	bob 0
//	----
//	ok
//
//	tx alice send bob 100
//	----
//	ok
//
// Transactions are signed by named accounts (deterministic keys) and go
// through the whole application, ApplyBlock with signatures, fees and
// sequences, on an IAVL tree; EndBlock runs after every block. Every block
// is also applied without its rejected transactions and the two states must
// be identical, so a refusal can never change anything; the supply invariant
// is checked after every directive. Addresses print as their names.
//
// The core commands (see State.run) cover the bank, stake, escrow and blobs,
// any registered message as JSON, and queries. A market extends the runner
// with its own commands and message words (Options), for what JSON cannot
// say: commitments computed from salts, proofs, results of work.
//
// After a deliberate change, regenerate the expected outputs and review the
// diff:
//
//	go test ./label -run TestScenarios -rewrite
package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// ChainID is the chain every scenario runs on.
const ChainID = "tenun-test-1"

// Command is a market's own directive: it returns the directive's output.
type Command func(s *State, d *datadriven.TestData) string

// MsgWord builds a market's message from the words after it on a
// transaction line ("commit 1 0=cat 1=dog"), for messages JSON cannot
// write by hand.
type MsgWord func(s *State, words []string) chain.Msg

// Options extend the runner for one market.
type Options struct {
	Domains  []chain.Domain     // registered after the chain's own modules, in order
	Commands map[string]Command // directives beside the core ones
	Words    map[string]MsgWord // transaction words beside send, bond, unbond, blob
	// Setup runs once per file, before the first directive, to prepare
	// what the market's commands keep between directives.
	Setup func(s *State)
}

// RunFiles runs every file matching pattern (for example
// "testdata/*.txt") as a subtest of its own, each on a fresh chain.
func RunFiles(t *testing.T, pattern string, opts Options) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenario files match %s", pattern)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), func(t *testing.T) {
			s := New(t, opts)
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				s.T = t
				out := s.run(d)
				if s.Tree != nil {
					if err := chain.CheckInvariants(s.Tree); err != nil {
						t.Fatalf("%s: after %s: %v", d.Pos, d.Cmd, err)
					}
				}
				return strings.TrimRight(out, "\n") + "\n"
			})
		})
	}
}

// State is one scenario's chain, between directives. Market commands read
// and change it through its methods.
type State struct {
	T      testing.TB
	App    *chain.App
	Tree   *store.Tree // nil until genesis
	Params chain.Params
	Height int64 // the last applied block
	// Market is where a market's commands keep what they need between
	// directives (salts, built modules, proofs); Setup fills it.
	Market any

	opts  Options
	names map[string]string // bech32 address -> readable name
}

// New returns a scenario state before genesis.
func New(t testing.TB, opts Options) *State {
	s := &State{T: t, App: chain.NewApp(ChainID, opts.Domains...), opts: opts, names: map[string]string{}}
	if opts.Setup != nil {
		opts.Setup(s)
	}
	return s
}

// Fail stops the scenario: the file itself is wrong (not the chain).
func (s *State) Fail(format string, args ...any) {
	s.T.Helper()
	s.T.Fatalf(format, args...)
}

// Key is the deterministic signing key of a named account.
func Key(name string) ed25519.PrivKey {
	return ed25519.GenPrivKeyFromSecret([]byte("tenun-test/" + name))
}

// AddrOf is the address of a named account.
func AddrOf(name string) chain.Address {
	return chain.AddressFromPubKey(Key(name).PubKey().Bytes())
}

// Addr resolves a name (an account, "fees", "zero", pool:<name>,
// escrow:<id>) and remembers it for printing.
func (s *State) Addr(name string) chain.Address {
	var a chain.Address
	switch name {
	case "fees":
		a = chain.FeeCollector
	case "zero":
		return a
	default:
		if pool, ok := strings.CutPrefix(name, "pool:"); ok {
			return chain.StakePoolAddress(s.Pool(pool))
		}
		if id, ok := strings.CutPrefix(name, "escrow:"); ok {
			return chain.EscrowAddress(s.Escrow(id))
		}
		a = AddrOf(name)
	}
	s.Name(a, name)
	return a
}

// Name makes a print as name.
func (s *State) Name(a chain.Address, name string) { s.names[a.String()] = name }

// Pool remembers a stake pool's account for printing.
func (s *State) Pool(name string) string {
	s.Name(chain.StakePoolAddress(name), "pool:"+name)
	return name
}

// Escrow remembers an escrow's account for printing.
func (s *State) Escrow(id string) string {
	s.Name(chain.EscrowAddress(id), "escrow:"+id)
	return id
}

// Readable replaces every known address in text by its name.
func (s *State) Readable(text string) string {
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

// U64 parses a number of the scenario, failing the file on a bad one.
func (s *State) U64(v string) uint64 {
	s.T.Helper()
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.Fail("bad number %q: %v", v, err)
	}
	return n
}

// Block is the block at height h: its time steps 5 s a block and its seed,
// which markets draw assignments from, depends on the height as a real
// block's does on its hash.
func Block(h int64) chain.Block {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(h))
	return chain.Block{Height: h, Time: 1_700_000_000 + h*5, ChainID: ChainID, Seed: sha256.Sum256(b[:])}
}

// Ctx is a context over kv at the next block, for calling domain
// functions directly.
func (s *State) Ctx(kv store.KV) *chain.Context {
	return chain.NewContext(kv, Block(s.Height+1), s.Params)
}

// JSON renders v indented, with addresses as names: what a query prints.
func (s *State) JSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		s.Fail("%v", err)
	}
	return s.Readable(string(b))
}

func (s *State) run(d *datadriven.TestData) string {
	s.T.Helper()
	if d.Cmd != "genesis" && s.Tree == nil {
		s.Fail("%s: the scenario must start with genesis", d.Pos)
	}
	args := positional(d)
	arg := func(i int) string {
		if i >= len(args) {
			s.Fail("%s: %s needs %d arguments", d.Pos, d.Cmd, i+1)
		}
		return args[i]
	}
	switch d.Cmd {
	case "genesis":
		return s.genesis(d)
	case "tx":
		tx := s.buildTx(words(d), d.Input, map[string]uint64{})
		res := s.ApplyBlock([][]byte{tx.bytes})
		return strings.Join(append([]string{s.result(res.Txs[0], tx.events)}, s.endBlockEvents(res)...), "\n")
	case "block":
		pending := map[string]uint64{}
		var txs [][]byte
		var events []bool
		for _, line := range strings.Split(d.Input, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			f, js := splitJSON(line)
			tx := s.buildTx(f, js, pending)
			txs = append(txs, tx.bytes)
			events = append(events, tx.events)
		}
		res := s.ApplyBlock(txs)
		var lines []string
		for i, r := range res.Txs {
			lines = append(lines, s.result(r, events[i]))
		}
		return strings.Join(append(lines, s.endBlockEvents(res)...), "\n")
	case "advance":
		var lines []string
		for n := s.U64(arg(0)); n > 0; n-- {
			lines = append(lines, s.endBlockEvents(s.ApplyBlock(nil))...)
		}
		return strings.Join(append(lines, fmt.Sprintf("height %d", s.Height)), "\n")
	case "height":
		return fmt.Sprint(s.Height)
	case "balance":
		return fmt.Sprint(chain.Balance(s.Tree, s.Addr(arg(0))))
	case "balances":
		var b strings.Builder
		chain.Balances(s.Tree, func(a chain.Address, amount uint64) bool {
			fmt.Fprintf(&b, "%s %d\n", s.Readable(a.String()), amount)
			return true
		})
		return b.String()
	case "supply":
		return fmt.Sprint(chain.Supply(s.Tree))
	case "seq":
		return fmt.Sprint(chain.Sequence(s.Tree, s.Addr(arg(0))))
	case "bonded":
		return fmt.Sprint(chain.Bonded(s.Ctx(s.Tree), s.Addr(arg(0)), s.Pool(arg(1))))
	case "unbondings":
		var b strings.Builder
		for _, u := range chain.Unbondings(s.Ctx(s.Tree), s.Addr(arg(0))) {
			fmt.Fprintf(&b, "%s %d at height %d\n", u.Pool, u.Amount, u.Maturity)
		}
		return orNone(b.String())
	case "slashes":
		var b strings.Builder
		for _, r := range chain.Slashes(s.Ctx(s.Tree), chain.Address{}) {
			to := "burned"
			if !r.Beneficiary.IsZero() {
				to = "to " + s.Readable(r.Beneficiary.String())
			}
			fmt.Fprintf(&b, "%s %s %d %s at height %d: %s\n", s.Readable(r.Account.String()), r.Pool, r.Amount, to, r.Height, r.Reason)
		}
		return orNone(b.String())
	case "slash":
		var reason string
		var to chain.Address
		if d.HasArg("reason") {
			d.ScanArgs(s.T, "reason", &reason)
			reason = strings.ReplaceAll(reason, "-", " ")
		}
		if d.HasArg("to") {
			var name string
			d.ScanArgs(s.T, "to", &name)
			to = s.Addr(name)
		}
		who, pool, amount := s.Addr(arg(0)), s.Pool(arg(1)), s.U64(arg(2))
		return s.Direct(func(ctx *chain.Context) (string, error) {
			took, err := chain.Slash(ctx, who, pool, reason, amount, to)
			return fmt.Sprintf("took %d", took), err
		})
	case "lock":
		owner, id, amount := s.Addr(arg(0)), s.Escrow(arg(1)), s.U64(arg(2))
		return s.Direct(func(ctx *chain.Context) (string, error) { return "ok", chain.Lock(ctx, owner, id, amount) })
	case "release":
		id, to, amount := s.Escrow(arg(0)), s.Addr(arg(1)), s.U64(arg(2))
		return s.Direct(func(ctx *chain.Context) (string, error) { return "ok", chain.Release(ctx, id, to, amount) })
	case "refund":
		id := s.Escrow(arg(0))
		return s.Direct(func(ctx *chain.Context) (string, error) {
			n, err := chain.Refund(ctx, id)
			return fmt.Sprintf("refunded %d", n), err
		})
	case "escrow":
		return fmt.Sprint(chain.EscrowBalance(s.Ctx(s.Tree), s.Escrow(arg(0))))
	case "blob":
		r, ok := chain.GetBlob(s.Ctx(s.Tree), s.CID(arg(0)))
		if !ok {
			return "not registered"
		}
		return fmt.Sprintf("owner %s size %d height %d", s.Readable(r.Owner.String()), r.Size, r.Height)
	case "query":
		// query <domain> <path> [key=value ...]: the API's answer, as JSON;
		// @name in a value is that account's address
		params := map[string]string{}
		for _, a := range d.CmdArgs {
			if len(a.Vals) > 0 {
				params[a.Key] = s.names2addrs(strings.Join(a.Vals, ",")) // worker=@ana: ana's address
			}
		}
		v, err := s.App.Query(s.Tree, arg(0), arg(1), params)
		if err != nil {
			return "error: " + s.Readable(err.Error())
		}
		return s.JSON(v)
	}
	if c, ok := s.opts.Commands[d.Cmd]; ok {
		return c(s, d)
	}
	s.Fail("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// positional is the directive's arguments without a value, in order.
func positional(d *datadriven.TestData) []string {
	var out []string
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			out = append(out, a.Key)
		}
	}
	return out
}

// words is the directive's arguments as written (key=value kept whole).
func words(d *datadriven.TestData) []string {
	out := make([]string, 0, len(d.CmdArgs))
	for _, a := range d.CmdArgs {
		out = append(out, a.String())
	}
	return out
}

// splitJSON cuts a transaction line at its JSON message, if it has one.
func splitJSON(line string) ([]string, string) {
	if i := strings.IndexByte(line, '{'); i >= 0 {
		return strings.Fields(line[:i]), line[i:]
	}
	return strings.Fields(line), ""
}

func (s *State) genesis(d *datadriven.TestData) string {
	if s.Tree != nil {
		s.Fail("%s: genesis twice", d.Pos)
	}
	tree, err := store.OpenTree("")
	if err != nil {
		s.Fail("%v", err)
	}
	s.T.Cleanup(func() { tree.Close() })
	p := chain.DefaultParams()
	for _, a := range d.CmdArgs {
		v := strings.Join(a.Vals, ",")
		switch a.Key {
		case "min_fee":
			p.MinFee = s.U64(v)
		case "unbonding":
			p.UnbondingBlocks = int64(s.U64(v))
		case "max_tx":
			p.MaxTxBytes = int(s.U64(v))
		case "max_blob":
			p.MaxBlobBytes = s.U64(v)
		default:
			s.Fail("%s: unknown genesis option %q", d.Pos, a.Key)
		}
	}
	g := chain.Genesis{Params: p}
	for _, in := range strings.Split(d.Input, "\n") {
		f := strings.Fields(in)
		switch {
		case len(f) == 0:
			continue
		case f[0] == "domain" && len(f) >= 3:
			// domain <name> <json>: that domain's genesis section
			if g.Domains == nil {
				g.Domains = map[string]json.RawMessage{}
			}
			_, js := splitJSON(in)
			g.Domains[f[1]] = json.RawMessage(s.names2addrs(js))
			continue
		case len(f) < 2:
			s.Fail("%s: a genesis account needs a name and a balance: %q", d.Pos, in)
		}
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: s.Addr(f[0]), Balance: s.U64(f[1])})
		for _, opt := range f[2:] {
			v, ok := strings.CutPrefix(opt, "stake=")
			pool, amount, ok2 := strings.Cut(v, ":")
			if !ok || !ok2 {
				s.Fail("%s: bad genesis option %q", d.Pos, opt)
			}
			g.Stakes = append(g.Stakes, chain.GenesisStake{Address: s.Addr(f[0]), Pool: s.Pool(pool), Amount: s.U64(amount)})
		}
	}
	s.Name(chain.FeeCollector, "fees")
	// Through a buffer, as a failed genesis must leave nothing behind.
	c := store.NewCache(tree)
	if err := s.App.InitGenesis(chain.NewContext(c, Block(1), p), g); err != nil {
		return "error: " + s.Readable(err.Error())
	}
	c.Write()
	s.Tree, s.Params, s.Height = tree, p, 0
	return "ok"
}

// names2addrs replaces every @name in a JSON text by that account's
// address, so scenario files write names where messages take addresses.
func (s *State) names2addrs(js string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(js, '@')
		if i < 0 {
			b.WriteString(js)
			return b.String()
		}
		b.WriteString(js[:i])
		if i+1 == len(js) || !isLetter(js[i+1]) { // names start with a letter; "dataset/1@7" is no name
			b.WriteByte('@')
			js = js[i+1:]
			continue
		}
		j := i + 1
		for j < len(js) && (isNameByte(js[j])) {
			j++
		}
		b.WriteString(s.Addr(js[i+1 : j]).String())
		js = js[j:]
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':'
}

// CID is a blob CID as a scenario writes it: cid:<text> is the CID of that
// text, anything else is taken as it is.
func (s *State) CID(tok string) string {
	if text, ok := strings.CutPrefix(tok, "cid:"); ok {
		return chain.BlobCID([]byte(text))
	}
	return tok
}

type builtTx struct {
	bytes  []byte
	events bool
}

// buildTx signs the transaction described by f (sender, message words,
// options) with js as its message if the message is a registered type
// written as JSON. pending counts the transactions already built in this
// block per sender, for the default sequence.
func (s *State) buildTx(f []string, js string, pending map[string]uint64) builtTx {
	s.T.Helper()
	if len(f) < 2 {
		s.Fail("a transaction needs a sender and a message: %q", f)
	}
	sender := f[0]
	from := s.Addr(sender)
	var ws, opts []string
	for _, w := range f[1:] {
		if isOption(w) {
			opts = append(opts, w)
		} else {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		s.Fail("a transaction needs a message: %q", f)
	}
	msg := s.msg(ws, js)
	seq := chain.Sequence(s.Tree, from) + pending[sender]
	fee, chainID, memo := s.Params.MinFee, ChainID, ""
	if c, ok := msg.(chain.Coster); ok {
		fee += c.ExtraFee()
	}
	var out builtTx
	badSig := false
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "fee":
			fee = s.U64(v)
		case "seq":
			seq = s.U64(v)
		case "chain":
			chainID = v
		case "memo":
			memo = v
		case "badsig":
			badSig = true
		case "events":
			out.events = true
		}
	}
	pending[sender]++
	b, err := chain.SignTx(Key(sender), chainID, seq, fee, msg, memo)
	if err != nil {
		s.Fail("%v", err)
	}
	if badSig {
		b[len(b)-1] ^= 1
	}
	out.bytes = b
	return out
}

// isOption reports whether a transaction word is one of its options rather
// than part of its message.
func isOption(w string) bool {
	if w == "badsig" || w == "events" {
		return true
	}
	k, _, ok := strings.Cut(w, "=")
	switch k {
	case "fee", "seq", "chain", "memo":
		return ok
	}
	return false
}

// msg builds the message that ws names: a core word, a market's word, or a
// registered message type whose JSON is js.
func (s *State) msg(ws []string, js string) chain.Msg {
	s.T.Helper()
	need := func(n int) {
		if len(ws) != n {
			s.Fail("message %q needs %d words", ws, n)
		}
	}
	switch ws[0] {
	case "send":
		need(3)
		return &chain.MsgSend{To: s.Addr(ws[1]), Amount: s.U64(ws[2])}
	case "bond":
		need(3)
		return &chain.MsgBond{Pool: s.Pool(ws[1]), Amount: s.U64(ws[2])}
	case "unbond":
		need(3)
		return &chain.MsgUnbond{Pool: s.Pool(ws[1]), Amount: s.U64(ws[2])}
	case "blob":
		need(3)
		return &chain.MsgRegisterBlob{CID: s.CID(ws[1]), Size: s.U64(ws[2])}
	case "unknown":
		need(1)
		return &msgUnknown{X: 1}
	}
	if w, ok := s.opts.Words[ws[0]]; ok {
		return w(s, ws[1:])
	}
	m, ok := s.App.Router().NewMsg(ws[0])
	if !ok {
		s.Fail("unknown message %q", ws[0])
	}
	need(1)
	if strings.TrimSpace(js) == "" {
		js = "{}"
	}
	dec := json.NewDecoder(strings.NewReader(s.names2addrs(js)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		s.Fail("%s: JSON %s: %v", ws[0], js, err)
	}
	return m
}

// msgUnknown is a well-formed message of a type no domain registers.
type msgUnknown struct {
	X uint64 `cbor:"1,keyasint"`
}

func (*msgUnknown) Type() string         { return "nope/do" }
func (*msgUnknown) ValidateBasic() error { return nil }

// ApplyBlock applies the next block with txs, checks that the same block
// without its rejected transactions leads to the same state, and commits.
func (s *State) ApplyBlock(txs [][]byte) chain.BlockResult {
	s.T.Helper()
	s.Height++
	b := Block(s.Height)
	withAll := store.NewCache(s.Tree)
	res := s.App.ApplyBlock(withAll, b, txs, nil)
	var accepted [][]byte
	for i, r := range res.Txs {
		if r.Code == 0 {
			accepted = append(accepted, txs[i])
		}
	}
	onlyAccepted := store.NewCache(s.Tree)
	for i, r := range s.App.ApplyBlock(onlyAccepted, b, accepted, nil).Txs {
		if r.Code != 0 {
			s.Fail("height %d: accepted transaction %d fails without the rejected ones: %s", s.Height, i, r.Log)
		}
	}
	if Dump(withAll) != Dump(onlyAccepted) {
		s.Fail("height %d: a rejected transaction changed the state", s.Height)
	}
	withAll.Write()
	if _, _, err := s.Tree.Commit(); err != nil {
		s.Fail("%v", err)
	}
	return res
}

// Submit signs msg from sender and applies it in a block of its own; it
// returns what a tx directive prints ("ok" or "error <code>: ...").
func (s *State) Submit(sender string, msg chain.Msg) string {
	fee := s.Params.MinFee
	if c, ok := msg.(chain.Coster); ok {
		fee += c.ExtraFee()
	}
	b, err := chain.SignTx(Key(sender), ChainID, chain.Sequence(s.Tree, s.Addr(sender)), fee, msg, "")
	if err != nil {
		s.Fail("%v", err)
	}
	res := s.ApplyBlock([][]byte{b})
	return strings.Join(append([]string{s.result(res.Txs[0], false)}, s.endBlockEvents(res)...), "\n")
}

func (s *State) result(r chain.TxResult, events bool) string {
	if r.Code != 0 {
		if len(r.Events) != 0 {
			s.Fail("rejected transaction with events: %+v", r.Events)
		}
		return fmt.Sprintf("error %d: %s", r.Code, s.Readable(r.Log))
	}
	out := "ok"
	if events {
		for _, ev := range r.Events {
			out += "\n  " + s.formatEvent(ev)
		}
	}
	return out
}

func (s *State) formatEvent(ev chain.Event) string {
	var b strings.Builder
	b.WriteString(ev.Type)
	for _, a := range ev.Attrs {
		fmt.Fprintf(&b, " %s=%s", a.Key, a.Value)
	}
	return s.Readable(b.String())
}

func (s *State) endBlockEvents(res chain.BlockResult) []string {
	var lines []string
	for _, ev := range res.Events {
		lines = append(lines, fmt.Sprintf("height %d end-block: %s", s.Height, s.formatEvent(ev)))
	}
	return lines
}

// Direct calls a domain function in a buffer over the state, as a market
// handler would, keeps its writes only on success, and requires a failure
// to write nothing at all.
func (s *State) Direct(f func(ctx *chain.Context) (string, error)) string {
	s.T.Helper()
	c := store.NewCache(s.Tree)
	hash := s.Tree.WorkingHash()
	out, err := f(s.Ctx(c))
	if err != nil {
		if c.Len() != 0 {
			s.Fail("failed step wrote %d keys: %v", c.Len(), err)
		}
		if !bytes.Equal(hash, s.Tree.WorkingHash()) {
			s.Fail("failed step changed the state")
		}
		return "error: " + s.Readable(err.Error())
	}
	c.Write()
	return out
}
