package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/node"
)

// blobNode starts a node whose params cap each account at quota bytes.
func blobNode(t *testing.T, quota uint64) (*node.Node, *client.Client) {
	t.Helper()
	p := chain.DefaultParams()
	p.BlobQuotaBytes = quota
	n, err := node.StartFresh(t.TempDir(), node.InitOptions{ChainID: "tenun-test", DevAccounts: 2, BasePort: freePort(t), BlockTime: 50 * time.Millisecond, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n, client.New(n.APIAddr())
}

func freePort(t *testing.T) int {
	p, err := node.FreeBasePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signedUpload builds a POST /blobs for content signed by key at time at.
func signedUpload(t *testing.T, n *node.Node, key ed25519.PrivKey, content []byte, at time.Time) *http.Request {
	t.Helper()
	cid := chain.BlobCID(content)
	sig, err := key.Sign(chain.BlobUploadSignBytes("tenun-test", cid, uint64(len(content)), at.Unix()))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.APIAddr()+"/blobs", bytes.NewReader(content))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderBlobSigner, hex.EncodeToString(key.PubKey().Bytes()))
	req.Header.Set(api.HeaderBlobSignature, hex.EncodeToString(sig))
	req.Header.Set(api.HeaderBlobTime, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(api.HeaderBlobCID, cid)
	return req
}

func status(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func blobFiles(t *testing.T, n *node.Node) (count int, bytes int64) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(n.Home, "data", "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !strings.HasPrefix(e.Name(), ".") {
			count++
			bytes += info.Size()
		}
	}
	return
}

// Before: POST /blobs took any body from anyone, signed or not, paid or
// not, from any origin. Now each of these is refused and stores nothing.
func TestBlobUploadRefusals(t *testing.T) {
	n, c := blobNode(t, 1<<20)
	alice := keys.DevPrivKey(0)
	content := []byte("refused unless signed and paid")
	post := func(mod func(*http.Request)) (int, string) {
		req := signedUpload(t, n, alice, content, time.Now())
		mod(req)
		return status(t, req)
	}
	cases := []struct {
		name string
		mod  func(*http.Request)
		want int
	}{
		{"unsigned", func(r *http.Request) {
			r.Header.Del(api.HeaderBlobSigner)
			r.Header.Del(api.HeaderBlobSignature)
		}, http.StatusUnauthorized},
		{"signature by another key", func(r *http.Request) {
			r.Header.Set(api.HeaderBlobSigner, hex.EncodeToString(keys.DevPrivKey(1).PubKey().Bytes()))
		}, http.StatusUnauthorized},
		{"other CID signed", func(r *http.Request) { r.Header.Set(api.HeaderBlobCID, chain.BlobCID([]byte("x"))) }, http.StatusUnauthorized},
		{"stale time", func(r *http.Request) {
			*r = *signedUpload(t, n, alice, content, time.Now().Add(-time.Hour))
		}, http.StatusUnauthorized},
		{"cross-origin text/plain", func(r *http.Request) {
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Set("Origin", "http://evil.example")
		}, http.StatusForbidden},
		{"text/plain", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, http.StatusUnsupportedMediaType},
		{"cross-origin octet-stream", func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		{"unpaid: an account with no balance", func(r *http.Request) {
			*r = *signedUpload(t, n, ed25519.GenPrivKey(), content, time.Now())
		}, http.StatusPaymentRequired},
	}
	for _, tc := range cases {
		if got, body := post(tc.mod); got != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, got, body, tc.want)
		}
	}
	if cnt, _ := blobFiles(t, n); cnt != 0 {
		t.Fatalf("refused uploads left %d blobs", cnt)
	}
	// The client's signed, paid upload works, and registering charges the
	// storage fee.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before, _ := c.Balance(ctx, chain.AddressFromPubKey(alice.PubKey().Bytes()))
	cid, err := c.RegisterBlob(ctx, alice, content)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := c.Balance(ctx, chain.AddressFromPubKey(alice.PubKey().Bytes()))
	if want := before - chain.DefaultParams().MinFee - uint64(len(content))*chain.DefaultParams().StorageFeePerByte; after != want {
		t.Fatalf("alice has %d after registering %d bytes, want %d", after, len(content), want)
	}
	if got, err := c.BlobGet(ctx, cid); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("get: %q %v", got, err)
	}
	// Content that does not hash to the signed CID is refused.
	req := signedUpload(t, n, alice, []byte("one content"), time.Now())
	req.Body = io.NopCloser(strings.NewReader("two content"))
	if got, body := status(t, req); got != http.StatusBadRequest {
		t.Fatalf("mismatched content: %d %s", got, body)
	}
}

// A disk-fill attempt (unregistered uploads, one after another) stops at
// the account's quota; what nobody registers is removed after the grace
// period, which frees the quota again.
func TestBlobQuotaStopsDiskFill(t *testing.T) {
	oldGrace, oldEvery := node.BlobGrace, node.BlobSweepEvery
	node.BlobGrace, node.BlobSweepEvery = 1500*time.Millisecond, 100*time.Millisecond
	t.Cleanup(func() { node.BlobGrace, node.BlobSweepEvery = oldGrace, oldEvery })
	const quota = 64 << 10
	n, c := blobNode(t, quota)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob := keys.DevPrivKey(1)
	refused := 0
	for i := 0; i < 20; i++ {
		_, err := c.BlobPut(ctx, bob, bytes.Repeat([]byte{byte(i)}, 16<<10))
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestEntityTooLarge {
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	cnt, size := blobFiles(t, n)
	t.Logf("disk fill: 20 uploads of 16 KiB, %d refused, %d files (%d bytes) on disk", refused, cnt, size)
	if refused != 16 || size > quota {
		t.Fatalf("%d refused, %d bytes on disk: the quota of %d did not hold", refused, size, quota)
	}
	// A registered blob stays; the unregistered ones go after the grace.
	kept, err := c.RegisterBlob(ctx, keys.DevPrivKey(0), []byte("registered"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cnt, _ := blobFiles(t, n); cnt == 1 {
			break
		}
		if time.Now().After(deadline) {
			cnt, _ := blobFiles(t, n)
			t.Fatalf("%d blobs left after the grace period, want only the registered one", cnt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.BlobGet(ctx, kept); err != nil {
		t.Fatalf("registered blob removed: %v", err)
	}
	if _, err := c.BlobPut(ctx, bob, bytes.Repeat([]byte{99}, 16<<10)); err != nil {
		t.Fatalf("quota not freed after the sweep: %v", err)
	}
}

// Uploads in progress are bounded: slow uploads holding every slot make the
// next one wait its turn (429) instead of piling up.
func TestBlobUploadsBounded(t *testing.T) {
	n, _ := blobNode(t, 1<<20)
	alice := keys.DevPrivKey(0)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < node.MaxConcurrentUploads; i++ {
		content := bytes.Repeat([]byte{byte(i)}, 1000)
		req := signedUpload(t, n, alice, content, time.Now())
		conn, err := net.Dial("tcp", n.APIAddr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
		fmt.Fprintf(conn, "POST /blobs HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n", n.APIAddr())
		for _, h := range []string{"Content-Type", api.HeaderBlobSigner, api.HeaderBlobSignature, api.HeaderBlobTime, api.HeaderBlobCID} {
			fmt.Fprintf(conn, "%s: %s\r\n", h, req.Header.Get(h))
		}
		fmt.Fprintf(conn, "\r\n%s", content[:10]) // and then nothing more
	}
	time.Sleep(200 * time.Millisecond)
	if got, body := status(t, signedUpload(t, n, alice, []byte("one more"), time.Now())); got != http.StatusTooManyRequests {
		t.Fatalf("upload beyond the limit: %d %s", got, body)
	}
	for _, c := range held {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	if got, body := status(t, signedUpload(t, n, alice, []byte("one more"), time.Now())); got != http.StatusOK {
		t.Fatalf("upload after the slots freed: %d %s", got, body)
	}
}

// Downloads resume: a Range request gets exactly the bytes asked for, with
// 206, and the CID as the ETag.
func TestBlobDownloadRanges(t *testing.T) {
	n, c := blobNode(t, 0)
	content := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	cid, err := c.RegisterBlob(context.Background(), keys.DevPrivKey(0), content)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.APIAddr()+"/blobs/"+cid, nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, content[1000:2000]) || resp.Header.Get("ETag") != `"`+cid+`"` {
		t.Fatalf("range: %d, %d bytes, etag %q", resp.StatusCode, len(got), resp.Header.Get("ETag"))
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-", len(content)+5))
	if code, _ := status(t, req); code != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("a range past the end: %d", code)
	}
}
