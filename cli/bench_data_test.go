package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// bench data at a small size: every figure is measured beside its
// baseline and the JSON carries them all.
func TestBenchDataSmall(t *testing.T) {
	out, err := run(t, "bench", "data", "--records", "1000", "--contributors", "2", "--batch", "250", "--rounds", "2", "--blob-mb", "2", "-o", "json")
	if err != nil {
		t.Fatalf("bench data: %v\n%s", err, out)
	}
	var res dataBench
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for name, v := range map[string]float64{
		"chain/validate": res.ChainVsValidate, "chain/store": res.ChainVsStore, "gateway/disk": res.GatewayVsDisk,
		"put/copy": res.BlobPutVsCopy, "get/copy": res.BlobGetVsCopy,
	} {
		if !(v > 0) {
			t.Errorf("ratio %s is %v", name, v)
		}
	}
	if res.Records != 1000 || res.StateKeys < 3000 || res.BlobBytes != 2<<20 || res.Limit == "" {
		t.Fatalf("bench data: %+v", res)
	}
}
