// Package store is the key-value state that every Tenun domain reads and
// writes. Consensus code sees only the KV interface; the IAVL tree that backs
// it, and the per-transaction write buffers over it, live here.
package store

// KV is the state as the state machine sees it. Keys are compared bytewise and
// Iterate always walks them in ascending order, so results never depend on
// how the state was built. A nil value means absent.
type KV interface {
	Get(key []byte) []byte
	Set(key, value []byte)
	Delete(key []byte)
	// Iterate calls fn for each key with the given prefix, ascending, until fn
	// returns false. fn must not write to the store it iterates.
	Iterate(prefix []byte, fn func(key, value []byte) bool)
}

// Has reports whether key is present.
func Has(kv KV, key []byte) bool { return kv.Get(key) != nil }

// PrefixEnd returns the smallest key greater than every key with the prefix,
// or nil when there is none (a prefix of only 0xff bytes).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
