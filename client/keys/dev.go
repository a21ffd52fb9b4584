package keys

import (
	"crypto/sha256"
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"
	bip39 "github.com/cosmos/go-bip39"
)

// devNames are the well-known devnet accounts, in order.
var devNames = []string{
	"alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil",
	"trent", "victor", "walter", "xavier",
}

// DevName is the name of devnet account i: alice, bob, carol, dave, eve,
// frank, grace, heidi, ivan, judy, mallory, niaj, olivia, peggy, rupert,
// sybil, trent, victor, walter, xavier, then "dev20", "dev21", ... It panics
// if i is negative.
func DevName(i int) string {
	if i < 0 {
		panic(fmt.Sprintf("keys: negative devnet account index %d", i))
	}
	if i < len(devNames) {
		return devNames[i]
	}
	return fmt.Sprintf("dev%d", i)
}

// DevMnemonic is the 24-word mnemonic of devnet account i (see DevName). Its
// entropy is sha256("tenun devnet key " + DevName(i)), so anyone can recompute
// it.
//
// INSECURE: these mnemonics are public. Use them only on local devnets and in
// tests; anything sent to their addresses on a real network can be taken by
// anyone.
func DevMnemonic(i int) string {
	entropy := sha256.Sum256([]byte("tenun devnet key " + DevName(i)))
	m, err := bip39.NewMnemonic(entropy[:])
	if err != nil {
		panic(err) // 256 bits is always a valid entropy size
	}
	return m
}

// DevPrivKey is the private key of devnet account i, derived from
// DevMnemonic(i) like every keyring key. INSECURE: public, devnets only.
func DevPrivKey(i int) ed25519.PrivKey {
	k, err := DerivePrivKey(DevMnemonic(i), "")
	if err != nil {
		panic(err) // DevMnemonic is always valid
	}
	return k
}
