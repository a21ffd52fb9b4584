// Package client talks to a Tenun node's HTTP API. The CLI, the market
// agents (annotators, providers, contributors, miners) and the tests all use
// it, so there is one way to build, sign and submit a transaction.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
)

// Client is a connection to one node's API.
type Client struct {
	base string
	http *http.Client
	// stream carries blob transfers: no whole-request timeout (a 2 GB
	// file takes as long as it takes), only the caller's context.
	stream *http.Client

	mu      sync.Mutex
	chainID string
	minFee  *uint64                  // the chain's params.MinFee, read once
	seq     map[chain.Address]uint64 // next sequence per local signer
}

// New returns a client for the API at addr ("127.0.0.1:26658" or a URL).
func New(addr string) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return &Client{base: strings.TrimRight(addr, "/"), http: &http.Client{Timeout: 90 * time.Second}, stream: &http.Client{}, seq: map[chain.Address]uint64{}}
}

// APIError is an error answered by the api.
type APIError struct {
	Status int
	Code   uint32 `json:"code"`
	Msg    string `json:"error"`
}

func (e *APIError) Error() string { return e.Msg }

// Base is the API's base URL.
func (c *Client) Base() string { return c.base }

// Do sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.DoRequest(req, out)
}

// DoRequest sends a prepared request (extra headers, say) and decodes a
// JSON answer into out (when not nil) as Do does.
func (c *Client) DoRequest(req *http.Request, out any) error { return c.doWith(c.http, req, out) }

func (c *Client) doWith(hc *http.Client, req *http.Request, out any) error {
	method, path := req.Method, req.URL.Path
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	_, wantsTx := out.(*api.TxResponse)
	if resp.StatusCode >= 300 && !(wantsTx && txRefusal(resp.StatusCode)) {
		e := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Msg == "" {
			e.Msg = fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if b, ok := out.(*[]byte); ok {
		*b = raw
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Get fetches path and decodes the JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, "", out)
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.Get(ctx, "/status", &s)
	return s, err
}

// ChainID returns (and caches) the chain id.
func (c *Client) ChainID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.chainID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	s, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.chainID = s.ChainID
	c.mu.Unlock()
	return s.ChainID, nil
}

// Account returns an account's balance, next sequence and stake.
func (c *Client) Account(ctx context.Context, a chain.Address) (chain.AccountInfo, error) {
	var info chain.AccountInfo
	err := c.Get(ctx, "/accounts/"+a.String(), &info)
	return info, err
}

// Balance returns an account's balance in utnn.
func (c *Client) Balance(ctx context.Context, a chain.Address) (uint64, error) {
	var b api.Balance
	err := c.Get(ctx, "/accounts/"+a.String()+"/balance", &b)
	return b.Balance, err
}

// Block returns a block by height (0 for the latest).
// BlockTime is the mean time between the chain's last 20 blocks (block 1
// is left out: its time is the genesis time).
func (c *Client) BlockTime(ctx context.Context) (time.Duration, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	if st.Height < 3 {
		return 0, fmt.Errorf("the chain has only %d blocks; give the duration in blocks", st.Height)
	}
	from := max(st.Height-20, 2)
	b0, err := c.Block(ctx, from)
	if err != nil {
		return 0, err
	}
	b1, err := c.Block(ctx, st.Height)
	if err != nil {
		return 0, err
	}
	t0, err0 := time.Parse(time.RFC3339Nano, b0.Time)
	t1, err1 := time.Parse(time.RFC3339Nano, b1.Time)
	if err0 != nil || err1 != nil || !t1.After(t0) {
		return 0, fmt.Errorf("block times %q and %q do not give a block time", b0.Time, b1.Time)
	}
	return t1.Sub(t0) / time.Duration(st.Height-from), nil
}

func (c *Client) Block(ctx context.Context, height int64) (api.BlockInfo, error) {
	var b api.BlockInfo
	h := "latest"
	if height > 0 {
		h = fmt.Sprint(height)
	}
	err := c.Get(ctx, "/blocks/"+h, &b)
	return b, err
}

// Tx returns a committed transaction by hex hash.
func (c *Client) Tx(ctx context.Context, hash string) (api.TxInfo, error) {
	var t api.TxInfo
	err := c.Get(ctx, "/tx/"+hash, &t)
	return t, err
}

// Query reads /query/<domain>/<path> into out.
func (c *Client) Query(ctx context.Context, domain, path string, params url.Values, out any) error {
	p := "/query/" + domain + "/" + path
	if len(params) > 0 {
		p += "?" + params.Encode()
	}
	return c.Get(ctx, p, out)
}

// BroadcastRaw submits signed transaction bytes; with wait it returns once
// the transaction is in a block.
func (c *Client) BroadcastRaw(ctx context.Context, tx []byte, wait bool) (api.TxResponse, error) {
	path := "/tx"
	if wait {
		path += "?wait=commit"
	}
	var res api.TxResponse
	err := c.Do(ctx, http.MethodPost, path, bytes.NewReader(tx), "application/octet-stream", &res)
	return res, err
}

// txRefusal reports the statuses with which the node refuses a
// transaction, answering a TxResponse with the chain's code and reason:
// 409 a duplicate, 413 too large, 422 refused by the rules.
func txRefusal(status int) bool {
	return status == http.StatusConflict || status == http.StatusRequestEntityTooLarge || status == http.StatusUnprocessableEntity
}

// TxError is a transaction the node or the chain refused (a duplicate, too
// large, or against the rules): Res.Code is the chain's error code and
// Res.Log the reason. It is not a network failure; resending the same
// transaction gets the same answer.
type TxError struct{ Res api.TxResponse }

// IsRefusal reports whether err is an answer from the node refusing the
// request (a TxError, or an APIError with a 4xx status), as opposed to a
// network failure or a node that is not ready, which may be retried.
func IsRefusal(err error) bool {
	var te *TxError
	if errors.As(err, &te) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests
}

func (e *TxError) Error() string {
	return fmt.Sprintf("transaction rejected (code %d): %s", e.Res.Code, e.Res.Log)
}

// Options tune Submit.
type Options struct {
	Fee    uint64 // utnn; 0 means the chain's minimum plus the message's extra cost
	Memo   string
	NoWait bool // return after the mempool accepts it, not after the block
}

// Submit signs msg with key, using the next sequence, and broadcasts it.
// Sequences are tracked locally so one key can submit many transactions
// before they are committed; on a sequence error the cache is refreshed.
func (c *Client) Submit(ctx context.Context, key ed25519.PrivKey, msg chain.Msg, opt Options) (api.TxResponse, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return api.TxResponse{}, err
	}
	addr := chain.AddressFromPubKey(key.PubKey().Bytes())
	fee := opt.Fee
	if fee == 0 {
		if fee, err = c.MinFee(ctx, msg); err != nil {
			return api.TxResponse{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		seq, err := c.nextSequence(ctx, addr)
		if err != nil {
			return api.TxResponse{}, err
		}
		tx, err := chain.SignTx(key, chainID, seq, fee, msg, opt.Memo)
		if err != nil {
			return api.TxResponse{}, err
		}
		res, err := c.BroadcastRaw(ctx, tx, !opt.NoWait)
		if err != nil {
			c.forgetSequence(addr)
			return res, err
		}
		if res.Code == chain.ErrSequence.Code && attempt < 3 {
			c.forgetSequence(addr)
			continue
		}
		if res.Code != 0 {
			// A transaction rejected in CheckTx did not use its sequence.
			c.forgetSequence(addr)
			return res, &TxError{Res: res}
		}
		return res, nil
	}
}

// Params returns the chain's parameters (GET /query/core/params).
func (c *Client) Params(ctx context.Context) (chain.Params, error) {
	var p chain.Params
	err := c.Query(ctx, "core", "params", nil, &p)
	return p, err
}

// MinFee is the least fee the chain takes for msg: its params' MinFee
// (read once per client) plus the message's extra cost.
func (c *Client) MinFee(ctx context.Context, msg chain.Msg) (uint64, error) {
	c.mu.Lock()
	cached := c.minFee
	c.mu.Unlock()
	if cached == nil {
		p, err := c.Params(ctx)
		if err != nil {
			return 0, fmt.Errorf("read the chain's minimum fee: %w", err)
		}
		c.mu.Lock()
		c.minFee = &p.MinFee
		cached = c.minFee
		c.mu.Unlock()
	}
	fee := *cached
	if cst, ok := msg.(chain.Coster); ok {
		var err error
		if fee, err = chain.AddU64(fee, cst.ExtraFee()); err != nil {
			return 0, fmt.Errorf("fee of %s: %w", msg.Type(), err)
		}
	}
	return fee, nil
}

func (c *Client) nextSequence(ctx context.Context, a chain.Address) (uint64, error) {
	c.mu.Lock()
	s, ok := c.seq[a]
	if ok {
		c.seq[a] = s + 1
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	info, err := c.Account(ctx, a)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.seq[a]; ok { // another goroutine got there first
		c.seq[a] = s + 1
		return s, nil
	}
	c.seq[a] = info.Sequence + 1
	return info.Sequence, nil
}

func (c *Client) forgetSequence(a chain.Address) {
	c.mu.Lock()
	delete(c.seq, a)
	c.mu.Unlock()
}

// WaitForHeight polls until the chain reaches height h.
func (c *Client) WaitForHeight(ctx context.Context, h int64) error {
	for {
		s, err := c.Status(ctx)
		if err == nil && s.Height >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for height %d: %w", h, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
