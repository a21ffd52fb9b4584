package node

import (
	"fmt"
	"net"
	"net/http"
	"sync"

	cfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/internal/httpguard"
	"github.com/tenun-chain/tenun/label"
)

// cometOnce lets the first node of the process with metrics on register
// CometBFT's metrics in the default registry; they register by global
// name, so a second in-process node (tests) gets no-op ones instead of a
// duplicate-registration panic.
var cometOnce sync.Once

func cometMetrics(ic *cfg.InstrumentationConfig, on bool) nm.MetricsProvider {
	c := *ic
	c.Prometheus = false
	if on {
		cometOnce.Do(func() { c.Prometheus = true })
	}
	return nm.DefaultMetricsProvider(&c)
}

// startMetrics serves /metrics on addr (loopback by default): the node's
// application metrics, CometBFT's and the Go runtime's.
func (n *Node) startMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen on %s (instrumentation.prometheus_listen_addr): %w", addr, err)
	}
	n.metLn = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.Metrics.Handler(prometheus.DefaultGatherer))
	n.metSrv = httpguard.Serve(ln, mux, httpguard.Local, func(err error) { n.logger().Error("metrics server stopped", "err", err) })
	return nil
}

// MetricsAddr is where /metrics is served ("" when metrics are off).
func (n *Node) MetricsAddr() string {
	if n.metLn == nil {
		return ""
	}
	return n.metLn.Addr().String()
}

func (a *ABCI) mempoolSize() int {
	if a.mempool == nil {
		return 0
	}
	return a.mempool.Size()
}

// jobCounts counts the committed jobs of the markets that have jobs, by
// market and status (each market's jobs query, so at most its listing cap).
func jobCounts(a *ABCI) map[[2]string]int {
	out := map[[2]string]int{}
	kv, _, err := a.Snapshot()
	if err != nil {
		return out
	}
	if v, err := a.App().Query(kv, "label", "jobs", nil); err == nil {
		if jobs, ok := v.([]label.Job); ok {
			for _, j := range jobs {
				out[[2]string{"label", j.Status}]++
			}
		}
	}
	if v, err := a.App().Query(kv, "compute", "jobs", map[string]string{"limit": "100000"}); err == nil {
		if jobs, ok := v.([]compute.Job); ok {
			for _, j := range jobs {
				out[[2]string{"compute", j.Status}]++
			}
		}
	}
	return out
}
