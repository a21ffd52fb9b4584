package node_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/node"
)

// generated is size bytes of a fixed pattern that does not repeat at the
// chunk size, readable from any offset without holding it.
type generated struct {
	size, pos int64
	period    []byte
}

func newGenerated(size int64) *generated {
	p := make([]byte, 1<<20+7) // a period prime to 256 KiB: no two leaves alike for 1 GiB
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return &generated{size: size, period: p}
}

func (g *generated) Read(b []byte) (int, error) {
	if g.pos >= g.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), g.size-g.pos)]
	n := 0
	for n < len(b) {
		off := int((g.pos + int64(n)) % int64(len(g.period)))
		n += copy(b[n:], g.period[off:])
	}
	g.pos += int64(n)
	return n, nil
}

func (g *generated) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart || off < 0 {
		return g.pos, errors.New("generated: seek from the start only")
	}
	g.pos = off
	return off, nil
}

// peakRSS resets (reset) or reads the process's peak resident memory, in
// bytes, from /proc (Linux).
func peakRSS(t *testing.T, reset bool) int64 {
	t.Helper()
	if reset {
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Skipf("this test measures memory through /proc/self (Linux): %v", err)
		}
		return 0
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// A 2 GiB dataset goes up to a node and comes back down, streamed and
// checked chunk by chunk both ways, while the whole process (node and
// client together) stays under 200 MB of resident memory.
func TestTwoGigabyteBlobBoundedMemory(t *testing.T) {
	const size = 2 << 30
	p := chain.DefaultParams()
	p.MaxBlobBytes, p.BlobQuotaBytes, p.StorageFeePerByte = 4<<30, 0, 0
	n, err := node.StartFresh(t.TempDir(), node.InitOptions{ChainID: "tenun-test", DevAccounts: 1, BasePort: freePort(t), BlockTime: 100 * time.Millisecond, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	c := client.New(n.APIAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	peakRSS(t, true)
	start := time.Now()
	id, got, err := c.BlobPutSeeker(ctx, keys.DevPrivKey(0), newGenerated(size), 0, nil)
	if err != nil || got != size || !strings.HasPrefix(id, "bafybei") {
		t.Fatalf("upload: %s %d %v (want a UnixFS root)", id, got, err)
	}
	up := time.Since(start)
	start = time.Now()
	down, err := c.BlobDownload(ctx, id, false, io.Discard, nil)
	if err != nil || down != size {
		t.Fatalf("download: %d bytes, %v", down, err)
	}
	peak := peakRSS(t, false)
	t.Logf("2 GiB: upload (hash, then send) %v, download (checked) %v; peak resident memory %.1f MB",
		up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), float64(peak)/1e6)
	if peak > 200e6 {
		t.Fatalf("peak resident memory %.1f MB during a 2 GiB transfer, want under 200 MB", float64(peak)/1e6)
	}
}
