package node_test

import (
	"context"
	"testing"
	"time"

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
