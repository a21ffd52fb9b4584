package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client/keys"
)

// pattern is n bytes that differ from chunk to chunk (so no two leaves
// share a CID), the same on every run.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/4093)
	}
	return b
}

func getRange(t *testing.T, addr, id, rng string) (int, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/blobs/"+id, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// A file over one chunk is stored under the CID `ipfs add --cid-version 1
// --raw-leaves` gives it, served whole or by ranges, and as a CAR; a chunk
// corrupted on the node's disk fails exactly the reads that touch it.
func TestUnixFSBlobChunkChecked(t *testing.T) {
	n, c := blobNode(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chunk := int(blob.ChunkSize)
	content := pattern(3*chunk + 1) // four leaves, the last of one byte
	want, _, err := blob.CID(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if want.Type() != cid.DagProtobuf {
		t.Fatalf("a %d byte file is %s, want a dag-pb root", len(content), want)
	}
	id, err := c.RegisterBlob(ctx, keys.DevPrivKey(0), content)
	if err != nil {
		t.Fatal(err)
	}
	if id != want.String() {
		t.Fatalf("stored under %s, IPFS names it %s", id, want)
	}
	got, err := c.BlobGet(ctx, id)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	// A range across the first chunk boundary.
	code, part, err := getRange(t, n.APIAddr(), id, fmt.Sprintf("bytes=%d-%d", chunk-10, chunk+9))
	if err != nil || code != http.StatusPartialContent || !bytes.Equal(part, content[chunk-10:chunk+10]) {
		t.Fatalf("range: %d, %d bytes, %v", code, len(part), err)
	}
	// The CAR holds the same DAG: importing it gives the bytes back.
	var car bytes.Buffer
	if _, err := c.BlobDownload(ctx, id, true, &car, nil); err != nil {
		t.Fatal(err)
	}
	var back bytes.Buffer
	root, size, err := blob.ImportCAR(ctx, bytes.NewReader(car.Bytes()), &back)
	if err != nil || root != want || size != int64(len(content)) || !bytes.Equal(back.Bytes(), content) {
		t.Fatalf("CAR from the node: root %s, %d bytes, %v", root, size, err)
	}

	// Flip one byte of chunk 2 on disk.
	path := filepath.Join(n.Home, "data", "blobs", id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	f.ReadAt(one[:], int64(2*chunk+5))
	one[0] ^= 0xff
	f.WriteAt(one[:], int64(2*chunk+5))
	f.Close()

	code, part, err = getRange(t, n.APIAddr(), id, fmt.Sprintf("bytes=0-%d", 2*chunk-1))
	if err != nil || code != http.StatusPartialContent || !bytes.Equal(part, content[:2*chunk]) {
		t.Fatalf("a range of intact chunks: %d, %d bytes, %v", code, len(part), err)
	}
	code, part, err = getRange(t, n.APIAddr(), id, fmt.Sprintf("bytes=%d-%d", 2*chunk, 2*chunk+9))
	if err == nil && code < 300 {
		t.Fatalf("a range of the corrupt chunk was served: %d, %d bytes", code, len(part))
	}
	if _, err := c.BlobGet(ctx, id); err == nil {
		t.Fatal("a blob with a corrupt chunk was served whole")
	}
	var sink bytes.Buffer
	if _, err := c.BlobDownload(ctx, id, false, &sink, nil); err == nil {
		t.Fatal("a streamed download of a corrupt blob passed its check")
	}
}

// An upload cut off part way resumes from where the node's copy ends:
// the client asks for the offset and sends only the rest.
func TestBlobUploadResumes(t *testing.T) {
	n, c := blobNode(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	alice := keys.DevPrivKey(0)
	content := pattern(5*int(blob.ChunkSize) + 12345)
	want, _, _ := blob.CID(bytes.NewReader(content))
	id := want.String()
	size := int64(len(content))

	// A first attempt whose body breaks after 2.5 chunks.
	cut := int64(5 * blob.ChunkSize / 2)
	now := time.Now().Unix()
	sig, err := alice.Sign(chain.BlobUploadSignBytes("tenun-test", id, uint64(size), now))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+n.APIAddr()+"/blobs",
		io.MultiReader(bytes.NewReader(content[:cut]), failAfter{}))
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderBlobSigner, hex.EncodeToString(alice.PubKey().Bytes()))
	req.Header.Set(api.HeaderBlobSignature, hex.EncodeToString(sig))
	req.Header.Set(api.HeaderBlobTime, strconv.FormatInt(now, 10))
	req.Header.Set(api.HeaderBlobCID, id)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a broken body was answered %d", resp.StatusCode)
	}
	addr := chain.AddressFromPubKey(alice.PubKey().Bytes())
	var st api.BlobUpload
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err = c.BlobUploadStatus(ctx, id, addr); err != nil {
			t.Fatal(err)
		}
		if st.Offset == cut || time.Now().After(deadline) {
			break
		}
	}
	if st.Stored || st.Offset != cut {
		t.Fatalf("after the break the node holds %+v, want offset %d", st, cut)
	}
	// A resumed body that does not start at the node's offset is refused.
	if code, body := status(t, resumeRequest(t, n.APIAddr(), content, id, size, cut+1)); code != http.StatusConflict {
		t.Fatalf("a resume at the wrong offset: %d %s", code, body)
	}
	// The client resumes: it sends only the rest.
	var sent int64
	got, gotSize, err := c.BlobPutSeeker(ctx, alice, bytes.NewReader(content), 2, func(k int) { sent += int64(k) })
	if err != nil || got != id || gotSize != size {
		t.Fatalf("resume: %s %d %v", got, gotSize, err)
	}
	if upload := sent - size; upload != size-cut {
		t.Fatalf("the resume sent %d bytes, want the %d after the offset", upload, size-cut)
	}
	back, err := c.BlobGet(ctx, id)
	if err != nil || !bytes.Equal(back, content) {
		t.Fatalf("after the resume: %d bytes, %v", len(back), err)
	}
	if st, _ := c.BlobUploadStatus(ctx, id, addr); !st.Stored {
		t.Fatalf("status after the resume: %+v", st)
	}
}

// resumeRequest signs the tail of content from offset on.
func resumeRequest(t *testing.T, addr string, content []byte, id string, size, offset int64) *http.Request {
	t.Helper()
	alice := keys.DevPrivKey(0)
	now := time.Now().Unix()
	sig, err := alice.Sign(chain.BlobUploadSignBytes("tenun-test", id, uint64(size), now))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/blobs", bytes.NewReader(content[offset:]))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderBlobSigner, hex.EncodeToString(alice.PubKey().Bytes()))
	req.Header.Set(api.HeaderBlobSignature, hex.EncodeToString(sig))
	req.Header.Set(api.HeaderBlobTime, strconv.FormatInt(now, 10))
	req.Header.Set(api.HeaderBlobCID, id)
	req.Header.Set(api.HeaderBlobSize, strconv.FormatInt(size, 10))
	req.Header.Set(api.HeaderBlobOffset, strconv.FormatInt(offset, 10))
	return req
}

type failAfter struct{}

func (failAfter) Read([]byte) (int, error) { return 0, errors.New("the connection broke") }
