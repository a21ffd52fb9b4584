package data_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/data/gateway"
	"github.com/tenun-chain/tenun/internal/testnode"
)

// Three contributors feed a dataset; one sends duplicates and malformed
// records. A buyer buys a snapshot; the payout matches accepted records
// exactly; a non-buyer is refused the data.
func TestDataMarketScenario(t *testing.T) {
	net := testnode.Start(t, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := net.Client
	curator, honest1, honest2, sloppy, buyer, outsider := 0, 1, 2, 3, 4, 5

	const price = 1_000_003 // not divisible, so rounding is exercised
	_, err := c.Submit(ctx, net.Keys[curator], &data.MsgCreate{
		Name: "jakarta-telemetry", Description: "vehicle telemetry", Schema: agent.VehicleSchema(),
		License: "CC-BY-4.0", Price: price, CuratorBps: 1000, MaxBatch: 100,
	}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}

	feed := func(i int, id string, n int) *agent.VehicleFeed {
		return agent.NewVehicleFeed(id, uint64(i), 1_700_000_000, n)
	}
	st1, err := agent.Contribute(ctx, c, net.Keys[honest1], 1, feed(1, "car-1", 30), 10)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := agent.Contribute(ctx, c, net.Keys[honest2], 1, feed(2, "car-2", 50), 25)
	if err != nil {
		t.Fatal(err)
	}
	// The sloppy contributor copies honest1's records, sends malformed ones,
	// and a few good ones of its own.
	var copied [][]string
	f1 := feed(1, "car-1", 5)
	for {
		r, err := f1.Next()
		if err != nil {
			break
		}
		copied = append(copied, r)
	}
	sloppyRecs := append(copied,
		[]string{"car-9", "not-a-time", "1.0", "2.0", "50"},    // bad int
		[]string{"car-9", "1700000001", "95.0", "2.0", "50"},   // lat out of range
		[]string{"car-9", "1700000002", "1.0"},                 // short record
		[]string{"car-9", "1700000003", "1.0", "2.0", "50.5"},  // good
		[]string{"car-9", "1700000004", "1.0", "2.0", "51.25"}, // good
		[]string{"car-9", "1700000004", "1.0", "2.0", "51.25"}, // duplicate within the batch
	)
	res, err := agent.SubmitBatch(ctx, c, net.Keys[sloppy], 1, sloppyRecs)
	if err != nil {
		t.Fatalf("sloppy batch with 2 good records should be accepted in part: %v", err)
	}
	rejects := 0
	for _, e := range res.Events {
		if e.Type == "data_reject" {
			rejects++
		}
	}
	if rejects != 9 {
		t.Fatalf("want 9 rejected records (5 copies, 3 malformed, 1 duplicate), got %d: %+v", rejects, res.Events)
	}
	// A batch of only duplicates is rejected whole and changes nothing.
	before, _ := c.Balance(ctx, net.Addr(sloppy))
	_, err = c.Submit(ctx, net.Keys[sloppy], &data.MsgContribute{Dataset: 1, Records: copied}, client.Options{})
	var txErr *client.TxError
	if !errors.As(err, &txErr) || !strings.Contains(txErr.Res.Log, "duplicate") {
		t.Fatalf("all-duplicate batch: %v", err)
	}
	if after, _ := c.Balance(ctx, net.Addr(sloppy)); after != before {
		t.Fatalf("rejected batch changed the balance: %d -> %d", before, after)
	}
	if st1.Accepted != 30 || st2.Accepted != 50 {
		t.Fatalf("honest contributors: %+v %+v", st1, st2)
	}

	if _, err := c.Submit(ctx, net.Keys[curator], &data.MsgSnapshot{Dataset: 1, Note: "v1"}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	balances := map[int]uint64{}
	for _, who := range []int{curator, honest1, honest2, sloppy} {
		balances[who], _ = c.Balance(ctx, net.Addr(who))
	}
	if _, err := c.Submit(ctx, net.Keys[buyer], &data.MsgBuy{Dataset: 1, Version: 1}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	// Expected split: 10% to the curator, the rest by accepted records
	// (30, 50, 2 of 82), rounded down, remainder to the curator.
	pool := uint64(price) - price*1000/10000
	want := map[int]uint64{honest1: pool * 30 / 82, honest2: pool * 50 / 82, sloppy: pool * 2 / 82}
	want[curator] = price - want[honest1] - want[honest2] - want[sloppy]
	var total uint64
	for who, w := range want {
		got, _ := c.Balance(ctx, net.Addr(who))
		if got-balances[who] != w {
			t.Errorf("account %d earned %d, want %d", who, got-balances[who], w)
		}
		total += w
	}
	if total != price {
		t.Fatalf("split adds to %d, price %d", total, price)
	}
	// Buying twice is refused.
	if _, err := c.Submit(ctx, net.Keys[buyer], &data.MsgBuy{Dataset: 1, Version: 1}, client.Options{}); !errors.As(err, &txErr) || txErr.Res.Code != chain.ErrConflict.Code {
		t.Fatalf("second buy: %v", err)
	}

	// The buyer downloads the 82 records; the outsider is refused.
	csvBytes, err := agent.Download(ctx, c, net.Keys[buyer], 1, 0, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(csvBytes), "\n"); lines != 83 {
		t.Fatalf("download has %d lines, want header + 82", lines)
	}
	_, err = agent.Download(ctx, c, net.Keys[outsider], 1, 0, "csv")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("non-buyer download: %v", err)
	}
	// A forged signature (outsider signs, claims the buyer's key) is refused.
	req, _ := http.NewRequest(http.MethodGet, c.Base()+"/data/1/download", nil)
	gateway.SignGatewayRequest(req, net.Keys[outsider], "tenun-test", time.Now())
	req.Header.Set(gateway.HeaderPubKey, strings.ToLower(hexOf(net.Keys[buyer].PubKey().Bytes())))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged request: HTTP %d", resp.StatusCode)
	}

	// A hand-made lineage edge is kept apart as an unverified claim: the
	// chain's tree does not follow it.
	if _, err := c.Submit(ctx, net.Keys[curator], &data.MsgLink{From: "dataset/1@1", To: "model/abcd", Relation: "trained"}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	var trace struct {
		Edges      []data.Edge    `json:"edges"`
		Versions   []data.Version `json:"versions"`
		Unverified []data.Edge    `json:"unverified"`
	}
	if err := c.Query(ctx, "data", "lineage/model/abcd", nil, &trace); err != nil || len(trace.Versions) != 0 || len(trace.Edges) != 0 ||
		len(trace.Unverified) != 1 || trace.Unverified[0].Verified || trace.Unverified[0].From != "dataset/1@1" {
		t.Fatalf("trace: %+v %v", trace, err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, x := range b {
		out[2*i], out[2*i+1] = digits[x>>4], digits[x&15]
	}
	return string(out)
}
