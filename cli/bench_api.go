package cli

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/bench/report"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/explorer"
	"github.com/tenun-chain/tenun/internal/progress"
	"github.com/tenun-chain/tenun/web"
)

func init() { benchCmd.AddCommand(newBenchAPICmd()) }

// apiQuery is one endpoint's latency on the small and the big chain.
type apiQuery struct {
	Query     string  `json:"query"`
	SmallP50  float64 `json:"small_p50_us"`
	SmallP99  float64 `json:"small_p99_us"`
	BigP50    float64 `json:"big_p50_us"`
	BigP99    float64 `json:"big_p99_us"`
	P50Ratio  float64 `json:"big_vs_small_p50_ratio"`
	P99Ratio  float64 `json:"big_vs_small_p99_ratio"`
	SmallRows int     `json:"small_rows"` // rows behind the query (all txs, or the account's history)
	BigRows   int     `json:"big_rows"`
}

// apiBench is the output of `tenun bench api`.
type apiBench struct {
	SmallTxs       int        `json:"small_txs"`
	BigTxs         int        `json:"big_txs"`
	PageSize       int        `json:"page_size"`
	Requests       int        `json:"requests_per_query"`
	FilledDirectly bool       `json:"filled_directly"` // through explorer.Index.Write, not consensus
	FillSeconds    float64    `json:"big_fill_seconds"`
	Queries        []apiQuery `json:"queries"`
}

// benchChain is a synthetic chain's index served over loopback HTTP.
type benchChain struct {
	txs, blocks, perBlock int
	busy                  chain.Address // receives every second transaction
	busyRows              int
	base                  string
	stop                  func()
}

func benchAddr(i int) chain.Address {
	sum := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("bench-api/"), uint64(i)))
	var a chain.Address
	copy(a[:], sum[:])
	return a
}

// fillChain writes txs transfers, perBlock to a block, between 1000
// accounts, one of which (the busy account) receives every second, so even
// the small chain's history has full pages before a deep cursor.
func fillChain(dir string, txs, perBlock int, out io.Writer) (*benchChain, *explorer.Index, error) {
	x, err := explorer.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	bc := &benchChain{txs: txs, perBlock: perBlock, busy: benchAddr(0)}
	var bar *progress.Bar
	if out != nil {
		bar = progress.New(out, int64(txs), fmt.Sprintf("index %d transactions", txs), "txs")
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for n, h := 0, int64(1); n < txs; h++ {
		t := start.Add(time.Duration(h) * time.Second).Format(time.RFC3339Nano)
		d := explorer.BlockData{Block: explorer.Block{Height: h, Time: t, Hash: strings.Repeat("AB", 32), Proposer: "BENCH"}}
		for i := 0; i < perBlock && n < txs; i, n = i+1, n+1 {
			from, to := benchAddr(1+n%999), benchAddr(1+(n*7+3)%999)
			if n%2 == 0 {
				to = bc.busy
				bc.busyRows++
			}
			sum := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(n)))
			d.Txs = append(d.Txs, explorer.TxData{
				Tx:  explorer.Tx{Hash: strings.ToUpper(hex.EncodeToString(sum[:])), Height: h, Index: uint32(i), Time: t, Type: "bank/send", Sender: from.String(), Fee: 10},
				Msg: []byte(`{"to":"` + to.String() + `","amount":5}`),
				Events: []chain.Event{{Type: "transfer", Attrs: []chain.Attribute{
					{Key: "sender", Value: from.String()}, {Key: "recipient", Value: to.String()}, {Key: "amount", Value: "5"}}}},
			})
		}
		d.Block.Txs = len(d.Txs)
		if err := x.Write(d); err != nil {
			x.Close()
			return nil, nil, err
		}
		bc.blocks = int(h)
		if bar != nil {
			bar.Add(len(d.Txs))
		}
	}
	if bar != nil {
		bar.Finish()
	}
	return bc, x, nil
}

// cursorAt is the cursor just before the chain's n-th transaction, picked at
// random from those with at least skip older ones (fewer on a short chain).
func (bc *benchChain) cursorAt(r *rand.Rand, skip int) string {
	skip = min(skip, bc.txs/2)
	n := skip + r.IntN(bc.txs-skip)
	return explorer.Cursor(1+int64(n/bc.perBlock), uint32(n%bc.perBlock))
}

func (bc *benchChain) serve(x *explorer.Index) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bench api: listen: %w", err)
	}
	srv := &http.Server{Handler: web.ListHandler(x), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	bc.base = "http://" + ln.Addr().String()
	bc.stop = func() { srv.Close(); x.Close() }
	return nil
}

// latencies times n GETs of the paths path(i) gives, in microseconds, sorted.
func latencies(hc *http.Client, base string, n int, path func(i int) string) ([]float64, error) {
	out := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		r, err := hc.Get(base + path(i))
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if err != nil || r.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %d %v", path(i), r.StatusCode, err)
		}
		out = append(out, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	slices.Sort(out)
	return out, nil
}

func pct(sorted []float64, p int) float64 { return sorted[(len(sorted)-1)*p/100] }

func newBenchAPICmd() *cobra.Command {
	var small, big, perBlock, requests, limit int
	var quiet bool
	cmd := &cobra.Command{
		Use:   "api",
		Short: "p50/p99 latency of the dashboard's transaction list and account history on a chain of 100,000 transactions beside one of 100",
		Long: `Fills two explorer indexes through the index's write path (explorer.Index.Write,
what the node's follower calls after each commit; the transactions do not run
through consensus) with synthetic transfers, serves their list endpoints over
loopback HTTP, and times the first and a random deep page of the transaction
list and of the busiest account's history (it receives every second transaction)
on each. Cursor pagination makes a page cost the same whatever the chain's
length: the ratios big/small stay near 1.`,
		Example: `  tenun bench api
  tenun bench api --big 1000000 --requests 500 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := os.MkdirTemp("", "tenun-bench-api-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			var progress io.Writer
			if !quiet {
				progress = cmd.ErrOrStderr()
			}
			res := apiBench{SmallTxs: small, BigTxs: big, PageSize: limit, Requests: requests, FilledDirectly: true}
			chains := make([]*benchChain, 2)
			for i, n := range []int{small, big} {
				t0 := time.Now()
				bc, x, err := fillChain(filepath.Join(dir, strconv.Itoa(i)), n, perBlock, progress)
				if err != nil {
					return err
				}
				if i == 1 {
					res.FillSeconds = time.Since(t0).Seconds()
				}
				if err := bc.serve(x); err != nil {
					x.Close()
					return err
				}
				defer bc.stop()
				chains[i] = bc
			}
			hc := &http.Client{Timeout: 10 * time.Second}
			queries := []struct {
				name string
				rows func(bc *benchChain) int
				path func(bc *benchChain, r *rand.Rand) string
			}{
				{"transactions, first page", func(bc *benchChain) int { return bc.txs },
					func(bc *benchChain, _ *rand.Rand) string { return fmt.Sprintf("/explorer/txs?limit=%d", limit) }},
				{"transactions, random page (cursor)", func(bc *benchChain) int { return bc.txs },
					func(bc *benchChain, r *rand.Rand) string {
						return fmt.Sprintf("/explorer/txs?limit=%d&cursor=%s", limit, bc.cursorAt(r, limit))
					}},
				{"account history, first page", func(bc *benchChain) int { return bc.busyRows },
					func(bc *benchChain, _ *rand.Rand) string {
						return fmt.Sprintf("/explorer/accounts/%s/history?limit=%d", bc.busy, limit)
					}},
				{"account history, random page (cursor)", func(bc *benchChain) int { return bc.busyRows },
					func(bc *benchChain, r *rand.Rand) string {
						return fmt.Sprintf("/explorer/accounts/%s/history?limit=%d&cursor=%s", bc.busy, limit, bc.cursorAt(r, 2*limit))
					}},
			}
			for _, q := range queries {
				var lat [2][]float64
				for i, bc := range chains {
					r := rand.New(rand.NewPCG(1, uint64(i)))
					// A short warm-up, so both chains are timed with warm caches.
					if _, err := latencies(hc, bc.base, requests/10+1, func(int) string { return q.path(bc, r) }); err != nil {
						return err
					}
					if lat[i], err = latencies(hc, bc.base, requests, func(int) string { return q.path(bc, r) }); err != nil {
						return err
					}
				}
				aq := apiQuery{Query: q.name, SmallP50: pct(lat[0], 50), SmallP99: pct(lat[0], 99), BigP50: pct(lat[1], 50), BigP99: pct(lat[1], 99),
					SmallRows: q.rows(chains[0]), BigRows: q.rows(chains[1])}
				aq.P50Ratio, aq.P99Ratio = report.Ratio(aq.BigP50, aq.SmallP50), report.Ratio(aq.BigP99, aq.SmallP99)
				res.Queries = append(res.Queries, aq)
			}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "explorer API bench: pages of %d, %d requests per query, loopback HTTP\n", limit, requests)
				fmt.Fprintf(w, "  chains: %d and %d transactions, indexes filled directly through explorer.Index.Write (not through consensus); big fill %.1f s\n",
					small, big, res.FillSeconds)
				fmt.Fprintf(w, "  %-40s %12s %12s %12s %12s %8s %8s\n", "query", "small p50", "small p99", "big p50", "big p99", "p50 x", "p99 x")
				for _, q := range res.Queries {
					fmt.Fprintf(w, "  %-40s %10.0fus %10.0fus %10.0fus %10.0fus %8.2f %8.2f\n", q.Query, q.SmallP50, q.SmallP99, q.BigP50, q.BigP99, q.P50Ratio, q.P99Ratio)
				}
				fmt.Fprintf(w, "  (x = big/small; rows behind the history query: %d and %d)\n", res.Queries[2].SmallRows, res.Queries[2].BigRows)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&small, "small", 100, "transactions on the small chain")
	f.IntVar(&big, "big", 100_000, "transactions on the big chain")
	f.IntVar(&perBlock, "per-block", 100, "transactions per block")
	f.IntVar(&requests, "requests", 300, "timed requests per query and chain")
	f.IntVar(&limit, "limit", 25, "page size")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}
