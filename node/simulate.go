package node

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Simulate runs a transaction against the mempool's check state as CheckTx
// would, in a write buffer that is thrown away: the answer is what the
// transaction would do now, and nothing changes (not even the sequence).
func (a *ABCI) Simulate(txBytes []byte) chain.TxResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.lastBlock
	next.Height++
	return a.app.CheckTx(store.NewCache(a.check), next, a.params, txBytes, nil)
}

// handleSimulate is POST /simulate: the body is a signed transaction as for
// POST /tx (raw bytes, or {"tx": "<base64>"}); the answer is a TxResponse
// with the code, log and events it would have, with status 200 either way.
func (n *Node) handleSimulate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSubmitBody+1))
	if err != nil || len(body) > maxSubmitBody {
		WriteError(w, http.StatusRequestEntityTooLarge, chain.Wrap(chain.ErrTxTooLarge, "request body over %d bytes", maxSubmitBody))
		return
	}
	txBytes := body
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req struct {
			Tx string `json:"tx"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrDecode, "request: %v", err))
			return
		}
		if txBytes, err = base64.StdEncoding.DecodeString(req.Tx); err != nil {
			WriteError(w, http.StatusBadRequest, chain.Wrap(chain.ErrDecode, "tx is not base64: %v", err))
			return
		}
	}
	res := n.ABCI.Simulate(txBytes)
	hash := chain.TxHash(txBytes)
	WriteJSON(w, api.TxResponse{Hash: strings.ToUpper(hex.EncodeToString(hash[:])), Code: res.Code, Log: res.Log, Events: res.Events})
}
