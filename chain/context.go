package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"

	"github.com/tenun-chain/tenun/chain/store"
)

// Block is what the state machine knows of the block it applies: only data
// every validator agrees on. Domains take time, and any randomness, from here.
type Block struct {
	Height  int64
	Time    int64 // unix seconds from the block header, never the local clock
	ChainID string
	Seed    [32]byte // sha256 of the block hash and the height: the only randomness

	// Misbehaving lists validators CometBFT found double-signing in this block.
	Misbehaving []Address
}

// Rand returns a deterministic 64-bit value for a purpose within this block,
// derived from the block seed: every validator draws the same number.
func (b Block) Rand(purpose string, n uint64) uint64 {
	h := sha256.New()
	h.Write(b.Seed[:])
	h.Write([]byte(purpose))
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], n)
	h.Write(buf[:])
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// Event is a typed record of what a transaction or block did, indexed by
// CometBFT and returned by the API.
type Event struct {
	Type  string      `json:"type"`
	Attrs []Attribute `json:"attributes"`
}

// Attribute is one key and value of an event.
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Context is a domain handler's view of one transaction or end-block step:
// the state (a write buffer, discarded if the handler fails), the block,
// the signer, and the events emitted so far.
//
// KV is limited to the running domain's prefix: a handler or end-block
// step of domain X reads anything but writes only keys under "X/" (a write
// elsewhere fails the transaction or step; see store.Prefixed). The chain's
// own modules (bank, acct, escrow, stake, blob, params) write their keys
// through stores limited to their own prefixes in the same way, so moving
// tokens with Send/Lock/Bond/... works from any domain. A market's exported
// function that another market calls (a cross-market workflow) starts with
// ctx = ctx.Scoped("<its domain>") to write its own records.
type Context struct {
	KV     store.KV
	Block  Block
	Sender Address // zero in end-block steps
	Params Params

	state  store.KV // the whole state under KV's limit (nil: KV is unlimited)
	prefix string   // KV's limit, "" for none
	events *[]Event // shared with Scoped contexts
}

// NewContext returns a context over kv for block, its writes unlimited
// (genesis, queries and tests); the state machine limits each domain's.
func NewContext(kv store.KV, block Block, params Params) *Context {
	return &Context{KV: kv, Block: block, Params: params}
}

func (c *Context) whole() store.KV {
	if c.state != nil {
		return c.state
	}
	return c.KV
}

// Scoped is c with writes limited to domain's prefix ("<domain>/"), sharing
// c's state, block, sender and events.
func (c *Context) Scoped(domain string) *Context {
	return c.limited(domain + "/")
}

func (c *Context) limited(prefix string) *Context {
	return &Context{KV: store.Prefixed(c.whole(), prefix), Block: c.Block, Sender: c.Sender, Params: c.Params,
		state: c.whole(), prefix: prefix, events: c.eventList()}
}

func (c *Context) eventList() *[]Event {
	if c.events == nil {
		c.events = new([]Event)
	}
	return c.events
}

// module is the store the chain's own module with key prefix writes through.
func (c *Context) module(prefix string) store.KV { return store.Prefixed(c.whole(), prefix) }

// Emit records an event. Attributes come in key, value pairs.
func (c *Context) Emit(typ string, kv ...string) {
	ev := Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attrs = append(ev.Attrs, Attribute{Key: kv[i], Value: kv[i+1]})
	}
	*c.eventList() = append(*c.eventList(), ev)
}

// Events returns the events emitted so far.
func (c *Context) Events() []Event {
	if c.events == nil {
		return nil
	}
	return *c.events
}

// Isolated runs f over a write buffer on c's state with events of its own:
// if f succeeds, its writes and events join c's; if it fails, nothing it did
// remains and its error is returned. End-block steps run each item this way
// so that one that fails (a bug) cannot hold up the others. f's context has
// c's write limit; a write outside it fails f like an error.
func (c *Context) Isolated(f func(sub *Context) error) (err error) {
	cache := store.NewCache(c.whole())
	sub := &Context{KV: cache, Block: c.Block, Sender: c.Sender, Params: c.Params, events: new([]Event)}
	if c.state != nil {
		sub = sub.limited(c.prefix)
		sub.events = new([]Event)
	}
	if err := runGuarded(sub, f); err != nil {
		return err
	}
	cache.Write()
	*c.eventList() = append(*c.eventList(), sub.Events()...)
	return nil
}

// runGuarded runs f, turning a write outside its store's prefix (a bug, see
// store.OutOfPrefix) into an ErrInternal error; the caller drops its writes.
func runGuarded(ctx *Context, f func(*Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			oop, ok := r.(*store.OutOfPrefix)
			if !ok {
				panic(r)
			}
			err = Wrap(ErrInternal, "%v", oop)
		}
	}()
	return f(ctx)
}

// U64 formats a number for an event attribute.
func U64(v uint64) string { return strconv.FormatUint(v, 10) }

// I64 formats a signed number for an event attribute.
func I64(v int64) string { return strconv.FormatInt(v, 10) }
