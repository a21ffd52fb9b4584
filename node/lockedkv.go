package node

import (
	"sync"

	"github.com/tenun-chain/tenun/chain/store"
)

// IAVL's committed versions share tree nodes with the working tree, and the
// library does not make reading one while writing the other safe. So the
// adapter holds treeMu for writing while it applies and commits a block, and
// every snapshot read (API queries, the mempool's check state) holds it for
// reading. lockedKV is a snapshot whose reads take that lock.
type lockedKV struct {
	kv store.KV
	mu *sync.RWMutex
}

func (l lockedKV) Get(key []byte) []byte {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.kv.Get(key)
}

func (l lockedKV) Set(key, value []byte) { l.kv.Set(key, value) } // snapshots refuse writes
func (l lockedKV) Delete(key []byte)     { l.kv.Delete(key) }

// Iterate copies the range under the lock and calls fn after releasing it,
// so fn may read the store again without re-entering the lock (a waiting
// writer would otherwise deadlock a nested read lock).
func (l lockedKV) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	type kvPair struct{ k, v []byte }
	var pairs []kvPair
	l.mu.RLock()
	l.kv.Iterate(prefix, func(k, v []byte) bool {
		pairs = append(pairs, kvPair{append([]byte{}, k...), append([]byte{}, v...)})
		return true
	})
	l.mu.RUnlock()
	for _, p := range pairs {
		if !fn(p.k, p.v) {
			return
		}
	}
}
