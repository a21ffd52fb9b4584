// Package keys is Tenun's on-disk keyring: named ed25519 account keys,
// backed up as BIP-39 mnemonics.
//
// # Backends
//
// Open(dir, backend, passphrase) keeps keys in dir, one versioned JSON file
// per key (<name>.key.json, mode 0600, directory 0700); use a separate
// directory per backend (the CLI uses <home>/keyring-<backend>):
//
//   - BackendFile: the key's secret (its mnemonic) is encrypted with
//     XChaCha20-Poly1305 under a 256-bit key derived from the passphrase by
//     Argon2id (default: 3 passes, 64 MiB, 4 lanes; RFC 9106's second
//     recommended option) with a random 16-byte salt and a random 24-byte
//     nonce per file. Every public field of the file (name, address, public
//     key, KDF parameters, ...) is authenticated as additional data, so a
//     wrong passphrase and any edit of the file both fail with
//     ErrWrongPassphrase ("wrong passphrase or corrupt key file"). New keys
//     need a passphrase of at least MinPassphraseLen characters.
//   - BackendTest: INSECURE. The mnemonic is stored in clear and each file
//     says so in its "insecure" field. Only for local devnets and tests,
//     where no passphrase prompt is wanted.
//
// Public information (List, Show) never needs the passphrase; Add, Import,
// Export and Signer ask for it through the passphrase callback.
//
// # Key derivation
//
// Keys are created from 24-word (256-bit) BIP-39 English mnemonics; importing
// accepts any valid BIP-39 length. A mnemonic becomes a key as follows
// (DerivePrivKey):
//
//  1. seed = PBKDF2-HMAC-SHA512(password = mnemonic, salt = "mnemonic" +
//     BIP-39 passphrase, 2048 iterations, 64 bytes) — standard BIP-39. The
//     keyring uses the empty BIP-39 passphrase, so the 24 words alone
//     restore the key.
//  2. SLIP-0010 ed25519 derivation from that seed along HDPath,
//     m/44'/118'/0'/0'/0' (all levels hardened): the master node is
//     HMAC-SHA512(key = "ed25519 seed", seed), and each hardened child is
//     HMAC-SHA512(key = chain code, 0x00 || key || ser32(index + 2^31)); the
//     left 32 bytes are the key, the right 32 the chain code.
//  3. The final 32-byte key is the ed25519 private seed (RFC 8032);
//     crypto/ed25519.NewKeyFromSeed expands it to the 64-byte seed||pubkey
//     form CometBFT's ed25519.PrivKey uses, and the account address is
//     chain.AddressFromPubKey(pubkey), shown as bech32 "tenun1...".
//
// # Devnet keys
//
// DevMnemonic(i) gives the well-known mnemonics of the devnet accounts
// alice, bob, carol, dave, eve, ... (DevName): the entropy of each is
// sha256("tenun devnet key " + name). They are PUBLIC and therefore
// INSECURE: never use them, or fund their addresses, outside a local devnet.
package keys
