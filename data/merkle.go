package data

import (
	"crypto/sha256"

	"github.com/tenun-chain/tenun/chain"
)

// RecordHash identifies a record's content for de-duplication and Merkle
// roots: sha256 of its canonical encoding.
func RecordHash(rec []string) chain.Hash {
	return chain.Hash(sha256.Sum256(chain.Marshal(rec)))
}

// MerkleRoot is the root of a binary sha256 tree over leaves (hashes); an
// odd node at a level is promoted unchanged. Leaves and inner nodes are
// domain-separated so a leaf cannot pose as an inner node.
func MerkleRoot(leaves []chain.Hash) chain.Hash {
	if len(leaves) == 0 {
		return chain.Hash(sha256.Sum256(nil))
	}
	level := make([]chain.Hash, len(leaves))
	for i, l := range leaves {
		level[i] = sha256.Sum256(append([]byte{0}, l[:]...))
	}
	for len(level) > 1 {
		next := make([]chain.Hash, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			h := sha256.New()
			h.Write([]byte{1})
			h.Write(level[i][:])
			h.Write(level[i+1][:])
			var out chain.Hash
			h.Sum(out[:0])
			next = append(next, out)
		}
		level = next
	}
	return level[0]
}
