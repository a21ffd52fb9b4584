package node

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/mempool"
	"github.com/ipfs/go-cid"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/internal/httpguard"
)

// The API's request and response types are in package api, shared with
// the client. These aliases keep older callers compiling.
type (
	// Deprecated: use api.TxResponse.
	TxResponse = api.TxResponse
	// Deprecated: use api.TxInfo.
	TxInfo = api.TxInfo
	// Deprecated: use api.BlockInfo.
	BlockInfo = api.BlockInfo
	// Deprecated: use api.Status.
	Status = api.Status
)

// ChainID, Snapshot and Blob make the node an ext.Host for the markets'
// HTTP extensions (node/markets.go).
func (n *Node) ChainID() string { return n.Config.ChainID }

// Snapshot is the last committed state.
func (n *Node) Snapshot() (store.KV, int64, error) { return n.ABCI.Snapshot() }

// Blob reads a blob from the node's store.
func (n *Node) Blob(cid string) ([]byte, error) { return n.Blobs.Get(cid) }

// Dir is data/ext/<name> under the node's home.
func (n *Node) Dir(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return "", fmt.Errorf("extension directory %q: want a plain name", name)
	}
	d := filepath.Join(n.Home, "data", "ext", name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("extension directory: %w", err)
	}
	return d, nil
}

func (n *Node) startAPI() error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", n.handleReady)
	mux.HandleFunc("GET /status", n.handleStatus)
	mux.HandleFunc("POST /tx", n.handleSubmit)
	mux.HandleFunc("POST /simulate", n.handleSimulate)
	mux.HandleFunc("GET /tx/{hash}", n.handleTx)
	mux.HandleFunc("GET /accounts/{addr}", n.handleAccount)
	mux.HandleFunc("GET /accounts/{addr}/balance", n.handleBalance)
	mux.HandleFunc("GET /blocks/{height}", n.handleBlock)
	mux.HandleFunc("POST /blobs", n.handleBlobPut)
	mux.HandleFunc("GET /blobs/{cid}", n.handleBlobGet)
	mux.HandleFunc("GET /blobs/{cid}/upload", n.handleBlobUpload)
	mux.HandleFunc("GET /query/{domain}/{path...}", n.handleQuery)
	for _, x := range HTTPExtensions() {
		x.RegisterHTTP(mux, n)
	}
	if err := n.startServices(mux); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.Config.APIAddr)
	if err != nil {
		return fmt.Errorf("API listen on %s: %w", n.Config.APIAddr, err)
	}
	n.apiLn = ln
	var h http.Handler = mux
	if n.Metrics != nil {
		h = n.Metrics.Instrument(mux)
	}
	n.api = httpguard.Serve(ln, h, APILimits, func(err error) { n.logger().Error("API server stopped", "err", err) })
	return nil
}

// APILimits are the timeouts and caps of the node's HTTP API (the market
// gateways included); tests shorten them. A blob upload's body is bounded
// by the size it declares (at most the chain's MaxBlobBytes) instead of
// MaxBody, and blob transfers by BlobIdleTimeout instead of the
// whole-request timeouts, so a 2 GB dataset moves at disk speed.
var APILimits = func() httpguard.Limits {
	l := httpguard.Default
	l.Unbounded = isBlobTransfer
	return l
}()

func isBlobTransfer(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/blobs"
}

// handleReady is /readyz: 200 once the node has committed a block and is
// not catching up, 503 before.
func (n *Node) handleReady(w http.ResponseWriter, _ *http.Request) {
	if !n.Ready() {
		WriteError(w, http.StatusServiceUnavailable, chain.Wrap(chain.ErrInternal, "not ready: no committed block yet, or catching up"))
		return
	}
	WriteJSON(w, map[string]any{"status": "ready", "height": n.ABCI.committed.Load()})
}

// WriteJSON writes v with status 200.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// WriteError writes an error as JSON with a status derived from its code.
func WriteError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Error{Error: err.Error(), Code: chain.CodeOf(err)})
}

func statusFor(err error) int {
	switch chain.CodeOf(err) {
	case chain.ErrNotFound.Code:
		return http.StatusNotFound
	case chain.ErrUnauthorized.Code:
		return http.StatusForbidden
	case chain.ErrInternal.Code:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (n *Node) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := n.RPC.Status(r.Context())
	if err != nil {
		WriteError(w, http.StatusInternalServerError, err)
		return
	}
	vals, _ := n.RPC.Validators(r.Context(), nil, nil, nil)
	cnt := 0
	if vals != nil {
		cnt = vals.Total
	}
	WriteJSON(w, api.Status{
		ChainID:      n.Config.ChainID,
		Height:       st.SyncInfo.LatestBlockHeight,
		AppHash:      strings.ToUpper(hex.EncodeToString(st.SyncInfo.LatestAppHash)),
		APIAddr:      n.APIAddr(),
		RPCAddr:      n.Comet.Config().RPC.ListenAddress,
		CatchingUp:   st.SyncInfo.CatchingUp,
		NodeID:       string(st.NodeInfo.DefaultNodeID),
		ValidatorCnt: cnt,
	})
}

// maxSubmitBody bounds a submitted transaction's HTTP body (base64 JSON of
// the largest transaction the chain accepts).
const maxSubmitBody = 4 << 20

// handleSubmit takes a transaction as raw bytes (application/octet-stream)
// or as {"tx": "<base64>"}; ?wait=commit waits until it is in a block.
func (n *Node) handleSubmit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSubmitBody+1))
	if err != nil || len(body) > maxSubmitBody {
		writeTxResponse(w, http.StatusRequestEntityTooLarge, api.TxResponse{Code: chain.ErrTxTooLarge.Code,
			Log: chain.Wrap(chain.ErrTxTooLarge, "request body over %d bytes", maxSubmitBody).Error()})
		return
	}
	txBytes := body
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req api.SubmitRequest
		if err := json.Unmarshal(body, &req); err != nil {
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrDecode, "request: %v", err))
			return
		}
		if txBytes, err = base64.StdEncoding.DecodeString(req.Tx); err != nil {
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrDecode, "tx is not base64: %v", err))
			return
		}
	}
	res, err := n.Submit(r.Context(), txBytes, r.URL.Query().Get("wait") == "commit")
	if err != nil {
		status, refusal := n.submitFailure(err)
		if refusal != nil {
			res.Code, res.Log = refusal.Code, err.Error()
			writeTxResponse(w, status, res)
			return
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		WriteError(w, status, err)
		return
	}
	switch {
	case res.Code == chain.ErrTxTooLarge.Code:
		writeTxResponse(w, http.StatusRequestEntityTooLarge, res)
	case res.Code != 0:
		writeTxResponse(w, http.StatusUnprocessableEntity, res) // refused by the rules
	default:
		WriteJSON(w, res)
	}
}

func writeTxResponse(w http.ResponseWriter, status int, res api.TxResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(res)
}

// submitFailure maps a failed hand-over to the mempool to an HTTP status
// that says what happened: the mempool's refusals (a duplicate, a
// transaction too large) are refusals with a chain code, answered as a
// TxResponse like the rules' refusals; 503 is only for a node not ready.
func (n *Node) submitFailure(err error) (int, *chain.Error) {
	var tooLarge mempool.ErrTxTooLarge
	var full mempool.ErrMempoolIsFull
	switch {
	case errors.Is(err, mempool.ErrTxInCache):
		return http.StatusConflict, chain.ErrConflict
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, chain.ErrTxTooLarge
	case errors.As(err, &full):
		return http.StatusTooManyRequests, nil
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, nil
	case !n.Ready():
		return http.StatusServiceUnavailable, nil
	}
	return http.StatusInternalServerError, nil
}

// Ready reports whether the node can take transactions and answer from
// current state: it has committed a block and is not catching up.
func (n *Node) Ready() bool {
	if n.ABCI.committed.Load() < 1 || n.Comet == nil || !n.Comet.IsRunning() {
		return false
	}
	st, err := n.RPC.Status(context.Background())
	return err == nil && !st.SyncInfo.CatchingUp
}

// Submit hands a transaction to the mempool and, with wait, returns once it
// is committed (or rejected in the block).
func (n *Node) Submit(ctx context.Context, txBytes []byte, wait bool) (api.TxResponse, error) {
	hash := chain.TxHash(txBytes)
	out := api.TxResponse{Hash: strings.ToUpper(hex.EncodeToString(hash[:]))}
	res, err := n.RPC.BroadcastTxSync(ctx, txBytes)
	if err != nil {
		return out, fmt.Errorf("broadcast: %w", err)
	}
	out.Code, out.Log = res.Code, res.Log
	if res.Code != 0 || !wait {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		info, err := n.TxInfo(ctx, hash[:])
		if err == nil {
			out.Code, out.Log, out.Height, out.Events = info.Code, info.Log, info.Height, info.Events
			return out, nil
		}
		if reason, dropped := n.ABCI.Dropped(hash); dropped {
			out.Code, out.Log = chain.ErrConflict.Code, "dropped from the mempool before it reached a block: "+reason
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("transaction %s not committed: %w", out.Hash, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TxInfo looks a committed transaction up by hash.
func (n *Node) TxInfo(ctx context.Context, hash []byte) (api.TxInfo, error) {
	res, err := n.RPC.Tx(ctx, hash, false)
	if err != nil {
		return api.TxInfo{}, chain.Wrap(chain.ErrNotFound, "transaction %X: %v", hash, err)
	}
	info := api.TxInfo{
		Hash: strings.ToUpper(hex.EncodeToString(hash)), Height: res.Height, Index: res.Index,
		Code: res.TxResult.Code, Log: res.TxResult.Log,
	}
	for _, e := range res.TxResult.Events {
		ev := chain.Event{Type: e.Type}
		for _, a := range e.Attributes {
			ev.Attrs = append(ev.Attrs, chain.Attribute{Key: a.Key, Value: a.Value})
		}
		info.Events = append(info.Events, ev)
	}
	if tx, err := chain.DecodeTx(res.Tx, len(res.Tx)); err == nil {
		info.Sender, info.ChainID, info.Sequence, info.Fee, info.Type, info.Memo =
			tx.Sender(), tx.Body.ChainID, tx.Body.Sequence, tx.Body.Fee, tx.Body.Msg.Type, tx.Body.Memo
		if m, err := n.ABCI.App().Router().DecodeMsg(tx.Body.Msg); err == nil {
			info.Msg, _ = json.Marshal(m)
		}
	}
	return info, nil
}

func (n *Node) handleTx(w http.ResponseWriter, r *http.Request) {
	hash, err := hex.DecodeString(r.PathValue("hash"))
	if err != nil || len(hash) != 32 {
		WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "transaction hash must be 64 hex digits"))
		return
	}
	info, err := n.TxInfo(r.Context(), hash)
	if err != nil {
		WriteError(w, http.StatusNotFound, err)
		return
	}
	WriteJSON(w, info)
}

func (n *Node) parseAddr(w http.ResponseWriter, s string) (chain.Address, bool) {
	a, err := chain.ParseAddress(s)
	if err != nil {
		WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		return a, false
	}
	return a, true
}

func (n *Node) handleAccount(w http.ResponseWriter, r *http.Request) {
	a, ok := n.parseAddr(w, r.PathValue("addr"))
	if !ok {
		return
	}
	kv, _, err := n.ABCI.Snapshot()
	if err != nil {
		WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	info := chain.Account(kv, a)
	// Clients sign their next transaction with the mempool's sequence, which
	// counts their transactions not yet in a block.
	info.Sequence = n.ABCI.Sequence(a)
	WriteJSON(w, info)
}

func (n *Node) handleBalance(w http.ResponseWriter, r *http.Request) {
	a, ok := n.parseAddr(w, r.PathValue("addr"))
	if !ok {
		return
	}
	kv, h, err := n.ABCI.Snapshot()
	if err != nil {
		WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	WriteJSON(w, api.Balance{Address: a, Balance: chain.Balance(kv, a), Denom: chain.Denom, Height: h})
}

func (n *Node) handleBlock(w http.ResponseWriter, r *http.Request) {
	var hp *int64
	if s := r.PathValue("height"); s != "latest" {
		h, err := strconv.ParseInt(s, 10, 64)
		if err != nil || h <= 0 {
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "height must be a positive number or 'latest'"))
			return
		}
		hp = &h
	}
	res, err := n.RPC.Block(r.Context(), hp)
	if err != nil {
		WriteError(w, http.StatusNotFound, chain.Wrap(chain.ErrNotFound, "%v", err))
		return
	}
	b := res.Block
	info := api.BlockInfo{
		Height: b.Height, Time: b.Time.UTC().Format(time.RFC3339Nano), Hash: res.BlockID.Hash.String(),
		AppHash: b.AppHash.String(), Proposer: b.ProposerAddress.String(), Txs: []string{},
	}
	for _, tx := range b.Txs {
		info.Txs = append(info.Txs, strings.ToUpper(hex.EncodeToString(tx.Hash())))
	}
	WriteJSON(w, info)
}

// BlobUploadSkew is how far a signed upload's time may be from the node's.
const BlobUploadSkew = 5 * time.Minute

// handleBlobPut stores an upload signed by an account that can pay the
// storage fee for it and for its other unregistered uploads, within its
// quota. The body is streamed to disk and must be the signed CID's
// content. A body may be the tail of the blob from HeaderBlobOffset on,
// resuming an upload that broke (HeaderBlobSize then gives the whole size).
func (n *Node) handleBlobPut(w http.ResponseWriter, r *http.Request) {
	// A web page can POST text/plain (or a form) across origins without a
	// preflight; the binary content type and the custom headers below force
	// one, which this server never grants.
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
		WriteError(w, http.StatusForbidden, chain.Wrap(chain.ErrUnauthorized, "cross-origin upload refused"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		WriteError(w, http.StatusUnsupportedMediaType, chain.Wrap(chain.ErrInvalidRequest, "blob uploads must be Content-Type: application/octet-stream, not %q", ct))
		return
	}
	kv, _, err := n.ABCI.Snapshot()
	if err != nil {
		WriteError(w, http.StatusServiceUnavailable, chain.Wrap(chain.ErrInternal, "no committed state yet: %v", err))
		return
	}
	params := chain.LoadParams(kv)
	size, offset, err := uploadExtent(r)
	if err != nil {
		WriteError(w, http.StatusLengthRequired, err)
		return
	}
	if uint64(size) > params.MaxBlobBytes {
		WriteError(w, http.StatusRequestEntityTooLarge, chain.Wrap(chain.ErrInvalidRequest, "blob of %d bytes is over the %d byte limit", size, params.MaxBlobBytes))
		return
	}
	owner, c, err := n.checkUploadSignature(r, uint64(size))
	if err != nil {
		WriteError(w, http.StatusUnauthorized, err)
		return
	}
	if chain.IsBlobRegistered(kv, c) && n.Blobs.Has(c) {
		WriteJSON(w, api.BlobPut{CID: c, Size: size}) // nothing to store or pay
		return
	}
	release, err := n.Blobs.Acquire()
	if err != nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusTooManyRequests, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		return
	}
	defer release()
	registered := func(c string) bool { return chain.IsBlobRegistered(kv, c) }
	used := chain.BlobBytesUsed(kv, owner)
	balance := chain.Balance(kv, owner)
	status := http.StatusOK
	reserve := n.Blobs.Reserve
	if chain.IsBlobRegistered(kv, c) { // paid for already: a copy for this node
		reserve = func(chain.Address, string, int64, time.Time, func(string) bool, func(int64) error) (func(), error) {
			return func() {}, nil
		}
	}
	cancel, err := reserve(owner, c, size, time.Now(), registered, func(pending int64) error {
		if q := params.BlobQuotaBytes; q != 0 && used+uint64(pending) > q {
			status = http.StatusRequestEntityTooLarge
			return chain.Wrap(chain.ErrInvalidRequest, "upload of %d bytes is over the storage quota of %s: %d bytes registered, %d uploaded and not yet registered, quota %d",
				size, owner, used, uint64(pending)-uint64(size), q)
		}
		fee, err := chain.StorageFee(params, uint64(pending))
		if err == nil && (fee > ^uint64(0)-params.MinFee || balance < fee+params.MinFee) {
			status = http.StatusPaymentRequired
			return chain.Wrap(chain.ErrInsufficientFunds, "%s has %d%s, registering its %d unregistered bytes costs %d%s plus the fee",
				owner, balance, chain.Denom, pending, fee, chain.Denom)
		}
		return err
	})
	if err != nil {
		WriteError(w, status, err)
		return
	}
	body := httpguard.ReadWhileMoving(w, r.Body, BlobIdleTimeout)
	if err := n.Blobs.Upload(body, c, owner, size, offset); err != nil {
		var tooBig *http.MaxBytesError
		var short *IncompleteError
		switch {
		case errors.As(err, &short):
			// Kept for a resume: the reservation stays.
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		case errors.Is(err, ErrUploadOffset):
			WriteError(w, http.StatusConflict, chain.Wrap(chain.ErrConflict, "%v", err))
		case errors.As(err, &tooBig):
			cancel()
			WriteError(w, http.StatusRequestEntityTooLarge, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		case errors.Is(err, ErrBlobSize), errors.Is(err, ErrBlobMismatch):
			cancel()
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		default:
			cancel()
			WriteError(w, http.StatusInternalServerError, chain.Wrap(chain.ErrInternal, "%v", err))
		}
		return
	}
	WriteJSON(w, api.BlobPut{CID: c, Size: size})
}

// uploadExtent is an upload's whole size and the offset its body starts
// at: Content-Length is the whole blob, or with HeaderBlobSize and
// HeaderBlobOffset the tail from the offset on.
func uploadExtent(r *http.Request) (size, offset int64, err error) {
	if r.ContentLength < 0 {
		return 0, 0, chain.Wrap(chain.ErrInvalidRequest, "a blob upload needs a Content-Length")
	}
	if r.Header.Get(api.HeaderBlobSize) == "" && r.Header.Get(api.HeaderBlobOffset) == "" {
		if r.ContentLength == 0 {
			return 0, 0, chain.Wrap(chain.ErrInvalidRequest, "a blob upload needs a Content-Length of at least 1 byte")
		}
		return r.ContentLength, 0, nil
	}
	size, err1 := strconv.ParseInt(r.Header.Get(api.HeaderBlobSize), 10, 64)
	offset, err2 := strconv.ParseInt(r.Header.Get(api.HeaderBlobOffset), 10, 64)
	switch {
	case err1 != nil || err2 != nil || size < 1 || offset < 0:
		return 0, 0, chain.Wrap(chain.ErrInvalidRequest, "%s and %s must both be given, a size of at least 1 and an offset of at least 0", api.HeaderBlobSize, api.HeaderBlobOffset)
	case offset > size || r.ContentLength != size-offset:
		return 0, 0, chain.Wrap(chain.ErrInvalidRequest, "a body of %d bytes from offset %d does not end a %d byte blob", r.ContentLength, offset, size)
	}
	return size, offset, nil
}

// handleBlobUpload is GET /blobs/{cid}/upload?uploader=ADDR: where an
// interrupted upload resumes.
func (n *Node) handleBlobUpload(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("cid")
	if _, err := chain.ParseBlobCID(c); err != nil {
		WriteError(w, http.StatusBadRequest, err)
		return
	}
	owner, err := chain.ParseAddress(r.URL.Query().Get("uploader"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "uploader: %v", err))
		return
	}
	res := api.BlobUpload{CID: c, Uploader: owner.String(), Stored: n.Blobs.Has(c)}
	if !res.Stored {
		res.Offset = n.Blobs.Offset(c, owner)
	}
	WriteJSON(w, res)
}

// BlobIdleTimeout is how long a blob transfer may go without progress; a
// transfer that keeps moving may take as long as it needs (the server's
// whole-request timeouts do not apply to it).
var BlobIdleTimeout = 30 * time.Second

// checkUploadSignature returns the paying account and the signed CID.
func (n *Node) checkUploadSignature(r *http.Request, size uint64) (chain.Address, string, error) {
	pub, err := hex.DecodeString(r.Header.Get(api.HeaderBlobSigner))
	if err != nil || len(pub) != 32 {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "a blob upload must be signed: %s must be a 32-byte hex ed25519 public key", api.HeaderBlobSigner)
	}
	sig, err := hex.DecodeString(r.Header.Get(api.HeaderBlobSignature))
	if err != nil || len(sig) != 64 {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "%s must be a 64-byte hex signature", api.HeaderBlobSignature)
	}
	unix, err := strconv.ParseInt(r.Header.Get(api.HeaderBlobTime), 10, 64)
	if err != nil {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "%s must be unix seconds", api.HeaderBlobTime)
	}
	if d := time.Since(time.Unix(unix, 0)); d > BlobUploadSkew || d < -BlobUploadSkew {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "upload signed %v from the node's time; the limit is %v", d.Round(time.Second), BlobUploadSkew)
	}
	c := r.Header.Get(api.HeaderBlobCID)
	if _, err := chain.ParseBlobCID(c); err != nil {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "%s: %v", api.HeaderBlobCID, err)
	}
	if !ed25519.PubKey(pub).VerifySignature(chain.BlobUploadSignBytes(n.Config.ChainID, c, size, unix), sig) {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "upload signature does not verify for this chain, CID, size and time")
	}
	return chain.AddressFromPubKey(pub), c, nil
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host == host
}

// handleBlobGet streams a blob, checked against its CID as it goes (a
// UnixFS blob chunk by chunk, so a range costs only the chunks it
// overlaps), answering Range requests; ?format=car streams it as a CARv1
// of its UnixFS DAG instead, for `ipfs dag import` or a Filecoin deal.
func (n *Node) handleBlobGet(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("cid")
	format := r.URL.Query().Get("format")
	if format != "" && format != "car" && format != "raw" {
		WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "format %q: want raw or car", format))
		return
	}
	b, err := n.Blobs.Open(c)
	switch {
	case errors.Is(err, ErrBlobNotFound):
		WriteError(w, http.StatusNotFound, chain.Wrap(chain.ErrNotFound, "%v", err))
		return
	case err != nil:
		WriteError(w, statusFor(err), err)
		return
	}
	defer b.Close()
	dw := httpguard.WriteWhileMoving(w, BlobIdleTimeout)
	if format == "car" {
		root, _ := cid.Parse(c) // Open parsed it
		w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
		w.Header().Set("Content-Disposition", `attachment; filename="`+c+`.car"`)
		if err := blob.WriteCAR(r.Context(), root, b, dw); err != nil {
			// Headers are gone: cut the stream so the CAR is visibly short.
			n.logger().Error("CAR export failed", "cid", c, "err", err)
			panic(http.ErrAbortHandler)
		}
		return
	}
	// ServeContent answers Range requests (resumed and partial downloads)
	// and sets Content-Length; a CID names immutable bytes, hence the ETag.
	// A chunk that fails its check mid-stream aborts the response.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+c+`"`)
	http.ServeContent(dw, r, "", time.Time{}, httpguard.AbortOnReadError(b))
}

func (n *Node) handleQuery(w http.ResponseWriter, r *http.Request) {
	kv, _, err := n.ABCI.Snapshot()
	if err != nil {
		WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	v, err := n.ABCI.App().Query(kv, r.PathValue("domain"), r.PathValue("path"), params)
	if err != nil {
		WriteError(w, statusFor(err), err)
		return
	}
	WriteJSON(w, v)
}
