// Package explorer keeps the node's own index of blocks, transactions and
// per-account history for the dashboard: a LevelDB under the node's data dir,
// written after each commit, keyed by height and index so that every list is
// read a page at a time with a cursor (CometBFT's tx_search sorts all
// matches first, which makes a page cost grow with the chain). It runs
// outside consensus.
package explorer

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/tenun-chain/tenun/chain"
)

// EndBlock is the index of an end-block step's events in account history.
const EndBlock = ^uint32(0)

// Key layout (all numbers big-endian so keys sort by height, then index):
//
//	m/height                 last indexed height
//	b/<h8>                   Block
//	t/<h8><i4>               Tx
//	h/<hash32>               <h8><i4> of a transaction
//	a/<addr20><h8><i4>       Entry of an account's history
//	e/<addr20><market>       total an account received from a market
var (
	keyHeight  = []byte("m/height")
	pfxBlock   = []byte("b/")
	pfxTx      = []byte("t/")
	pfxHash    = []byte("h/")
	pfxAccount = []byte("a/")
	pfxEarn    = []byte("e/")
)

// Block is a block as the index keeps it.
type Block struct {
	Height   int64  `json:"height"`
	Time     string `json:"time"`
	Hash     string `json:"hash"`
	Proposer string `json:"proposer"`
	Txs      int    `json:"txs"`
	Failed   int    `json:"failed"`
}

// Tx is a committed transaction's summary.
type Tx struct {
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Index  uint32 `json:"index"`
	Time   string `json:"time"`
	Code   uint32 `json:"code"`
	Log    string `json:"log,omitempty"` // the failure reason; empty on success
	Type   string `json:"type"`
	Sender string `json:"sender"`
	Fee    uint64 `json:"fee"`
}

// Entry is one line of an account's history: a transaction it sent or was
// named in, or an end-block step (Index == EndBlock) that named it.
type Entry struct {
	Height   int64    `json:"height"`
	Index    uint32   `json:"index"`
	Hash     string   `json:"hash,omitempty"`
	Type     string   `json:"type"`
	Code     uint32   `json:"code"`
	Roles    []string `json:"roles"`    // sender, recipient, or the event types that named it
	Received uint64   `json:"received"` // tokens in, from transfers, releases and mints
	Sent     uint64   `json:"sent"`     // tokens out by transfer (fees included for the sender)
}

// Earning is what an account received from one market.
type Earning struct {
	Market string `json:"market"`
	Amount uint64 `json:"amount"`
}

// Page is one page of a list, newest first; Next is the cursor of the next
// (older) page, empty at the end.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Index is the explorer's database.
type Index struct {
	db *leveldb.DB
}

// Open opens (or creates) the index in dir.
func Open(dir string) (*Index, error) {
	db, err := leveldb.OpenFile(dir, &opt.Options{})
	if err != nil {
		return nil, fmt.Errorf("open explorer index %s: %w", dir, err)
	}
	return &Index{db: db}, nil
}

// Close closes the database.
func (x *Index) Close() error { return x.db.Close() }

// Height is the last height written (0 for an empty index).
func (x *Index) Height() int64 {
	v, err := x.db.Get(keyHeight, nil)
	if err != nil || len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func pos(h int64, i uint32) []byte { return binary.BigEndian.AppendUint32(be64(h), i) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// BlockData is everything Write records of one block.
type BlockData struct {
	Block  Block
	Txs    []TxData
	Events []chain.Event // end-block events
}

// TxData is a transaction with its result.
type TxData struct {
	Tx     Tx
	Msg    json.RawMessage // decoded message, scanned for addresses it names
	Events []chain.Event
}

// Write records one block, atomically, and moves the index height to it.
// Blocks must be written in order; writing a height already indexed is a
// no-op, so a catch-up that overlaps the live feed is harmless.
func (x *Index) Write(d BlockData) error {
	if d.Block.Height <= x.Height() {
		return nil
	}
	b := new(leveldb.Batch)
	bj, _ := json.Marshal(d.Block)
	b.Put(cat(pfxBlock, be64(d.Block.Height)), bj)
	earn := map[string]uint64{} // addr(20)+market -> amount in this block
	for _, t := range d.Txs {
		tj, _ := json.Marshal(t.Tx)
		p := pos(t.Tx.Height, t.Tx.Index)
		b.Put(cat(pfxTx, p), tj)
		if h, err := hex.DecodeString(t.Tx.Hash); err == nil {
			b.Put(cat(pfxHash, h), p)
		}
		market, _, _ := strings.Cut(t.Tx.Type, "/")
		entries := involved(t.Events, market, earn)
		if t.Tx.Sender != "" {
			e := entryFor(entries, t.Tx.Sender)
			e.Roles = append([]string{"sender"}, e.Roles...)
			if t.Tx.Code == 0 {
				e.Sent += t.Tx.Fee
			}
		}
		for _, a := range addressesIn(t.Msg) {
			e := entryFor(entries, a)
			if len(e.Roles) == 0 {
				e.Roles = append(e.Roles, "named")
			}
		}
		for a, e := range entries {
			e.Height, e.Index, e.Hash, e.Type, e.Code = t.Tx.Height, t.Tx.Index, t.Tx.Hash, t.Tx.Type, t.Tx.Code
			if err := putEntry(b, a, p, e); err != nil {
				return err
			}
		}
	}
	if len(d.Events) > 0 {
		entries := involved(d.Events, "", earn)
		for a, e := range entries {
			e.Height, e.Index, e.Type = d.Block.Height, EndBlock, "end-block"
			if err := putEntry(b, a, pos(d.Block.Height, EndBlock), e); err != nil {
				return err
			}
		}
	}
	for k, v := range earn {
		key := cat(pfxEarn, []byte(k))
		old, _ := x.db.Get(key, nil)
		if len(old) == 8 {
			v += binary.BigEndian.Uint64(old)
		}
		b.Put(key, binary.BigEndian.AppendUint64(nil, v))
	}
	b.Put(keyHeight, be64(d.Block.Height))
	if err := x.db.Write(b, &opt.WriteOptions{Sync: false}); err != nil {
		return fmt.Errorf("explorer index: write block %d: %w", d.Block.Height, err)
	}
	return nil
}

func putEntry(b *leveldb.Batch, addr string, p []byte, e *Entry) error {
	a, err := chain.ParseAddress(addr)
	if err != nil {
		return nil // not an account address; events carry other strings too
	}
	if e.Roles == nil {
		e.Roles = []string{}
	}
	ej, _ := json.Marshal(e)
	b.Put(cat(pfxAccount, a[:], p), ej)
	return nil
}

func entryFor(m map[string]*Entry, a string) *Entry {
	e, ok := m[a]
	if !ok {
		e = &Entry{}
		m[a] = e
	}
	return e
}

// involved collects, per address, what events say about it: the event types
// that name it, tokens received and sent, and (into earn) the received
// amounts per market. The market of a release is its escrow's domain (escrow
// ids start with the domain's name); of anything else in a transaction, the
// message's domain; of an end-block mint or transfer, the event's domain
// prefix when it has one, else "chain".
func involved(evs []chain.Event, market string, earn map[string]uint64) map[string]*Entry {
	out := map[string]*Entry{}
	for _, ev := range evs {
		attrs := map[string]string{}
		for _, a := range ev.Attrs {
			attrs[a.Key] = a.Value
			if _, err := chain.ParseAddress(a.Value); err == nil {
				e := entryFor(out, a.Value)
				if !contains(e.Roles, ev.Type) {
					e.Roles = append(e.Roles, ev.Type)
				}
			}
		}
		amt, err := parseU64(attrs["amount"])
		if err != nil {
			continue
		}
		m := market
		if m == "" {
			m = "chain"
			if d, _, ok := strings.Cut(ev.Type, "/"); ok {
				m = d
			}
		}
		switch ev.Type {
		case "transfer":
			entryFor(out, attrs["sender"]).Sent += amt
			entryFor(out, attrs["recipient"]).Received += amt
			if market != "" && market != "bank" {
				addEarn(earn, attrs["recipient"], m, amt)
			}
		case "escrow_release":
			d, _, _ := strings.Cut(attrs["escrow"], "/")
			entryFor(out, attrs["recipient"]).Received += amt
			addEarn(earn, attrs["recipient"], d, amt)
		case "escrow_refund":
			entryFor(out, attrs["owner"]).Received += amt
		case "mint":
			entryFor(out, attrs["recipient"]).Received += amt
			addEarn(earn, attrs["recipient"], m, amt)
		}
	}
	for a := range out {
		if _, err := chain.ParseAddress(a); err != nil {
			delete(out, a)
		}
	}
	return out
}

func addEarn(earn map[string]uint64, addr, market string, amt uint64) {
	a, err := chain.ParseAddress(addr)
	if err != nil || market == "" || amt == 0 {
		return
	}
	earn[string(a[:])+market] += amt
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func parseU64(s string) (uint64, error) {
	var v uint64
	if s == "" {
		return 0, errors.New("empty")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}

// addressesIn lists the account addresses a decoded message names.
func addressesIn(raw json.RawMessage) []string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			if strings.HasPrefix(t, chain.AddressPrefix+"1") {
				if _, err := chain.ParseAddress(t); err == nil && !contains(out, t) {
					out = append(out, t)
				}
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		case map[string]any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// MaxPage bounds a page's length.
const MaxPage = 100

// ErrCursor is a malformed cursor.
var ErrCursor = errors.New("malformed cursor")

// page reads up to limit values under prefix, newest (highest key) first,
// strictly before the cursor (the hex key suffix of the last item seen).
func page[T any](x *Index, prefix []byte, cursor string, limit int) (Page[T], error) {
	out := Page[T]{Items: []T{}}
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	r := util.BytesPrefix(prefix)
	if cursor != "" {
		c, err := hex.DecodeString(cursor)
		if err != nil || len(c) == 0 || len(c) > 16 {
			return out, ErrCursor
		}
		r.Limit = cat(prefix, c)
	}
	it := x.db.NewIterator(r, nil)
	defer it.Release()
	var last []byte
	for ok := it.Last(); ok; ok = it.Prev() {
		if len(out.Items) == limit {
			// More remain: the next page is everything before the last item.
			out.Next = hex.EncodeToString(last)
			break
		}
		last = append(last[:0], it.Key()[len(prefix):]...)
		var v T
		if err := json.Unmarshal(it.Value(), &v); err != nil {
			return out, fmt.Errorf("explorer index: decode %x: %w", it.Key(), err)
		}
		out.Items = append(out.Items, v)
	}
	return out, it.Error()
}

// Blocks lists blocks, newest first.
func (x *Index) Blocks(cursor string, limit int) (Page[Block], error) {
	return page[Block](x, pfxBlock, cursor, limit)
}

// Txs lists transactions, newest first.
func (x *Index) Txs(cursor string, limit int) (Page[Tx], error) {
	return page[Tx](x, pfxTx, cursor, limit)
}

// BlockTxs lists the transactions of one block, in block order.
func (x *Index) BlockTxs(h int64) ([]Tx, error) {
	out := []Tx{}
	it := x.db.NewIterator(util.BytesPrefix(cat(pfxTx, be64(h))), nil)
	defer it.Release()
	for it.Next() {
		var t Tx
		if err := json.Unmarshal(it.Value(), &t); err != nil {
			return nil, fmt.Errorf("explorer index: decode tx: %w", err)
		}
		out = append(out, t)
	}
	return out, it.Error()
}

// History lists an account's history, newest first.
func (x *Index) History(a chain.Address, cursor string, limit int) (Page[Entry], error) {
	return page[Entry](x, cat(pfxAccount, a[:]), cursor, limit)
}

// Block returns an indexed block.
func (x *Index) Block(h int64) (Block, bool) {
	var b Block
	v, err := x.db.Get(cat(pfxBlock, be64(h)), nil)
	if err != nil || json.Unmarshal(v, &b) != nil {
		return b, false
	}
	return b, true
}

// TxByHash returns an indexed transaction by its hash.
func (x *Index) TxByHash(hash []byte) (Tx, bool) {
	var t Tx
	p, err := x.db.Get(cat(pfxHash, hash), nil)
	if err != nil {
		return t, false
	}
	v, err := x.db.Get(cat(pfxTx, p), nil)
	if err != nil || json.Unmarshal(v, &t) != nil {
		return t, false
	}
	return t, true
}

// Earnings lists what an account received from each market, by market name.
func (x *Index) Earnings(a chain.Address) []Earning {
	out := []Earning{}
	p := cat(pfxEarn, a[:])
	it := x.db.NewIterator(util.BytesPrefix(p), nil)
	defer it.Release()
	for it.Next() {
		if len(it.Value()) == 8 {
			out = append(out, Earning{Market: string(it.Key()[len(p):]), Amount: binary.BigEndian.Uint64(it.Value())})
		}
	}
	return out
}

// Cursor is the cursor of the page that starts just before transaction
// (h, i) (or history entry, or block h with i omitted by the caller): lists
// read everything older than it.
func Cursor(h int64, i uint32) string { return hex.EncodeToString(pos(h, i)) }
