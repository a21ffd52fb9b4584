package durable

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSaveLoadRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ Salt []byte }
	if err := d.Save("job-1", rec{[]byte("s1")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save("job-2", rec{[]byte("s2")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save("job-1", rec{[]byte("s1b")}); err != nil { // replaced whole
		t.Fatal(err)
	}
	// A reopened directory (a restarted agent) sees the same records.
	d2, _ := Open(dir)
	var r rec
	if ok, err := d2.Load("job-1", &r); !ok || err != nil || string(r.Salt) != "s1b" {
		t.Fatalf("load: %v %v %q", ok, err, r.Salt)
	}
	if keys, _ := d2.Keys("job-"); !slices.Equal(keys, []string{"job-1", "job-2"}) {
		t.Errorf("keys %v", keys)
	}
	if err := d2.Remove("job-1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := d2.Load("job-1", &r); ok {
		t.Error("removed record still loads")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind %v", entries)
	}
	if err := d.Save("../x", rec{}); err == nil {
		t.Error("a path as key was accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load("bad", &r); err == nil {
		t.Error("corrupt record loaded")
	}
	var zero Dir
	if err := zero.Save("a", rec{}); err != nil || zero.Enabled() {
		t.Error("zero Dir should keep nothing quietly")
	}
}
