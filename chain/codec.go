package chain

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// The canonical encoding of transactions and state values is CBOR in the
// core deterministic form of RFC 8949 section 4.2 (shortest integers, sorted
// map keys, definite lengths), with structs as integer-keyed maps. Decoding is
// strict and every decoded value must re-encode to the same bytes, so each
// transaction has exactly one encoding and one hash.
var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

// Decoder limits: far above any valid transaction, low enough that a hostile
// input cannot make the decoder allocate much.
const (
	maxCBORDepth    = 16
	maxCBORElements = 65536
)

func init() {
	var err error
	encOpts := cbor.CoreDetEncOptions()
	encOpts.Time = cbor.TimeUnix
	if encMode, err = encOpts.EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   maxCBORDepth,
		MaxArrayElements:  maxCBORElements,
		MaxMapPairs:       maxCBORElements,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal encodes v canonically.
func Marshal(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		// Only unsupported Go types fail to encode: a programming error.
		panic(fmt.Errorf("cbor encode %T: %w", v, err))
	}
	return b
}

// Unmarshal decodes canonical CBOR into v and rejects any other encoding of
// the same value.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return err
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("not in canonical form")
	}
	return nil
}

// The corrupt-data policy: a state value that does not decode was not
// written by this program's rules (a bug, or a damaged disk), so the node
// stops, naming the key, instead of skipping it: a skipped record would
// change results (who is paid, who is matched) on this node alone, and the
// divergence would surface only later as an app-hash mismatch. chain.Get,
// chain.Each and the chain's own modules all follow it.

// mustUnmarshal decodes a state value written by this program; failure means
// corrupt state, which must stop the node.
func mustUnmarshal(data []byte, v any) {
	if err := Unmarshal(data, v); err != nil {
		panic(fmt.Errorf("corrupt state value for %T: %w", v, err))
	}
}

// Get reads and decodes the state value at key into v; false if absent.
func Get(kv interface{ Get([]byte) []byte }, key []byte, v any) bool {
	raw := kv.Get(key)
	if raw == nil {
		return false
	}
	if err := Unmarshal(raw, v); err != nil {
		panic(fmt.Errorf("corrupt state at key %q (%T): %w", key, v, err))
	}
	return true
}

// Each decodes every value under prefix, in key order, and calls fn with
// its key and value until fn returns false. A value that does not decode
// stops the node (the corrupt-data policy above).
func Each[T any](kv interface {
	Iterate([]byte, func(k, v []byte) bool)
}, prefix []byte, fn func(key []byte, v T) bool) {
	kv.Iterate(prefix, func(k, raw []byte) bool {
		var v T
		if err := Unmarshal(raw, &v); err != nil {
			panic(fmt.Errorf("corrupt state at key %q (%T): %w", k, v, err))
		}
		return fn(k, v)
	})
}

// Put encodes v and writes it at key.
func Put(kv interface{ Set(k, v []byte) }, key []byte, v any) { kv.Set(key, Marshal(v)) }
