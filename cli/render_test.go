package cli

import (
	"bytes"
	"strings"
	"testing"
)

// Query answers print as lines and tables in text mode, amounts in TNN,
// in the order the node sent the fields.
func TestRenderHuman(t *testing.T) {
	v, err := decodeOrdered([]byte(`{"id": 3, "name": "telemetry", "price": 2500000, "records": 7, "curator": {"bps": 1000},
		"versions": [{"version": 1, "root": "AB12", "records": 5}, {"version": 2, "root": "CD34", "records": 7, "note": "second"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	renderHuman(&b, v)
	out := b.String()
	for _, want := range []string{"id:      3", "price:   2.5 TNN (2500000 utnn)", "records: 7\n", "curator:\n  bps: 1000", "VERSION  ROOT  RECORDS  NOTE", "2        CD34  7        second", "1        AB12  5        -"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Index(out, "id:") > strings.Index(out, "name:") {
		t.Errorf("field order lost:\n%s", out)
	}
	b.Reset()
	renderHuman(&b, []any{})
	if b.String() != "(none)\n" {
		t.Errorf("empty list: %q", b.String())
	}
	if isAmountKey("records") || isAmountKey("stake_threshold") || !isAmountKey("min_stake") || !isAmountKey("fee") {
		t.Error("amount keys")
	}
}
