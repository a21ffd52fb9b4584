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
type Context struct {
	KV     store.KV
	Block  Block
	Sender Address // zero in end-block steps
	Params Params
	events []Event
}

// NewContext returns a context over kv for block.
func NewContext(kv store.KV, block Block, params Params) *Context {
	return &Context{KV: kv, Block: block, Params: params}
}

// Emit records an event. Attributes come in key, value pairs.
func (c *Context) Emit(typ string, kv ...string) {
	ev := Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attrs = append(ev.Attrs, Attribute{Key: kv[i], Value: kv[i+1]})
	}
	c.events = append(c.events, ev)
}

// Events returns the events emitted so far.
func (c *Context) Events() []Event { return c.events }

// Isolated runs f over a write buffer on c's state with events of its own:
// if f succeeds, its writes and events join c's; if it fails, nothing it did
// remains and its error is returned. End-block steps run each item this way
// so that one that fails (a bug) cannot hold up the others.
func (c *Context) Isolated(f func(sub *Context) error) error {
	cache := store.NewCache(c.KV)
	sub := &Context{KV: cache, Block: c.Block, Sender: c.Sender, Params: c.Params}
	if err := f(sub); err != nil {
		return err
	}
	cache.Write()
	c.events = append(c.events, sub.events...)
	return nil
}

// U64 formats a number for an event attribute.
func U64(v uint64) string { return strconv.FormatUint(v, 10) }

// I64 formats a signed number for an event attribute.
func I64(v int64) string { return strconv.FormatInt(v, 10) }
