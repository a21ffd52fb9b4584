// Package metrics holds the node's application metrics for Prometheus:
// transactions by type and result, blocks, mempool size, jobs by market
// and state, slashes by reason, and API latency. Each node has its own
// registry (tests run several nodes in one process); the node serves it,
// with CometBFT's and the Go runtime's metrics, on a loopback address.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenun-chain/tenun/chain"
)

// Results of a transaction, the "result" label of tenun_txs_total.
const (
	ResultCommitted = "committed" // in a block, succeeded
	ResultFailed    = "failed"    // in a block, failed (changed nothing but its fee was not charged)
	ResultRefused   = "refused"   // refused by CheckTx: never entered the mempool
)

// Metrics are one node's application metrics.
type Metrics struct {
	Registry *prometheus.Registry

	Txs        *prometheus.CounterVec
	Blocks     prometheus.Counter
	Height     prometheus.Gauge
	Slashes    *prometheus.CounterVec
	APILatency *prometheus.HistogramVec
}

// New builds the metrics in a fresh registry. mempoolSize and jobs are
// read at each scrape (jobs returns counts by market and state).
func New(mempoolSize func() int, jobs func() map[[2]string]int) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Txs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tenun", Name: "txs_total", Help: "Transactions by message type and result (committed, failed, refused).",
		}, []string{"type", "result"}),
		Blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "tenun", Name: "blocks_total", Help: "Blocks applied since the node started.",
		}),
		Height: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tenun", Name: "block_height", Help: "Height of the last applied block.",
		}),
		Slashes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tenun", Name: "slashes_total", Help: "Slashes applied, by reason.",
		}, []string{"reason"}),
		APILatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tenun", Name: "api_request_duration_seconds", Help: "HTTP API latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "code"}),
	}
	m.Registry.MustRegister(m.Txs, m.Blocks, m.Height, m.Slashes, m.APILatency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "tenun", Name: "mempool_size", Help: "Transactions in the mempool.",
		}, func() float64 { return float64(mempoolSize()) }),
		jobsCollector{jobs},
	)
	return m
}

// ObserveBlock counts a block's transactions and slashes.
func (m *Metrics) ObserveBlock(height int64, res chain.BlockResult) {
	m.Blocks.Inc()
	m.Height.Set(float64(height))
	for _, tx := range res.Txs {
		result := ResultCommitted
		if tx.Code != 0 {
			result = ResultFailed
		}
		m.Txs.WithLabelValues(typeLabel(tx.Type), result).Inc()
		m.countSlashes(tx.Events)
	}
	m.countSlashes(res.Events)
}

// ObserveRefused counts a transaction CheckTx refused.
func (m *Metrics) ObserveRefused(r chain.TxResult) {
	m.Txs.WithLabelValues(typeLabel(r.Type), ResultRefused).Inc()
}

func typeLabel(t string) string {
	if t == "" {
		return "undecodable"
	}
	return t
}

func (m *Metrics) countSlashes(events []chain.Event) {
	for _, e := range events {
		if e.Type != "slash" {
			continue
		}
		reason := "unknown"
		for _, a := range e.Attrs {
			if a.Key == "reason" {
				reason = a.Value
			}
		}
		m.Slashes.WithLabelValues(reason).Inc()
	}
}

// Instrument records each request's latency under its route pattern (not
// its path, so the label set stays small).
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.APILatency.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Handler serves the node's metrics and, with extra, other gatherers
// (CometBFT's metrics live in the process-wide default registry).
func (m *Metrics) Handler(extra ...prometheus.Gatherer) http.Handler {
	g := prometheus.Gatherers{m.Registry}
	g = append(g, extra...)
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// RuntimeCollectors are the Go runtime and process metrics, for a
// registry that lacks them.
func RuntimeCollectors() []prometheus.Collector {
	return []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
}

var jobsDesc = prometheus.NewDesc("tenun_jobs", "Jobs in the committed state by market and state.", []string{"market", "state"}, nil)

type jobsCollector struct{ jobs func() map[[2]string]int }

func (c jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c jobsCollector) Collect(ch chan<- prometheus.Metric) {
	for k, n := range c.jobs() { // exposition order is sorted by the library
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
