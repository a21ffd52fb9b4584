package explorer

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
)

func addr(b byte) chain.Address {
	var a chain.Address
	a[0], a[19] = b, b
	return a
}

func hashOf(h int64, i int) string {
	return strings.ToUpper(hex.EncodeToString([]byte(fmt.Sprintf("%032d", h*1000+int64(i)))))
}

// fill writes blocks 1..n with txs per block from addr(1) to addr(2), the
// second transfer of each block a label payout to addr(3).
func fill(t testing.TB, x *Index, from, n int64, txs int) {
	t.Helper()
	for h := from; h <= n; h++ {
		d := BlockData{Block: Block{Height: h, Time: "2026-01-01T00:00:00Z", Hash: "B", Txs: txs}}
		for i := 0; i < txs; i++ {
			d.Txs = append(d.Txs, TxData{
				Tx:     Tx{Hash: hashOf(h, i), Height: h, Index: uint32(i), Type: "label/close", Sender: addr(1).String(), Fee: 10},
				Msg:    []byte(`{"to":"` + addr(2).String() + `"}`),
				Events: []chain.Event{{Type: "escrow_release", Attrs: []chain.Attribute{{Key: "escrow", Value: "label/1"}, {Key: "recipient", Value: addr(3).String()}, {Key: "amount", Value: "7"}}}},
			})
		}
		d.Events = []chain.Event{{Type: "mint", Attrs: []chain.Attribute{{Key: "recipient", Value: addr(4).String()}, {Key: "amount", Value: "5"}}}}
		if err := x.Write(d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIndexPagesAndRestart(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, x, 1, 30, 2)
	if x.Height() != 30 {
		t.Fatalf("height %d", x.Height())
	}
	// Rewriting an indexed height changes nothing (catch-up overlapping the feed).
	fill(t, x, 30, 30, 5)
	if b, _ := x.Block(30); b.Txs != 2 {
		t.Fatalf("block 30 rewritten: %+v", b)
	}
	x.Close()

	x, err = Open(dir) // survives a restart
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Height() != 30 {
		t.Fatalf("height after reopen %d", x.Height())
	}
	// Walk every transaction page by page: newest first, none lost or repeated.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := x.Txs(cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range p.Items {
			seen = append(seen, tx.Hash)
		}
		if p.Next == "" {
			break
		}
		if len(p.Items) != 7 || pages > 20 {
			t.Fatalf("page %d: %d items, next %q", pages, len(p.Items), p.Next)
		}
		cursor = p.Next
	}
	if len(seen) != 60 || seen[0] != hashOf(30, 1) || seen[59] != hashOf(1, 0) {
		t.Fatalf("walked %d txs: first %s last %s", len(seen), seen[0], seen[len(seen)-1])
	}
	bp, _ := x.Blocks("", 3)
	if len(bp.Items) != 3 || bp.Items[0].Height != 30 || bp.Items[2].Height != 28 {
		t.Fatalf("blocks page %+v", bp)
	}
	bt, _ := x.BlockTxs(5)
	if len(bt) != 2 || bt[0].Index != 0 {
		t.Fatalf("block txs %+v", bt)
	}
	h, _ := hex.DecodeString(hashOf(12, 1))
	if tx, ok := x.TxByHash(h); !ok || tx.Height != 12 || tx.Index != 1 {
		t.Fatalf("by hash: %+v %v", tx, ok)
	}

	// History: the sender, the address the message names, the payee, and the
	// end-block mint's recipient each have theirs.
	for _, c := range []struct {
		a     chain.Address
		n     int
		role  string
		index uint32
	}{{addr(1), 60, "sender", 1}, {addr(2), 60, "named", 1}, {addr(3), 60, "escrow_release", 1}, {addr(4), 30, "mint", EndBlock}} {
		p, err := x.History(c.a, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != c.n || p.Items[0].Roles[0] != c.role || p.Items[0].Index != c.index || p.Items[0].Height != 30 {
			t.Fatalf("history of %s: %d items, first %+v", c.a, len(p.Items), p.Items[0])
		}
	}
	p, _ := x.History(addr(1), "", 1)
	if p.Items[0].Sent != 10 {
		t.Fatalf("sender's fee not counted as sent: %+v", p.Items[0])
	}
	if e := x.Earnings(addr(3)); len(e) != 1 || e[0].Market != "label" || e[0].Amount != 7*60 {
		t.Fatalf("earnings %+v", e)
	}
	if e := x.Earnings(addr(4)); len(e) != 1 || e[0].Market != "chain" || e[0].Amount != 5*30 {
		t.Fatalf("end-block earnings %+v", e)
	}
	if p, _ := x.History(addr(9), "", 10); len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("stranger's history %+v", p)
	}
	for _, bad := range []string{"zz", "00112233445566778899aabbccddeeff00"} {
		if _, err := x.Txs(bad, 5); !errors.Is(err, ErrCursor) {
			t.Fatalf("cursor %q: %v", bad, err)
		}
	}
}

func TestAddressesIn(t *testing.T) {
	a, b := addr(1).String(), addr(2).String()
	got := addressesIn([]byte(`{"to":"` + a + `","list":[{"x":"` + b + `"},"` + a + `"],"n":3,"s":"tenun1nope"}`))
	if len(got) != 2 {
		t.Fatalf("addresses %v", got)
	}
	if addressesIn([]byte(`not json`)) != nil {
		t.Fatal("garbage gave addresses")
	}
}

// Fuzz the cursor parser behind every list endpoint: any string either
// pages or is refused as malformed, never panics.
func FuzzCursor(f *testing.F) {
	x, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer x.Close()
	fill(f, x, 1, 3, 2)
	f.Add("")
	f.Add("00000000000000020000000001")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, c string) {
		p, err := x.Txs(c, 2)
		if err != nil && !errors.Is(err, ErrCursor) {
			t.Fatal(err)
		}
		if err == nil && len(p.Items) > 2 {
			t.Fatal("page too long")
		}
	})
}
