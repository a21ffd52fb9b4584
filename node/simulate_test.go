package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

// POST /simulate answers what a transaction would do against the check
// state, and changes nothing: no balance, no sequence, no block.
func TestSimulate(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice, bob := net.Addr(0), net.Addr(1)
	before, err := net.Client.Account(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	res, err := net.Client.Simulate(ctx, net.Keys[0], &chain.MsgSend{To: bob, Amount: 1234}, client.Options{})
	if err != nil || res.Code != 0 || len(res.Events) == 0 {
		t.Fatalf("simulate send: %+v %v", res, err)
	}
	res, err = net.Client.Simulate(ctx, net.Keys[1], &chain.MsgSend{To: alice, Amount: 10 * node.DevAccountBalance}, client.Options{})
	if err != nil || res.Code != chain.ErrInsufficientFunds.Code || res.Log == "" {
		t.Fatalf("simulate overdraft: %+v %v", res, err)
	}
	// Simulate twice with the same sequence: the first left no trace.
	res, err = net.Client.Simulate(ctx, net.Keys[0], &chain.MsgSend{To: bob, Amount: 1}, client.Options{})
	if err != nil || res.Code != 0 {
		t.Fatalf("second simulate: %+v %v", res, err)
	}
	after, err := net.Client.Account(ctx, alice)
	if err != nil || after.Sequence != before.Sequence || after.Balance != before.Balance {
		t.Fatalf("simulation changed the account: %+v -> %+v (%v)", before, after, err)
	}
	if bal, _ := net.Client.Balance(ctx, bob); bal != node.DevAccountBalance {
		t.Fatalf("bob has %d", bal)
	}
	// Garbage is refused with a code, not a crash.
	var out api.TxResponse
	if err := net.Client.Do(ctx, "POST", "/simulate", nil, "application/octet-stream", &out); err != nil || out.Code == 0 {
		t.Fatalf("empty body: %+v %v", out, err)
	}
}
