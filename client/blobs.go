package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/chain"
)

// BlobPut uploads content to the node under its IPFS CID (blob.CID: a raw
// block up to one chunk, the UnixFS root above), signed by key's account,
// which must be able to pay the storage fee when it registers the blob. It
// does not register the blob on chain; RegisterBlob does both (a node
// removes content no transaction registers after a grace period).
func (c *Client) BlobPut(ctx context.Context, key ed25519.PrivKey, content []byte) (string, error) {
	id, _, err := blob.CID(bytes.NewReader(content))
	if err != nil {
		return "", err
	}
	return id.String(), c.upload(ctx, c.http, key, id.String(), bytes.NewReader(content), int64(len(content)), 0)
}

// BlobPutRaw uploads content under its raw CID (chain.BlobCID: the
// sha2-256 of all of it, whatever its size), the name consensus gives
// content it computes, such as a compute job's output archive.
func (c *Client) BlobPutRaw(ctx context.Context, key ed25519.PrivKey, content []byte) (string, error) {
	id := chain.BlobCID(content)
	return id, c.upload(ctx, c.http, key, id, bytes.NewReader(content), int64(len(content)), 0)
}

// Progress is told how many more bytes a transfer moved.
type Progress func(n int)

// BlobPutFile uploads the file at path, streaming: one pass computes its
// IPFS CID, then the upload sends it, resuming where the node's copy ends
// if an earlier run or the connection broke (up to retries retries).
// Memory use does not grow with the file. progress (may be nil) sees both
// passes' bytes.
func (c *Client) BlobPutFile(ctx context.Context, key ed25519.PrivKey, path string, retries int, progress Progress) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return c.BlobPutSeeker(ctx, key, f, retries, progress)
}

// BlobPutSeeker is BlobPutFile for any content that can be read again
// from an offset.
func (c *Client) BlobPutSeeker(ctx context.Context, key ed25519.PrivKey, content io.ReadSeeker, retries int, progress Progress) (string, int64, error) {
	id, size, err := blob.CID(&progressReader{r: content, p: progress})
	if err != nil {
		return "", 0, fmt.Errorf("compute the CID: %w", err)
	}
	if size == 0 {
		return "", 0, errors.New("empty content: a blob has at least 1 byte")
	}
	addr := chain.AddressFromPubKey(key.PubKey().Bytes())
	for attempt := 0; ; attempt++ {
		st, err := c.BlobUploadStatus(ctx, id.String(), addr)
		if err == nil && st.Stored {
			return id.String(), size, nil // the node holds it: nothing to send
		}
		if err == nil {
			_, err = content.Seek(st.Offset, io.SeekStart)
		}
		if err == nil {
			err = c.upload(ctx, c.stream, key, id.String(), &progressReader{r: content, p: progress}, size, st.Offset)
		}
		if err == nil || attempt >= retries || ctx.Err() != nil || !resumable(err) {
			return id.String(), size, err
		}
	}
}

// resumable reports whether an upload error may go away on a retry from
// the node's offset: a broken connection or a cut-short body, not a
// refusal of the content or the signer.
func resumable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status == http.StatusBadRequest && bytes.Contains([]byte(apiErr.Msg), []byte("upload incomplete")) ||
			apiErr.Status == http.StatusConflict || apiErr.Status == http.StatusTooManyRequests
	}
	return true // transport errors
}

// BlobUploadStatus asks where an interrupted upload by uploader resumes.
func (c *Client) BlobUploadStatus(ctx context.Context, id string, uploader chain.Address) (api.BlobUpload, error) {
	var res api.BlobUpload
	err := c.Do(ctx, http.MethodGet, "/blobs/"+id+"/upload?uploader="+url.QueryEscape(uploader.String()), nil, "", &res)
	return res, err
}

// upload sends the bytes of id's content from offset on (body), signed,
// through hc: the client's own (whole-request timeout) for content in
// memory, the stream client (no timeout but ctx's) for files of any size.
func (c *Client) upload(ctx context.Context, hc *http.Client, key ed25519.PrivKey, id string, body io.Reader, size, offset int64) error {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	sig, err := key.Sign(chain.BlobUploadSignBytes(chainID, id, uint64(size), now))
	if err != nil {
		return fmt.Errorf("sign upload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/blobs", io.LimitReader(body, size-offset))
	if err != nil {
		return err
	}
	req.ContentLength = size - offset
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderBlobSigner, hex.EncodeToString(key.PubKey().Bytes()))
	req.Header.Set(api.HeaderBlobSignature, hex.EncodeToString(sig))
	req.Header.Set(api.HeaderBlobTime, strconv.FormatInt(now, 10))
	req.Header.Set(api.HeaderBlobCID, id)
	req.Header.Set(api.HeaderBlobSize, strconv.FormatInt(size, 10))
	req.Header.Set(api.HeaderBlobOffset, strconv.FormatInt(offset, 10))
	var res api.BlobPut
	if err := c.doWith(hc, req, &res); err != nil {
		return err
	}
	if res.CID != id {
		return fmt.Errorf("node answered CID %s for content whose CID is %s", res.CID, id)
	}
	return nil
}

// BlobGet downloads a blob and checks it against its CID.
func (c *Client) BlobGet(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	if err := c.Do(ctx, http.MethodGet, "/blobs/"+id, nil, "", &b); err != nil {
		return nil, err
	}
	parsed, err := chain.ParseBlobCID(id)
	if err != nil {
		return nil, err
	}
	if err := blob.Verify(parsed, b); err != nil {
		return nil, err
	}
	return b, nil
}

// BlobDownload streams blob id (or, with car, the CARv1 of its DAG) into w,
// checking as it goes that the bytes are id's content: memory stays at a
// chunk whatever the size. A mismatch is an error after the bytes were
// written; the caller discards them.
func (c *Client) BlobDownload(ctx context.Context, id string, car bool, w io.Writer, progress Progress) (int64, error) {
	parsed, err := chain.ParseBlobCID(id)
	if err != nil {
		return 0, err
	}
	path := "/blobs/" + id
	if car {
		path += "?format=car"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return 0, &APIError{Status: resp.StatusCode, Msg: fmt.Sprintf("GET %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(raw))}
	}
	body := io.TeeReader(&progressReader{r: resp.Body, p: progress}, w)
	if car {
		// A CAR's blocks are each checked by the reader that imports it
		// (blob.ImportCAR); here the download is only counted.
		return io.Copy(io.Discard, body)
	}
	got, n, err := blob.CIDAs(parsed, body)
	if err != nil {
		return n, fmt.Errorf("download %s: %w", id, err)
	}
	if got != parsed {
		return n, fmt.Errorf("download %s: the bytes received are %s", id, got)
	}
	return n, nil
}

// RegisterBlob uploads content and records it on chain, returning the CID.
func (c *Client) RegisterBlob(ctx context.Context, key ed25519.PrivKey, content []byte) (string, error) {
	id, err := c.BlobPut(ctx, key, content)
	if err != nil {
		return "", err
	}
	return id, c.registerBlob(ctx, key, id, uint64(len(content)))
}

// RegisterBlobFile is RegisterBlob for a file on disk, streamed and
// resumable (BlobPutFile).
func (c *Client) RegisterBlobFile(ctx context.Context, key ed25519.PrivKey, path string, progress Progress) (string, int64, error) {
	id, size, err := c.BlobPutFile(ctx, key, path, 5, progress)
	if err != nil {
		return "", 0, err
	}
	return id, size, c.registerBlob(ctx, key, id, uint64(size))
}

func (c *Client) registerBlob(ctx context.Context, key ed25519.PrivKey, id string, size uint64) error {
	if _, err := c.Submit(ctx, key, &chain.MsgRegisterBlob{CID: id, Size: size}, Options{}); err != nil {
		return fmt.Errorf("register blob %s: %w", id, err)
	}
	return nil
}

type progressReader struct {
	r io.Reader
	p Progress
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if p.p != nil && n > 0 {
		p.p(n)
	}
	return n, err
}
