package gateway_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/data/gateway"
	"github.com/tenun-chain/tenun/internal/testnode"
)

// Before, a signed download could be replayed for five minutes and its
// signature covered neither the query (format) nor the host. Now each
// signed request is accepted once, and changing its query or host breaks
// the signature.
func TestGatewayRefusesReplayAndTampering(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := net.Client
	curator, buyer := 0, 1
	if _, err := c.Submit(ctx, net.Keys[curator], &data.MsgCreate{Name: "t", Schema: agent.VehicleSchema(), License: "CC0", Price: 100, CuratorBps: 10000, MaxBatch: 10}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Contribute(ctx, c, net.Keys[curator], 1, agent.NewVehicleFeed("car", 1, 1_700_000_000, 5), 5); err != nil {
		t.Fatal(err)
	}
	for _, m := range []interface {
		Type() string
		ValidateBasic() error
	}{&data.MsgSnapshot{Dataset: 1}, &data.MsgBuy{Dataset: 1, Version: 1}} {
		key := net.Keys[curator]
		if _, ok := m.(*data.MsgBuy); ok {
			key = net.Keys[buyer]
		}
		if _, err := c.Submit(ctx, key, m, client.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	do := func(req *http.Request) int {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	signed := func(query string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, c.Base()+"/data/1/download?"+query, nil)
		if err := gateway.SignGatewayRequest(req, net.Keys[buyer], "tenun-test", time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	req := signed("format=csv")
	if st := do(req); st != http.StatusOK {
		t.Fatalf("first request: HTTP %d", st)
	}
	replay, _ := http.NewRequest(http.MethodGet, req.URL.String(), nil)
	replay.Header = req.Header.Clone()
	if st := do(replay); st != http.StatusForbidden {
		t.Fatalf("replayed request: HTTP %d, want 403", st)
	}
	// The query is signed: the same headers on another format are refused.
	req = signed("format=csv")
	other, _ := http.NewRequest(http.MethodGet, c.Base()+"/data/1/download?format=jsonl", nil)
	other.Header = req.Header.Clone()
	if st := do(other); st != http.StatusForbidden {
		t.Fatalf("query changed after signing: HTTP %d, want 403", st)
	}
	if st := do(req); st != http.StatusOK { // the untampered one still works once
		t.Fatalf("signed request after a tampered copy: HTTP %d", st)
	}
	// The host is signed: a request signed for another node is refused.
	req = signed("format=csv")
	req.Host = "other-node.example:26658"
	if st := do(req); st != http.StatusForbidden {
		t.Fatalf("host changed after signing: HTTP %d, want 403", st)
	}
	// The agent's download signs afresh each time, so it can repeat.
	for i := 0; i < 2; i++ {
		if _, err := agent.Download(ctx, c, net.Keys[buyer], 1, 0, "csv"); err != nil {
			t.Fatalf("download %d: %v", i, err)
		}
	}
}
