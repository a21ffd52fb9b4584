package web

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/explorer"
	"github.com/tenun-chain/tenun/node"
)

// Overview is the dashboard's front page.
type Overview struct {
	ChainID     string           `json:"chain_id"`
	Height      int64            `json:"height"`  // last committed
	Indexed     int64            `json:"indexed"` // last height in the explorer index
	BlockTimeMs int64            `json:"block_time_ms"`
	TxPerSecMil int64            `json:"tx_per_sec_milli"` // transactions per 1000 s over the recent blocks
	Supply      uint64           `json:"supply"`
	Denom       string           `json:"denom"`
	Validators  []Validator      `json:"validators"`
	Pools       []Pool           `json:"pools"`
	Blocks      []explorer.Block `json:"blocks"` // recent, newest first (the chart's series)
	Txs         []explorer.Tx    `json:"txs"`
}

// Validator is a consensus validator and its voting power.
type Validator struct {
	Address string `json:"address"`
	Power   int64  `json:"power"`
}

// Pool is a stake pool: its total and how many accounts bond to it.
type Pool struct {
	Pool    string `json:"pool"`
	Total   uint64 `json:"total"`
	Stakers int    `json:"stakers"`
}

// overviewBlocks is how many recent blocks the rate and the chart use.
const overviewBlocks = 60

func fail(w http.ResponseWriter, err error) {
	switch chain.CodeOf(err) {
	case chain.ErrNotFound.Code:
		node.WriteError(w, http.StatusNotFound, err)
	case chain.ErrInternal.Code:
		node.WriteError(w, http.StatusInternalServerError, err)
	default:
		node.WriteError(w, http.StatusBadRequest, err)
	}
}

func (d *Dashboard) handleOverview(w http.ResponseWriter, r *http.Request) {
	kv, h, err := d.n.Snapshot()
	if err != nil {
		node.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	o := Overview{ChainID: d.n.ChainID(), Height: h, Indexed: d.index.Height(), Supply: chain.Supply(kv), Denom: chain.Denom,
		Validators: []Validator{}, Pools: pools(kv)}
	if vals, err := d.n.RPC.Validators(r.Context(), nil, nil, nil); err == nil {
		for _, v := range vals.Validators {
			o.Validators = append(o.Validators, Validator{Address: v.Address.String(), Power: v.VotingPower})
		}
	}
	bp, err := d.index.Blocks("", overviewBlocks)
	if err != nil {
		fail(w, chain.Wrap(chain.ErrInternal, "%v", err))
		return
	}
	o.Blocks = bp.Items
	if n := len(bp.Items); n > 1 {
		newest, e1 := time.Parse(time.RFC3339Nano, bp.Items[0].Time)
		oldest, e2 := time.Parse(time.RFC3339Nano, bp.Items[n-1].Time)
		if span := newest.Sub(oldest); e1 == nil && e2 == nil && span > 0 {
			txs := 0
			for _, b := range bp.Items[:n-1] { // the txs of the blocks after the oldest fill the span
				txs += b.Txs
			}
			o.BlockTimeMs = span.Milliseconds() / int64(n-1)
			o.TxPerSecMil = int64(txs) * 1_000_000 / span.Milliseconds()
		}
	}
	tp, err := d.index.Txs("", 10)
	if err != nil {
		fail(w, chain.Wrap(chain.ErrInternal, "%v", err))
		return
	}
	o.Txs = tp.Items
	node.WriteJSON(w, o)
}

// pools sums the bonds of every stake pool (keys stake/bond/<len><pool><addr>).
func pools(kv interface {
	Iterate([]byte, func(k, v []byte) bool)
}) []Pool {
	by := map[string]*Pool{}
	prefix := []byte("stake/bond/")
	kv.Iterate(prefix, func(k, v []byte) bool {
		rest := k[len(prefix):]
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) || len(v) != 8 {
			return true
		}
		name := string(rest[1 : 1+int(rest[0])])
		p, ok := by[name]
		if !ok {
			p = &Pool{Pool: name}
			by[name] = p
		}
		p.Total += binary.BigEndian.Uint64(v)
		p.Stakers++
		return true
	})
	out := []Pool{}
	for _, p := range by {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pool < out[j].Pool })
	return out
}

func pageParams(r *http.Request) (string, int, error) {
	limit := 25
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > explorer.MaxPage {
			return "", 0, chain.Wrap(chain.ErrInvalidRequest, "limit must be a number from 1 to %d", explorer.MaxPage)
		}
		limit = n
	}
	return r.URL.Query().Get("cursor"), limit, nil
}

func listErr(err error) error {
	if errors.Is(err, explorer.ErrCursor) {
		return chain.Wrap(chain.ErrInvalidRequest, "cursor: %v", err)
	}
	return chain.Wrap(chain.ErrInternal, "%v", err)
}

func (d *Dashboard) handleBlocks(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		fail(w, err)
		return
	}
	p, err := d.index.Blocks(cursor, limit)
	if err != nil {
		fail(w, listErr(err))
		return
	}
	node.WriteJSON(w, p)
}

func (d *Dashboard) handleTxs(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		fail(w, err)
		return
	}
	p, err := d.index.Txs(cursor, limit)
	if err != nil {
		fail(w, listErr(err))
		return
	}
	node.WriteJSON(w, p)
}

// BlockDetail is a block with its transactions and end-block events.
type BlockDetail struct {
	explorer.Block
	AppHash string        `json:"app_hash"`
	TxList  []explorer.Tx `json:"tx_list"`
	Events  []chain.Event `json:"events"` // end-block
}

func parseHeight(s string) (int64, error) {
	h, err := strconv.ParseInt(s, 10, 64)
	if err != nil || h <= 0 {
		return 0, chain.Wrap(chain.ErrInvalidRequest, "height %q: want a positive number", s)
	}
	return h, nil
}

func (d *Dashboard) handleBlock(w http.ResponseWriter, r *http.Request) {
	h, err := parseHeight(r.PathValue("height"))
	if err != nil {
		fail(w, err)
		return
	}
	b, ok := d.index.Block(h)
	if !ok {
		fail(w, chain.Wrap(chain.ErrNotFound, "no block at height %d (the chain is at %d)", h, d.index.Height()))
		return
	}
	out := BlockDetail{Block: b, Events: []chain.Event{}}
	if out.TxList, err = d.index.BlockTxs(h); err != nil {
		fail(w, chain.Wrap(chain.ErrInternal, "%v", err))
		return
	}
	if blk, err := d.n.RPC.Block(r.Context(), &h); err == nil {
		out.AppHash = blk.Block.AppHash.String()
	}
	if data, err := explorer.Load(r.Context(), d.n, h); err == nil {
		out.Events = data.Events
	}
	node.WriteJSON(w, out)
}

func parseHash(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "hash %q: want 64 hex digits", s)
	}
	return b, nil
}

// TxDetail is a transaction as node.TxInfo decodes it, with its block time.
type TxDetail struct {
	api.TxInfo
	Time string `json:"time"`
}

func (d *Dashboard) handleTx(w http.ResponseWriter, r *http.Request) {
	hash, err := parseHash(r.PathValue("hash"))
	if err != nil {
		fail(w, err)
		return
	}
	t, ok := d.index.TxByHash(hash)
	if !ok {
		fail(w, chain.Wrap(chain.ErrNotFound, "no transaction %X", hash))
		return
	}
	info, err := d.n.TxInfo(r.Context(), hash)
	if err != nil {
		fail(w, err)
		return
	}
	node.WriteJSON(w, TxDetail{TxInfo: info, Time: t.Time})
}

// AccountDetail is an account's state with its earnings per market.
type AccountDetail struct {
	chain.AccountInfo
	Earnings []explorer.Earning `json:"earnings"`
}

func parseAddr(s string) (chain.Address, error) {
	a, err := chain.ParseAddress(s)
	if err != nil {
		return a, chain.Wrap(chain.ErrInvalidRequest, "address %q: %v", s, err)
	}
	return a, nil
}

func (d *Dashboard) handleAccount(w http.ResponseWriter, r *http.Request) {
	a, err := parseAddr(r.PathValue("addr"))
	if err != nil {
		fail(w, err)
		return
	}
	kv, _, err := d.n.Snapshot()
	if err != nil {
		node.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	info := chain.Account(kv, a)
	if !d.known(a, info) {
		fail(w, chain.Wrap(chain.ErrNotFound, "account %s has no balance, stake or history", a))
		return
	}
	node.WriteJSON(w, AccountDetail{AccountInfo: info, Earnings: d.index.Earnings(a)})
}

func (d *Dashboard) known(a chain.Address, info chain.AccountInfo) bool {
	if info.Balance > 0 || info.Sequence > 0 || len(info.Stakes) > 0 || len(info.Unbondings) > 0 || len(info.Slashes) > 0 {
		return true
	}
	p, err := d.index.History(a, "", 1)
	return err == nil && len(p.Items) > 0
}

func (d *Dashboard) handleHistory(w http.ResponseWriter, r *http.Request) {
	a, err := parseAddr(r.PathValue("addr"))
	if err != nil {
		fail(w, err)
		return
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		fail(w, err)
		return
	}
	p, err := d.index.History(a, cursor, limit)
	if err != nil {
		fail(w, listErr(err))
		return
	}
	node.WriteJSON(w, p)
}

// Found is where a search leads: kind is block, tx, account or blob.
type Found struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// maxQuery bounds a search string.
const maxQuery = 200

func (d *Dashboard) handleSearch(w http.ResponseWriter, r *http.Request) {
	f, err := d.search(r, strings.TrimSpace(r.URL.Query().Get("q")))
	if err != nil {
		fail(w, err)
		return
	}
	node.WriteJSON(w, f)
}

func (d *Dashboard) search(r *http.Request, q string) (Found, error) {
	switch {
	case q == "":
		return Found{}, chain.Wrap(chain.ErrInvalidRequest, "type a height, a hash, an address or a CID")
	case len(q) > maxQuery:
		return Found{}, chain.Wrap(chain.ErrInvalidRequest, "search is %d characters; at most %d", len(q), maxQuery)
	case len(q) == 64 && isHex(q):
		return d.findHash(r, q)
	case isDigits(q):
		h, err := parseHeight(q)
		if err != nil {
			return Found{}, err
		}
		if _, ok := d.index.Block(h); !ok {
			return Found{}, chain.Wrap(chain.ErrNotFound, "no block at height %d (the chain is at %d)", h, d.index.Height())
		}
		return Found{Kind: "block", ID: q}, nil
	case strings.HasPrefix(strings.ToLower(q), chain.AddressPrefix+"1"):
		a, err := parseAddr(strings.ToLower(q))
		if err != nil {
			return Found{}, err
		}
		kv, _, err := d.n.Snapshot()
		if err != nil {
			return Found{}, chain.Wrap(chain.ErrInternal, "%v", err)
		}
		if !d.known(a, chain.Account(kv, a)) {
			return Found{}, chain.Wrap(chain.ErrNotFound, "account %s has no balance, stake or history", a)
		}
		return Found{Kind: "account", ID: a.String()}, nil
	}
	if _, err := chain.ParseBlobCID(q); err == nil {
		kv, _, err := d.n.Snapshot()
		if err != nil {
			return Found{}, chain.Wrap(chain.ErrInternal, "%v", err)
		}
		if _, err := d.n.ABCI.App().Query(kv, "core", "blob/"+q, nil); err != nil {
			return Found{}, chain.Wrap(chain.ErrNotFound, "no blob %s is registered on chain", q)
		}
		return Found{Kind: "blob", ID: q}, nil
	}
	return Found{}, chain.Wrap(chain.ErrInvalidRequest, "%q is not a height, a 64-digit hash, a %s1… address or a CID", q, chain.AddressPrefix)
}

// findHash looks a 64-digit hash up as a transaction, then as a block.
func (d *Dashboard) findHash(r *http.Request, q string) (Found, error) {
	b, _ := hex.DecodeString(q)
	if t, ok := d.index.TxByHash(b); ok {
		return Found{Kind: "tx", ID: t.Hash}, nil
	}
	if blk, err := d.n.RPC.BlockByHash(r.Context(), b); err == nil && blk.Block != nil {
		return Found{Kind: "block", ID: strconv.FormatInt(blk.Block.Height, 10)}, nil
	}
	return Found{}, chain.Wrap(chain.ErrNotFound, "no transaction or block with hash %s", strings.ToUpper(q))
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// handleLive streams each new block (with its transactions) as a
// server-sent event "block" until the client leaves or the node stops.
func (d *Dashboard) handleLive(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// A stream outlives any write timeout the API server sets for requests.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		node.WriteError(w, http.StatusInternalServerError, fmt.Errorf("live stream: %w", err))
		return
	}
	fl := flusher{rc}
	ch, unsubscribe := d.live.subscribe()
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprintf(w, "retry: 2000\n\n")
	fl.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.live.closed:
			return
		case <-keepAlive.C:
			fmt.Fprintf(w, ": keep-alive\n\n")
			fl.Flush()
		case b := <-ch:
			txs := make([]explorer.Tx, 0, len(b.Txs))
			for _, t := range b.Txs {
				txs = append(txs, t.Tx)
			}
			j, _ := json.Marshal(map[string]any{"block": b.Block, "txs": txs})
			fmt.Fprintf(w, "event: block\ndata: %s\n\n", j)
			fl.Flush()
		}
	}
}

type flusher struct{ rc *http.ResponseController }

func (f flusher) Flush() { f.rc.Flush() }
