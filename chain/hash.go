package chain

import (
	"encoding/hex"
	"strings"
)

// Hash is a sha256 digest (a commitment, a result digest, a salt, an id);
// it prints and parses as 64 hex digits, in JSON too.
type Hash [32]byte

// IsZero reports whether h is all zeros (unset).
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler (JSON).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (JSON).
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash reads 64 hex digits (an optional 0x prefix is accepted).
func ParseHash(s string) (Hash, error) {
	s = strings.TrimPrefix(s, "0x")
	var h Hash
	if len(s) != 2*len(h) {
		return h, Wrap(ErrInvalidRequest, "hash %q: want %d hex digits", s, 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, Wrap(ErrInvalidRequest, "hash %q: %v", s, err)
	}
	return h, nil
}
