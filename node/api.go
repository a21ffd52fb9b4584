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
	"strconv"
	"strings"
	"time"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
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

func (n *Node) startAPI() error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", n.handleStatus)
	mux.HandleFunc("POST /tx", n.handleSubmit)
	mux.HandleFunc("POST /simulate", n.handleSimulate)
	mux.HandleFunc("GET /tx/{hash}", n.handleTx)
	mux.HandleFunc("GET /accounts/{addr}", n.handleAccount)
	mux.HandleFunc("GET /accounts/{addr}/balance", n.handleBalance)
	mux.HandleFunc("GET /blocks/{height}", n.handleBlock)
	mux.HandleFunc("POST /blobs", n.handleBlobPut)
	mux.HandleFunc("GET /blobs/{cid}", n.handleBlobGet)
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
	n.api = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go n.api.Serve(ln)
	return nil
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
		WriteError(w, http.StatusRequestEntityTooLarge, chain.Wrap(chain.ErrTxTooLarge, "request body over %d bytes", maxSubmitBody))
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
		WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	if res.Code != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(res)
		return
	}
	WriteJSON(w, res)
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

func (n *Node) handleBlobPut(w http.ResponseWriter, r *http.Request) {
	kv, _, err := n.ABCI.Snapshot()
	limit := int64(chain.DefaultParams().MaxBlobBytes)
	if err == nil {
		limit = int64(chain.LoadParams(kv).MaxBlobBytes)
	}
	c, size, err := n.Blobs.PutReader(r.Body, limit)
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		return
	}
	WriteJSON(w, api.BlobPut{CID: c, Size: size})
}

func (n *Node) handleBlobGet(w http.ResponseWriter, r *http.Request) {
	b, err := n.Blobs.Get(r.PathValue("cid"))
	switch {
	case errors.Is(err, ErrBlobNotFound):
		WriteError(w, http.StatusNotFound, chain.Wrap(chain.ErrNotFound, "%v", err))
		return
	case err != nil:
		WriteError(w, statusFor(err), err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b)
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
