package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/data/gateway"
	"github.com/tenun-chain/tenun/internal/testnode"
)

// A version of several chunks is served from its export on disk: the same
// bytes every time, named by the IPFS CID in X-Tenun-CID, by ranges too; a
// chunk corrupted on the node's disk fails the reads that touch it and no
// other.
func TestGatewayStreamsCheckedExport(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := net.Client
	curator, buyer := net.Keys[0], net.Keys[1]
	if _, err := c.Submit(ctx, curator, &data.MsgCreate{Name: "t", Schema: agent.VehicleSchema(), License: "CC0", Price: 100, CuratorBps: 10000, MaxBatch: 500}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Contribute(ctx, c, curator, 1, agent.NewVehicleFeed("car", 1, 1_700_000_000, 14000), 500); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, curator, &data.MsgSnapshot{Dataset: 1}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, buyer, &data.MsgBuy{Dataset: 1, Version: 1}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	get := func(query, rng string) (int, http.Header, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, c.Base()+"/data/1/download?"+query, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if err := gateway.SignGatewayRequest(req, buyer, "tenun-test", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b, err
	}
	code, hdr, first, err := get("format=csv", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("download: %d %v", code, err)
	}
	if lines := strings.Count(string(first), "\n"); lines != 14001 {
		t.Fatalf("the CSV has %d lines, want a header and 14,000 records", lines)
	}
	chunk := int(blob.ChunkSize)
	if len(first) < 2*chunk {
		t.Fatalf("the export is %d bytes; the test needs more than two chunks", len(first))
	}
	want, _, _ := blob.CID(bytes.NewReader(first))
	if hdr.Get("X-Tenun-CID") != want.String() {
		t.Fatalf("X-Tenun-CID %q, the bytes are %s", hdr.Get("X-Tenun-CID"), want)
	}
	_, _, again, err := get("format=csv", "")
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("a second download differs (%d bytes, %v)", len(again), err)
	}
	code, _, part, err := get("format=csv", fmt.Sprintf("bytes=%d-%d", chunk-5, chunk+4))
	if err != nil || code != http.StatusPartialContent || !bytes.Equal(part, first[chunk-5:chunk+5]) {
		t.Fatalf("range: %d, %q, %v", code, part, err)
	}
	code, _, cols, err := get("format=jsonl&columns=vehicle", "")
	if err != nil || code != http.StatusOK || !strings.HasPrefix(string(cols), `{"vehicle":`) || strings.Count(string(cols), "\n") != 14000 {
		t.Fatalf("projection: %d, %.80q, %v", code, cols, err)
	}

	// The cache is bounded: past its bound, building an export for a new
	// projection evicts the least recently served, and an evicted export
	// is rebuilt, the same bytes, when asked for again.
	dir := filepath.Join(net.Node.Home, "data", "ext", "data-gateway")
	old := gateway.MaxExportBytes
	gateway.MaxExportBytes = 1 // room for none: a build evicts every other
	t.Cleanup(func() { gateway.MaxExportBytes = old })
	roots := func() int {
		n := 0
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".root") {
				n++
			}
		}
		return n
	}
	if code, _, _, err = get("format=jsonl&columns=speed_kmh", ""); err != nil || code != http.StatusOK {
		t.Fatalf("another projection: %d %v", code, err)
	}
	if n := roots(); n != 1 {
		t.Fatalf("%d exports kept, want the newest alone under the bound", n)
	}
	if _, _, again, err = get("format=csv", ""); err != nil || !bytes.Equal(again, first) {
		t.Fatalf("an evicted export rebuilt: %d bytes, %v", len(again), err)
	}
	gateway.MaxExportBytes = old

	// Corrupt chunk 1 of the CSV export on disk.
	var export string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, _ := e.Info(); !strings.Contains(e.Name(), ".") && info.Size() == int64(len(first)) {
			export = filepath.Join(dir, e.Name())
		}
	}
	if export == "" {
		t.Fatalf("no export of %d bytes in %s", len(first), dir)
	}
	f, err := os.OpenFile(export, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("X"), int64(chunk+100))
	f.Close()
	if code, _, part, err = get("format=csv", fmt.Sprintf("bytes=0-%d", chunk-1)); err != nil || code != http.StatusPartialContent || !bytes.Equal(part, first[:chunk]) {
		t.Fatalf("an intact chunk after the corruption: %d, %v", code, err)
	}
	if code, _, part, err = get("format=csv", ""); err == nil && bytes.Equal(part, first[:len(part)]) && len(part) == len(first) {
		t.Fatalf("a corrupt export was served whole (HTTP %d)", code)
	}
}
