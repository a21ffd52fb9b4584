package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/explorer"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

func get(t *testing.T, base, path string) (int, string) {
	t.Helper()
	r, err := http.Get("http://" + base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

func waitIndexed(t *testing.T, n *node.Node, h int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, n.APIAddr(), "/explorer/overview")
		var o Overview
		json.Unmarshal([]byte(body), &o)
		if o.Indexed >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index at %d, want %d", o.Indexed, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestExplorerAPI checks the endpoints behind the pages on a real node:
// cursor pages, clear statuses for unknown and malformed input, and an
// index that survives a restart and rebuilds from the block store when lost.
func TestExplorerAPI(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := net.Client
	var hashes []string
	for i := 0; i < 6; i++ {
		res, err := c.Submit(ctx, net.Keys[0], &chain.MsgSend{To: net.Addr(1), Amount: uint64(1 + i)}, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, res.Hash)
	}
	st, _ := c.Status(ctx)
	waitIndexed(t, net.Node, st.Height)
	base := net.Node.APIAddr()

	// The page and its assets, with a policy that forbids inline scripts.
	r, err := http.Get("http://" + base + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /: %d, CSP %q", r.StatusCode, r.Header.Get("Content-Security-Policy"))
	}
	if code, body := get(t, base, "/ui/app.js"); code != 200 || !strings.Contains(body, "EventSource") {
		t.Fatalf("app.js: %d", code)
	}

	// The recipient's history, two at a time, newest first, to the end.
	var got []string
	cursor := ""
	for {
		code, body := get(t, base, "/explorer/accounts/"+net.Addr(1).String()+"/history?limit=2&cursor="+cursor)
		if code != 200 {
			t.Fatalf("history: %d %s", code, body)
		}
		var p explorer.Page[explorer.Entry]
		json.Unmarshal([]byte(body), &p)
		for _, e := range p.Items {
			got = append(got, e.Hash)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(got) != 6 || got[0] != hashes[5] || got[5] != hashes[0] {
		t.Fatalf("history %v, want %v reversed", got, hashes)
	}

	for _, cse := range []struct {
		path string
		code int
		want string
	}{
		{"/explorer/blocks/0", 400, "positive number"},
		{"/explorer/blocks/-3", 400, "positive number"},
		{"/explorer/blocks/x", 400, "positive number"},
		{"/explorer/blocks/99999999", 404, "no block at height"},
		{"/explorer/txs/abc", 400, "64 hex digits"},
		{"/explorer/txs/" + strings.Repeat("ab", 32), 404, "no transaction"},
		{"/explorer/accounts/nope", 400, "address"},
		{"/explorer/accounts/" + chain.Address{9}.String(), 404, "no balance, stake or history"},
		{"/explorer/txs?cursor=zz", 400, "cursor"},
		{"/explorer/blocks?limit=0", 400, "limit"},
		{"/explorer/blocks?limit=1000", 400, "limit"},
		{"/explorer/accounts/" + net.Addr(1).String() + "/history?cursor=" + strings.Repeat("0", 40), 400, "cursor"},
		{"/explorer/search?q=", 400, "type a height"},
		{"/explorer/search?q=" + strings.Repeat("9", 300), 400, "at most"},
		{"/explorer/search?q=99999999", 404, "no block"},
		{"/explorer/search?q=" + strings.Repeat("0", 64), 404, "no transaction or block"},
		{"/explorer/search?q=%3Cscript%3E", 400, "is not a height"},
		{"/explorer/search?q=1", 200, `"kind":"block"`},
		{"/explorer/search?q=" + strings.ToLower(hashes[2]), 200, `"kind":"tx"`},
		{"/explorer/search?q=" + net.Addr(0).String(), 200, `"kind":"account"`},
	} {
		code, body := get(t, base, cse.path)
		if code != cse.code || !strings.Contains(body, cse.want) {
			t.Errorf("GET %s: %d %s, want %d with %q", cse.path, code, body, cse.code, cse.want)
		}
	}
	var blk BlockDetail
	_, body := get(t, base, "/explorer/blocks/1")
	if err := json.Unmarshal([]byte(body), &blk); err != nil || blk.Height != 1 || blk.AppHash == "" {
		t.Fatalf("block 1: %s", body)
	}

	// Restart: the index keeps its height and catches up; then, deleted
	// while the node is down, it is rebuilt from the block store.
	home := net.Node.Home
	height := st.Height
	if err := net.Node.Stop(); err != nil {
		t.Logf("stop: %v", err)
	}
	for round, wipe := range []bool{false, true} {
		if wipe {
			if err := os.RemoveAll(IndexDir(home)); err != nil {
				t.Fatal(err)
			}
		}
		// CometBFT's Stop leaves its tx index open (its lock stays held in
		// this process), so the restarted node gets a fresh one, which the
		// node repairs from its blocks as after a crash.
		if err := os.RemoveAll(filepath.Join(home, "data", "tx_index.db")); err != nil {
			t.Fatal(err)
		}
		n, err := node.Start(home)
		if err != nil {
			t.Fatal(err)
		}
		waitIndexed(t, n, height+1)
		_, body := get(t, n.APIAddr(), "/explorer/accounts/"+net.Addr(1).String()+"/history?limit=100")
		var p explorer.Page[explorer.Entry]
		json.Unmarshal([]byte(body), &p)
		if len(p.Items) != 6 {
			t.Fatalf("round %d (wiped %v): %d history entries after restart, want 6", round, wipe, len(p.Items))
		}
		height = n.Comet.BlockStore().Height()
		if err := n.Stop(); err != nil {
			t.Logf("stop: %v", err)
		}
	}
}
