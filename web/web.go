// Package web is the node's read-only dashboard: a page at / (assets
// embedded, no network needed) and the JSON endpoints under /explorer/
// behind it, served on the API address. Lists come from the explorer index
// a page at a time by cursor; state comes from the last committed snapshot;
// new blocks reach open pages as server-sent events.
package web

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/tenun-chain/tenun/explorer"
	"github.com/tenun-chain/tenun/node"
)

//go:embed assets
var assets embed.FS

func init() {
	node.RegisterService(func() node.Service { return &Dashboard{} })
}

// Dashboard is the dashboard as a node service: the index, its follower and
// the live feed.
type Dashboard struct {
	n      *node.Node
	index  *explorer.Index
	cancel context.CancelFunc
	done   chan struct{}
	live   *broker
}

// IndexDir is where a node home keeps the explorer index.
func IndexDir(home string) string { return filepath.Join(home, "data", "explorer") }

// Start opens the index, starts following the chain and mounts the routes.
func (d *Dashboard) Start(n *node.Node, mux *http.ServeMux) error {
	x, err := explorer.Open(IndexDir(n.Home))
	if err != nil {
		return err
	}
	d.n, d.index, d.live, d.done = n, x, newBroker(), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		defer close(d.done)
		if err := explorer.Follow(ctx, n, x, d.live.publish); err != nil {
			n.Comet.Logger.Error("explorer index stopped", "err", err)
		}
	}()
	d.Routes(mux)
	return nil
}

// Stop ends the follower and the live streams and closes the index.
func (d *Dashboard) Stop() error {
	if d.cancel == nil {
		return nil
	}
	d.cancel()
	<-d.done
	d.live.close()
	return d.index.Close()
}

// Routes mounts the page, its assets and the explorer endpoints.
func (d *Dashboard) Routes(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		files.ServeHTTP(w, r)
	})))
	d.listRoutes(mux)
	mux.HandleFunc("GET /explorer/overview", d.handleOverview)
	mux.HandleFunc("GET /explorer/blocks/{height}", d.handleBlock)
	mux.HandleFunc("GET /explorer/txs/{hash}", d.handleTx)
	mux.HandleFunc("GET /explorer/accounts/{addr}", d.handleAccount)
	mux.HandleFunc("GET /explorer/search", d.handleSearch)
	mux.HandleFunc("GET /explorer/live", d.handleLive)
}

// listRoutes mounts the paginated lists, which read the index alone.
func (d *Dashboard) listRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /explorer/blocks", d.handleBlocks)
	mux.HandleFunc("GET /explorer/txs", d.handleTxs)
	mux.HandleFunc("GET /explorer/accounts/{addr}/history", d.handleHistory)
}

// ListHandler serves the list endpoints (blocks, transactions, account
// history) of an index with no node behind it: what `tenun bench api` times.
func ListHandler(x *explorer.Index) http.Handler {
	mux := http.NewServeMux()
	(&Dashboard{index: x}).listRoutes(mux)
	return mux
}

// setPageHeaders forbids inline and foreign scripts, so a value that slipped
// into markup could not run even if rendering failed to escape it.
func setPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// broker fans new blocks out to the open live streams.
type broker struct {
	mu     sync.Mutex
	subs   map[chan explorer.BlockData]struct{}
	closed chan struct{}
}

func newBroker() *broker {
	return &broker{subs: map[chan explorer.BlockData]struct{}{}, closed: make(chan struct{})}
}

func (b *broker) subscribe() (chan explorer.BlockData, func()) {
	ch := make(chan explorer.BlockData, 16)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// publish never blocks the index: a stream that cannot keep up misses
// blocks (the page reloads its lists on the next one it gets).
func (b *broker) publish(d explorer.BlockData) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- d:
		default:
		}
	}
}

func (b *broker) close() {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
}

func (d *Dashboard) String() string { return fmt.Sprintf("dashboard of %s", d.n.Home) }
