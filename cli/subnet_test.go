package cli

import (
	"strings"
	"testing"
)

// A weights salt is exactly 32 bytes as 64 hex digits, never all zeros;
// an empty one is drawn at random on commit and refused on reveal.
func TestSaltFlag(t *testing.T) {
	good := strings.Repeat("9a", 32)
	if s, err := saltFlag(good, false); err != nil || s.String() != good {
		t.Fatalf("%s: %v %v", good, s, err)
	}
	if s, err := saltFlag("0x"+good, false); err != nil || s.String() != good {
		t.Fatalf("0x prefix: %v %v", s, err)
	}
	a, err := saltFlag("", true)
	b, err2 := saltFlag("", true)
	if err != nil || err2 != nil || a.IsZero() || a == b {
		t.Fatalf("random salts %s %s: %v %v", a, b, err, err2)
	}
	for in, want := range map[string]string{
		"":                       "want 64 hex digits",
		"9a3c":                   "want 64 hex digits",
		strings.Repeat("9a", 33): "want 64 hex digits",
		strings.Repeat("zz", 32): "invalid byte",
		strings.Repeat("0", 64):  "all zeros",
	} {
		if _, err := saltFlag(in, false); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--salt") {
			t.Errorf("--salt %q: %v, want an error saying %q", in, err, want)
		}
	}
}
