package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/blob"
)

// blob cid, export-car and import-car on a file of three chunks: the CID is
// the IPFS one, and the CAR gives the same bytes back under it.
func TestBlobFileCommands(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("tenun weaves "), 60_000) // 780 kB: three chunks
	in := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(in, content, 0o644); err != nil {
		t.Fatal(err)
	}
	want, _, err := blob.CID(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "blob", "cid", in)
	if err != nil || !strings.Contains(out, want.String()) {
		t.Fatalf("blob cid: %v\n%s", err, out)
	}
	car, back := filepath.Join(dir, "f.car"), filepath.Join(dir, "back.bin")
	if out, err = run(t, "blob", "export-car", in, car); err != nil || !strings.Contains(out, want.String()) {
		t.Fatalf("export-car: %v\n%s", err, out)
	}
	if out, err = run(t, "blob", "import-car", car, back); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("import-car: %v\n%s", err, out)
	}
	got, err := os.ReadFile(back)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("the CAR gave back %d bytes, want %d", len(got), len(content))
	}
	// A CAR with a changed byte is refused and leaves no file behind.
	raw, _ := os.ReadFile(car)
	raw[len(raw)-100] ^= 0xff
	os.WriteFile(car, raw, 0o644)
	os.Remove(back)
	if _, err := run(t, "blob", "import-car", car, back); err == nil {
		t.Fatal("a tampered CAR was imported")
	}
	if _, err := os.Stat(back); !os.IsNotExist(err) {
		t.Fatal("a refused import left its output")
	}
}
