package agent

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/httpguard"
	"github.com/tenun-chain/tenun/label"
)

//go:embed web
var webFS embed.FS

// Annotator is the local labeling page behind `tenun annotate`: it serves
// the page (embedded, no external resources) on a loopback address, and
// signs the worker's join, commit, reveal and more transactions with its
// key.
//
// The page never waits for a block: an answer is kept here as a draft for
// UndoWindow (the worker may take it back), then committed in a batch with
// the drafts around it by a background loop. Commit salts go to Secrets
// before a commit is sent; the same loop reveals each commit as soon as the
// chain allows.
type Annotator struct {
	C       *client.Client
	Key     ed25519.PrivKey
	Secrets *Secrets
	// Job is the job to work on; 0 picks the newest open job.
	Job uint64
	// RevealEvery is the commit and reveal loop's period (default 1s).
	RevealEvery time.Duration
	// UndoWindow is how long an answer stays a draft that undo can take
	// back before it is committed (default 3s).
	UndoWindow time.Duration
	Logf       func(format string, args ...any)

	addr    chain.Address
	mu      sync.Mutex
	items   map[string][]Item // parsed blob items by CID
	message string            // last error or notice, shown on the page
	drafts  []draft           // answers given and not yet committed, oldest first
	skipped map[uint32]uint64 // item -> skip order: skipped items come last
	skipSeq uint64
	restore *draft // the answer undo took back: shown again, prefilled
	images  map[string]image
	blockMs int64      // mean block time, refreshed now and then
	blockAt time.Time  // when blockMs was measured
	txMu    sync.Mutex // one transaction at a time: sequences stay in order
	token   string     // per-run secret the page's API calls carry
}

// NewAnnotator returns an annotator for key on the node c talks to.
func NewAnnotator(c *client.Client, key ed25519.PrivKey, secrets *Secrets, job uint64) *Annotator {
	return &Annotator{C: c, Key: key, Secrets: secrets, Job: job, RevealEvery: time.Second, UndoWindow: 3 * time.Second,
		addr: chain.AddressFromPubKey(key.PubKey().Bytes()), items: map[string][]Item{}, skipped: map[uint32]uint64{},
		images: map[string]image{}, token: newToken()}
}

// newToken is a fresh per-run secret, as notebook servers print in their
// URL: any local process can reach a loopback port, but only whoever saw
// the URL can make the page sign.
func newToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("labeling page token: %v", err)) // the OS has no randomness to give
	}
	return hex.EncodeToString(b[:])
}

// TokenHeader carries the page's per-run token on its API calls.
const TokenHeader = "Tenun-Token"

// Token is this run's secret; the page's API refuses calls without it.
func (a *Annotator) Token() string { return a.token }

// URL is the page's address on a server listening at hostport, token included.
func (a *Annotator) URL(hostport string) string {
	u := url.URL{Scheme: "http", Host: hostport, Path: "/", RawQuery: url.Values{"token": {a.token}}.Encode()}
	return u.String()
}

// Address is the worker's address.
func (a *Annotator) Address() chain.Address { return a.addr }

func (a *Annotator) logf(format string, args ...any) {
	if a.Logf != nil {
		a.Logf(format, args...)
	}
}

func (a *Annotator) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.mu.Lock()
	a.message = msg
	a.mu.Unlock()
	if msg != "" {
		a.logf("%s", msg)
	}
}

// Handler serves the page and its JSON API.
func (a *Annotator) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web")
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) { a.reply(w, r, nil) })
	mux.HandleFunc("POST /api/join", func(w http.ResponseWriter, r *http.Request) {
		a.reply(w, r, a.submit(r.Context(), func(job uint64) chain.Msg { return &label.MsgJoin{Job: job} }))
	})
	mux.HandleFunc("POST /api/more", func(w http.ResponseWriter, r *http.Request) {
		// The chain hands out more only once every assigned item is
		// committed: the drafts go out first.
		if _, err := a.Flush(r.Context(), true); err != nil {
			a.reply(w, r, err)
			return
		}
		a.reply(w, r, a.submit(r.Context(), func(job uint64) chain.Msg { return &label.MsgMore{Job: job} }))
	})
	mux.HandleFunc("POST /api/answer", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Item uint32 `json:"item"`
			label.Answer
		}
		if !readJSON(w, r, &req, `{"item": N, "label": N} (or "value": N, or "boxes": [...])`) {
			return
		}
		a.reply(w, r, a.Answer(r.Context(), req.Item, req.Answer))
	})
	mux.HandleFunc("POST /api/skip", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Item uint32 `json:"item"`
		}
		if !readJSON(w, r, &req, `{"item": N}`) {
			return
		}
		a.reply(w, r, a.Skip(req.Item))
	})
	mux.HandleFunc("POST /api/undo", func(w http.ResponseWriter, r *http.Request) {
		_, err := a.Undo()
		a.reply(w, r, err)
	})
	mux.HandleFunc("GET /api/image", func(w http.ResponseWriter, r *http.Request) { a.serveImage(w, r) })
	return localOnly(a.requireToken(mux))
}

// readJSON decodes a small JSON body into v, answering 415 or 400 itself
// (with the shape it wants) when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// A cross-site form cannot send JSON without a CORS preflight,
		// which this server never grants.
		http.Error(w, "want Content-Type: application/json", http.StatusUnsupportedMediaType)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, fmt.Sprintf("want %s: %v", shape, err), http.StatusBadRequest)
		return false
	}
	return true
}

// requireToken refuses API calls that do not carry the run's token. The
// page itself (static files) is served without it: it holds no secret and
// reads the token from its own URL.
func (a *Annotator) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get(TokenHeader)), []byte(a.token)) != 1 {
			http.Error(w, "missing or wrong token: open the URL tenun annotate printed", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// localOnly refuses requests that did not come from a page on this
// loopback server: the server signs with the worker's key, so another web
// site must not drive it, neither by a cross-site POST (Origin) nor by DNS
// rebinding a name of its own to 127.0.0.1 (Host).
func localOnly(next http.Handler) http.Handler {
	loopback := func(hostport string) bool {
		host, _, err := net.SplitHostPort(hostport)
		if err != nil {
			host = hostport
		}
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopback(r.Host) {
			http.Error(w, "the labeling page answers only on a loopback address", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Serve runs the page on ln and the commit and reveal loop until ctx ends;
// drafts still waiting are committed on the way out.
func (a *Annotator) Serve(ctx context.Context, ln net.Listener) error {
	srv := httpguard.Server(a.Handler(), httpguard.Local)
	ln = httpguard.Listener(ln, httpguard.Local)
	go a.Loop(ctx)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
