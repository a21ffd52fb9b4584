package registry

import "testing"

// The archive reader in consensus never panics and only finds a file in an
// archive it could have been written into.
func FuzzArchiveFile(f *testing.F) {
	f.Add([]byte("tenun-outputs/v1\n\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x0equantized.json\x00\x00\x00\x00\x00\x00\x00\x02{}"))
	f.Add([]byte("tenun-outputs/v1\n\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := archiveFile(b, QuantizedFile); err == nil && len(got) > len(b) {
			t.Fatalf("file of %d bytes from an archive of %d", len(got), len(b))
		}
	})
}
