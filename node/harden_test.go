package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/httpguard"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

// The node API (and the gateway routes on it) closes 1,000 slow-body and
// idle connections while an honest client's query completes in a second.
func TestAPIClosesAttackers(t *testing.T) {
	old := node.APILimits
	node.APILimits = httpguard.Limits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond,
		WriteTimeout: 5 * time.Second, IdleTimeout: 300 * time.Millisecond, MaxConns: 1500, MaxBody: old.MaxBody}
	t.Cleanup(func() { node.APILimits = old })
	net := testnode.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := net.Client.WaitForHeight(ctx, 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var res httpguard.AttackResult
	var aerr error
	go func() {
		defer close(done)
		res, aerr = httpguard.Attack(net.Node.APIAddr(), "/blobs", 1000, 6*time.Second)
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if _, err := net.Client.Balance(ctx, net.Addr(0)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("honest query took %v under attack", d)
	}
	<-done
	if aerr != nil {
		t.Fatal(aerr)
	}
	t.Logf("attack on the API: %d opened, %d closed, slowest after %v", res.Opened, res.Closed, res.Slowest)
	if res.Closed != res.Opened {
		t.Fatalf("%d of %d attacking connections still open", res.Opened-res.Closed, res.Opened)
	}
}

// Before, the mempool's refusals (a duplicate, a transaction too large)
// came back as 503 "internal", which the client took for a network
// failure. Each refusal now has its own status and the client reports it
// as a refusal with the chain's code and the reason.
func TestSubmitStatusCodes(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	post := func(body []byte) (int, api.TxResponse) {
		resp, err := http.Post("http://"+net.Node.APIAddr()+"/tx", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res api.TxResponse
		json.NewDecoder(resp.Body).Decode(&res)
		return resp.StatusCode, res
	}
	chainID := "tenun-test"
	tx, err := chain.SignTx(net.Keys[0], chainID, 0, chain.DefaultParams().MinFee, &chain.MsgSend{To: net.Addr(1), Amount: 5}, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, res := post(tx); st != http.StatusOK || res.Code != 0 {
		t.Fatalf("first submission: %d %+v", st, res)
	}
	st, res := post(tx)
	if st != http.StatusConflict || res.Code != chain.ErrConflict.Code || res.Log == "" {
		t.Fatalf("duplicate: %d %+v, want 409 with code %d", st, res, chain.ErrConflict.Code)
	}
	if res, err := net.Client.BroadcastRaw(ctx, tx, false); err != nil || res.Code != chain.ErrConflict.Code {
		t.Fatalf("client on a duplicate: %+v %v, want a refusal with the code", res, err)
	}
	// Too large for the mempool, and too large for the API's body cap.
	for _, size := range []int{2 << 20, 5 << 20} {
		if st, res := post(make([]byte, size)); st != http.StatusRequestEntityTooLarge || res.Code != chain.ErrTxTooLarge.Code {
			t.Fatalf("%d-byte tx: %d %+v, want 413", size, st, res)
		}
	}
	// Refused by the rules: an overdraft.
	big, _ := chain.SignTx(net.Keys[1], chainID, 0, chain.DefaultParams().MinFee, &chain.MsgSend{To: net.Addr(0), Amount: 10 * node.DevAccountBalance}, "")
	if st, res := post(big); st != http.StatusUnprocessableEntity || res.Code != chain.ErrInsufficientFunds.Code {
		t.Fatalf("overdraft: %d %+v, want 422", st, res)
	}
	// The client calls each a refusal, with the reason.
	_, err = net.Client.Submit(ctx, net.Keys[1], &chain.MsgSend{To: net.Addr(0), Amount: 10 * node.DevAccountBalance}, client.Options{})
	var te *client.TxError
	if !errors.As(err, &te) || !client.IsRefusal(err) || te.Res.Code != chain.ErrInsufficientFunds.Code || !strings.Contains(err.Error(), "insufficient") {
		t.Fatalf("client overdraft: %v", err)
	}
	if client.IsRefusal(fmt.Errorf("POST /tx: %w", io.ErrUnexpectedEOF)) {
		t.Fatal("a network failure counted as a refusal")
	}
	if !net.Node.Ready() {
		t.Fatal("a running node is not ready")
	}
}
