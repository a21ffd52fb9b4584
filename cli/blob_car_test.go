package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/internal/testnode"
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

// blob put and get against a real node, on a file of several chunks: the
// node stores it under its IPFS CID, gives it back checked, and as a CAR
// that import-car turns back into the file.
func TestBlobPutGetCommands(t *testing.T) {
	net := testnode.Start(t, 1)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 1); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test"}
	dir := t.TempDir()
	content := bytes.Repeat([]byte("rows of a dataset\n"), 40_000) // 720 kB: three chunks
	in := filepath.Join(dir, "data.csv")
	if err := os.WriteFile(in, content, 0o644); err != nil {
		t.Fatal(err)
	}
	want, _, err := blob.CID(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, append([]string{"blob", "put", in, "--from", "alice"}, base...)...)
	if err != nil || !strings.Contains(out, want.String()) {
		t.Fatalf("blob put: %v\n%s", err, out)
	}
	back := filepath.Join(dir, "back.csv")
	if out, err = run(t, append([]string{"blob", "get", want.String(), "--out", back}, base...)...); err != nil {
		t.Fatalf("blob get: %v\n%s", err, out)
	}
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("blob get wrote %d bytes, want %d", len(got), len(content))
	}
	car, fromCar := filepath.Join(dir, "data.car"), filepath.Join(dir, "from-car.csv")
	if out, err = run(t, append([]string{"blob", "get", want.String(), "--car", "--out", car}, base...)...); err != nil {
		t.Fatalf("blob get --car: %v\n%s", err, out)
	}
	if out, err = run(t, "blob", "import-car", car, fromCar); err != nil || !strings.Contains(out, want.String()) {
		t.Fatalf("import-car of the node's CAR: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(fromCar); !bytes.Equal(got, content) {
		t.Fatal("the node's CAR does not hold the file")
	}
	// A CAR goes up as the file it holds, under its root.
	other := append(bytes.Repeat([]byte("another dataset\n"), 30_000), 'x')
	otherFile, otherCar := filepath.Join(dir, "other.bin"), filepath.Join(dir, "other.car")
	os.WriteFile(otherFile, other, 0o644)
	if out, err = run(t, "blob", "export-car", otherFile, otherCar); err != nil {
		t.Fatalf("export-car: %v\n%s", err, out)
	}
	otherCID, _, _ := blob.CID(bytes.NewReader(other))
	if out, err = run(t, append([]string{"blob", "put", otherCar, "--car", "--from", "alice"}, base...)...); err != nil || !strings.Contains(out, otherCID.String()) {
		t.Fatalf("blob put --car: %v\n%s", err, out)
	}
	if got, err := net.Client.BlobGet(context.Background(), otherCID.String()); err != nil || !bytes.Equal(got, other) {
		t.Fatalf("the CAR's file on the node: %d bytes, %v", len(got), err)
	}
	if _, err = run(t, append([]string{"blob", "put", otherFile, "--car", "--from", "alice"}, base...)...); err == nil {
		t.Fatal("blob put --car took a file that is not a CAR")
	}
	if _, err = run(t, append([]string{"blob", "get", "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq", "--out", filepath.Join(dir, "none")}, base...)...); err == nil {
		t.Fatal("getting a blob the node does not hold succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); err == nil {
		t.Fatal("a failed get left a file")
	}
}
