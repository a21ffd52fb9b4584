package chain

// Key joins the parts of a state key (a prefix, big-endian ids from
// Uint64Bytes, addresses, hashes) into one new slice; the parts are not
// changed.
func Key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}
