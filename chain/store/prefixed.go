package store

import (
	"bytes"
	"fmt"
)

// OutOfPrefix is the panic value of a write outside a Prefixed store's
// prefix: a bug in the domain that wrote, never a user's doing. The state
// machine turns it into a failed transaction (or end-block step) that
// changed nothing.
type OutOfPrefix struct {
	Prefix string
	Key    []byte
}

func (e *OutOfPrefix) Error() string {
	return fmt.Sprintf("store: write to %q outside the domain's prefix %q", e.Key, e.Prefix)
}

// prefixed limits writes to keys under one prefix; reads go anywhere.
type prefixed struct {
	kv     KV
	prefix []byte
}

// Prefixed returns kv with writes limited to keys that start with prefix:
// Set or Delete of any other key panics with *OutOfPrefix. Reads and
// iteration see the whole of kv, so a domain can read what another owns
// (a balance, a registered blob) but change only its own records.
func Prefixed(kv KV, prefix string) KV {
	if p, ok := kv.(*prefixed); ok {
		kv = p.kv // one limit at a time: the newer one
	}
	return &prefixed{kv: kv, prefix: []byte(prefix)}
}

func (p *prefixed) check(key []byte) {
	if !bytes.HasPrefix(key, p.prefix) {
		panic(&OutOfPrefix{Prefix: string(p.prefix), Key: bytes.Clone(key)})
	}
}

func (p *prefixed) Get(key []byte) []byte { return p.kv.Get(key) }
func (p *prefixed) Set(key, value []byte) { p.check(key); p.kv.Set(key, value) }
func (p *prefixed) Delete(key []byte)     { p.check(key); p.kv.Delete(key) }
func (p *prefixed) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	p.kv.Iterate(prefix, fn)
}
