package node_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	promodel "github.com/prometheus/common/model"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	computeagent "github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/data"
	dataagent "github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/node/metrics"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/registry"
)

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(promodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value is the sample of fam whose labels include want (nil: none found).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) *float64 {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.Metric {
		ok := true
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		var x float64
		switch {
		case m.Counter != nil:
			x = m.Counter.GetValue()
		case m.Gauge != nil:
			x = m.Gauge.GetValue()
		case m.Histogram != nil:
			x = float64(m.Histogram.GetSampleCount())
		}
		return &x
	}
	return nil
}

// After activity in every market the node's metrics endpoint (on by
// default, on loopback) reports each transaction by type and result, the
// blocks, the mempool, the jobs by market and state and the API latency,
// with the counts of what happened.
func TestMetricsAfterActivityInEveryMarket(t *testing.T) {
	net := testnode.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := net.Client
	if net.Node.MetricsAddr() == "" {
		t.Fatal("metrics are off by default")
	}
	want := map[[2]string]float64{} // (type, result) -> count
	run := func(key int, msg chain.Msg) {
		t.Helper()
		_, err := c.Submit(ctx, net.Keys[key], msg, client.Options{})
		var te *client.TxError
		switch {
		case err == nil:
			want[[2]string{msg.Type(), metrics.ResultCommitted}]++
		case errors.As(err, &te) && te.Res.Height == 0:
			t.Logf("%s refused: %s", msg.Type(), te.Res.Log)
			want[[2]string{msg.Type(), metrics.ResultRefused}]++
		default:
			t.Fatalf("%s: %v", msg.Type(), err)
		}
	}
	blob := func(key int, content []byte) string {
		cid, err := c.RegisterBlob(ctx, net.Keys[key], content)
		if err != nil {
			t.Fatal(err)
		}
		want[[2]string{"blob/register", metrics.ResultCommitted}]++
		return cid
	}
	// bank: one transfer, one overdraft (refused).
	run(0, &chain.MsgSend{To: net.Addr(1), Amount: 5})
	run(1, &chain.MsgSend{To: net.Addr(0), Amount: 1 << 62})
	// data: a dataset and a batch.
	run(0, &data.MsgCreate{Name: "m", Schema: dataagent.VehicleSchema(), License: "CC0", Price: 10, CuratorBps: 10000, MaxBatch: 10})
	if _, err := dataagent.SubmitBatch(ctx, c, net.Keys[1], 1, [][]string{{"car", "1700000000", "1.0", "2.0", "50"}}); err != nil {
		t.Fatal(err)
	}
	want[[2]string{"data/contribute", metrics.ResultCommitted}]++
	// label: a job with inline items.
	lj := &label.MsgCreateJob{Title: "t", Labels: []string{"a", "b"}, ItemKind: label.KindText, Items: []string{"x", "y"},
		Redundancy: 1, MaxRedundancy: 1, Reward: 1000, Stake: 1000, DeadlineBlocks: 1000, RevealBlocks: 100, GraceBlocks: 100,
		QualityPPM: 300_000, BatchSize: 2, MaxPerWorker: 2}
	run(0, lj)
	// compute: a job of the tiny module.
	mod := blob(0, computeagent.TinyModule)
	run(0, &compute.MsgPostJob{Spec: compute.Spec{Module: mod, MemoryBytes: 16 << 20, Fuel: compute.FuelPerUnit, WallSeconds: 30, MaxOutputBytes: 1 << 20},
		MaxPrice: 1, Redundancy: 2, Timeout: 600, DeadlineBlocks: 6000})
	// subnet: a subnet over a dataset blob.
	ds := blob(2, []byte("1,2,3\n"))
	hp := subnet.DefaultHyperparams()
	run(2, &subnet.MsgCreate{Task: "t", Dataset: ds, Tempo: 10, Yuma: &hp, MaxUIDs: 4})
	// zkml: a model commitment.
	arch, err := registry.ArchOf(model.Arch{Sizes: []int{4, 3, 2}, InBits: 4, Shifts: []int{2}, BiasBits: []int{8, 8}})
	if err != nil {
		t.Fatal(err)
	}
	run(1, &registry.MsgCommitModel{Arch: arch, Name: "m"})

	h, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForHeight(ctx, h.Height+1); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, net.Node.MetricsAddr())
	for k, n := range want {
		got := value(fams, "tenun_txs_total", map[string]string{"type": k[0], "result": k[1]})
		if got == nil || *got != n {
			t.Errorf("tenun_txs_total{type=%q,result=%q} = %v, want %v", k[0], k[1], got, n)
		}
	}
	for _, market := range []string{"data", "label", "compute", "subnet", "zkml"} {
		found := false
		for k := range want {
			found = found || (len(k[0]) > len(market) && k[0][:len(market)+1] == market+"/")
		}
		if !found {
			t.Errorf("no %s transaction counted", market)
		}
	}
	// Jobs by market and state match the markets' own queries.
	var ljobs []label.Job
	var cjobs []compute.Job
	if err := c.Query(ctx, "label", "jobs", nil, &ljobs); err != nil || len(ljobs) != 1 {
		t.Fatalf("label jobs %v %v", ljobs, err)
	}
	if err := c.Query(ctx, "compute", "jobs", nil, &cjobs); err != nil || len(cjobs) != 1 {
		t.Fatalf("compute jobs %v %v", cjobs, err)
	}
	for market, state := range map[string]string{"label": ljobs[0].Status, "compute": cjobs[0].Status} {
		if got := value(fams, "tenun_jobs", map[string]string{"market": market, "state": state}); got == nil || *got != 1 {
			t.Errorf("tenun_jobs{market=%q,state=%q} = %v, want 1", market, state, got)
		}
	}
	// Blocks, height, mempool, API latency, and CometBFT's own metrics.
	height := value(fams, "tenun_block_height", nil)
	blocks := value(fams, "tenun_blocks_total", nil)
	if height == nil || *height < float64(h.Height) || blocks == nil || *blocks < float64(h.Height) {
		t.Errorf("height %v blocks %v, want at least %d", height, blocks, h.Height)
	}
	if m := value(fams, "tenun_mempool_size", nil); m == nil {
		t.Error("no tenun_mempool_size")
	}
	if n := value(fams, "tenun_api_request_duration_seconds", map[string]string{"route": "POST /tx", "code": "200"}); n == nil || *n < 6 {
		t.Errorf("API latency of POST /tx: %v samples", n)
	}
	if n := value(fams, "tenun_api_request_duration_seconds", map[string]string{"route": "POST /tx", "code": "422"}); n == nil || *n < 1 {
		t.Errorf("API latency of refused POST /tx: %v samples", n)
	}
	if fams["go_goroutines"] == nil {
		t.Error("no Go runtime metrics")
	}
	// Health and readiness.
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(c.Base() + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: HTTP %d", p, resp.StatusCode)
		}
	}
}

// Slashes are counted by reason from the slash events a block carries
// (a real chain.Slash over a store; no market has to misbehave for it).
func TestMetricsCountSlashesByReason(t *testing.T) {
	kv := store.NewMemory()
	ctx := chain.NewContext(kv, chain.Block{Height: 1}, chain.DefaultParams())
	who := chain.ModuleAddress("someone")
	if err := chain.Mint(ctx, who, 1000); err != nil {
		t.Fatal(err)
	}
	if err := chain.Bond(ctx, who, "label", 1000); err != nil {
		t.Fatal(err)
	}
	for i, reason := range []string{"spam", "spam", "double-sign"} {
		if _, err := chain.Slash(ctx, who, "label", reason, 10, chain.Address{}); err != nil {
			t.Fatalf("slash %d: %v", i, err)
		}
	}
	m := metrics.New(func() int { return 0 }, func() map[[2]string]int { return nil })
	m.ObserveBlock(1, chain.BlockResult{Events: ctx.Events()})
	fams := gather(t, m)
	for reason, n := range map[string]float64{"spam": 2, "double-sign": 1} {
		if got := value(fams, "tenun_slashes_total", map[string]string{"reason": reason}); got == nil || *got != n {
			t.Errorf("tenun_slashes_total{reason=%q} = %v, want %v", reason, got, n)
		}
	}
}

func gather(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}
