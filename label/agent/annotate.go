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
// key. Commit salts go to Secrets before a commit is sent; a background
// loop reveals each commit as soon as the chain allows.
type Annotator struct {
	C       *client.Client
	Key     ed25519.PrivKey
	Secrets *Secrets
	// Job is the job to work on; 0 picks the newest open job.
	Job uint64
	// RevealEvery is the reveal loop's period (default 1s).
	RevealEvery time.Duration
	Logf        func(format string, args ...any)

	addr    chain.Address
	mu      sync.Mutex
	items   map[string][]Item // parsed blob items by CID
	message string            // last error or notice, shown on the page
	txMu    sync.Mutex        // one transaction at a time: sequences stay in order
	token   string            // per-run secret the page's API calls carry
}

// NewAnnotator returns an annotator for key on the node c talks to.
func NewAnnotator(c *client.Client, key ed25519.PrivKey, secrets *Secrets, job uint64) *Annotator {
	return &Annotator{C: c, Key: key, Secrets: secrets, Job: job, RevealEvery: time.Second,
		addr: chain.AddressFromPubKey(key.PubKey().Bytes()), items: map[string][]Item{}, token: newToken()}
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
		a.reply(w, r, a.submit(r.Context(), func(job uint64) chain.Msg { return &label.MsgMore{Job: job} }))
	})
	mux.HandleFunc("POST /api/label", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			// A cross-site form cannot send JSON without a CORS preflight,
			// which this server never grants.
			http.Error(w, "want Content-Type: application/json", http.StatusUnsupportedMediaType)
			return
		}
		var req struct {
			Item  uint32 `json:"item"`
			Label uint32 `json:"label"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			http.Error(w, "want {\"item\": N, \"label\": N}", http.StatusBadRequest)
			return
		}
		a.reply(w, r, a.Label(r.Context(), req.Item, req.Label))
	})
	return localOnly(a.requireToken(mux))
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

// Serve runs the page on ln and the reveal loop until ctx ends.
func (a *Annotator) Serve(ctx context.Context, ln net.Listener) error {
	srv := httpguard.Server(a.Handler(), httpguard.Local)
	ln = httpguard.Listener(ln, httpguard.Local)
	go a.RevealLoop(ctx)
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

// job returns the job to work on: a.Job, or the newest open job (then
// kept, so the page stays on it).
func (a *Annotator) job(ctx context.Context) (label.Job, error) {
	a.mu.Lock()
	id := a.Job
	a.mu.Unlock()
	if id != 0 {
		var j label.Job
		err := a.C.Query(ctx, "label", fmt.Sprintf("job/%d", id), nil, &j)
		return j, err
	}
	var jobs []label.Job
	if err := a.C.Query(ctx, "label", "jobs", url.Values{"status": {label.StatusOpen}}, &jobs); err != nil {
		return label.Job{}, err
	}
	if len(jobs) == 0 {
		return label.Job{}, errors.New("no open labeling job yet: the page will pick one up when a requester posts it")
	}
	newest := jobs[len(jobs)-1]
	a.mu.Lock()
	a.Job = newest.ID
	a.mu.Unlock()
	return newest, nil
}

func (a *Annotator) tasks(ctx context.Context, job uint64) (label.TasksView, error) {
	var tv label.TasksView
	err := a.C.Query(ctx, "label", fmt.Sprintf("tasks/%d", job), url.Values{"worker": {a.addr.String()}}, &tv)
	return tv, err
}

func (a *Annotator) send(ctx context.Context, msg chain.Msg) error {
	a.txMu.Lock()
	defer a.txMu.Unlock()
	_, err := a.C.Submit(ctx, a.Key, msg, client.Options{})
	return err
}

func (a *Annotator) submit(ctx context.Context, msg func(job uint64) chain.Msg) error {
	j, err := a.job(ctx)
	if err != nil {
		return err
	}
	return a.send(ctx, msg(j.ID))
}

// Label commits the worker's label for an assigned item, keeping the salt
// in Secrets first, and tries to reveal what it can.
func (a *Annotator) Label(ctx context.Context, item, lbl uint32) error {
	j, err := a.job(ctx)
	if err != nil {
		return err
	}
	if int(lbl) >= len(j.Labels) {
		return fmt.Errorf("label %d is outside the job's %d labels", lbl, len(j.Labels))
	}
	salt, err := a.Secrets.New(j.ID, item, lbl)
	if err != nil {
		return fmt.Errorf("save the commit salt: %w", err)
	}
	msg := &label.MsgCommit{Job: j.ID, Entries: []label.CommitEntry{{Item: item, Hash: label.CommitHash(j.ID, item, lbl, salt, a.addr)}}}
	if err := a.send(ctx, msg); err != nil {
		return fmt.Errorf("commit item %d: %w", item, err)
	}
	a.logf("committed item %d of job %d", item, j.ID)
	if _, err := a.Reveal(ctx); err != nil {
		a.logf("reveal: %v", err)
	}
	return nil
}

// Reveal reveals every commit the chain lets the worker open now and
// returns how many.
func (a *Annotator) Reveal(ctx context.Context) (int, error) {
	j, err := a.job(ctx)
	if err != nil {
		return 0, err
	}
	tv, err := a.tasks(ctx, j.ID)
	if err != nil || tv.Worker == nil || tv.Job.Status != label.StatusOpen {
		return 0, err
	}
	st, err := a.C.Status(ctx)
	if err != nil {
		return 0, err
	}
	if st.Height >= tv.Job.RevealEnd {
		return 0, nil
	}
	var entries []label.RevealEntry
	for _, t := range tv.Tasks {
		if t.State != label.TaskCommitted || !(t.Sealed || st.Height >= tv.Job.CommitEnd) || len(entries) == label.MaxBatch {
			continue
		}
		s, ok := a.Secrets.Get(j.ID, t.Item)
		if !ok {
			continue // committed elsewhere: nothing here can open it
		}
		entries = append(entries, label.RevealEntry{Item: t.Item, Label: s.Label, Salt: s.Salt})
	}
	if len(entries) == 0 {
		return 0, nil
	}
	if err := a.send(ctx, &label.MsgReveal{Job: j.ID, Entries: entries}); err != nil {
		if Code(err) == chain.ErrTooEarly.Code {
			return 0, nil // an item just got another worker; next round
		}
		return 0, err
	}
	a.logf("revealed %d answers of job %d", len(entries), j.ID)
	return len(entries), nil
}

// RevealLoop reveals commits as they become revealable until ctx ends.
func (a *Annotator) RevealLoop(ctx context.Context) {
	t := time.NewTicker(a.RevealEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.Reveal(ctx); err != nil && ctx.Err() == nil {
			a.logf("reveal: %v", err)
		}
	}
}

// PageTask is the item on screen.
type PageTask struct {
	Item   uint32 `json:"item"`
	Text   string `json:"text,omitempty"`
	Pixels []int  `json:"pixels,omitempty"`
}

// PageState is everything the page shows.
type PageState struct {
	Address  string     `json:"address"`
	Height   int64      `json:"height"`
	Job      *label.Job `json:"job"`
	Joined   bool       `json:"joined"`
	Current  *PageTask  `json:"current"`
	Assigned int        `json:"assigned"`
	Done     int        `json:"done"` // committed or revealed
	Revealed int        `json:"revealed"`
	Balance  uint64     `json:"balance"`
	Bonded   uint64     `json:"bonded"`
	// Expected is what the revealed answers earn at full quality; Paid
	// what the close actually paid (Settled).
	Expected uint64 `json:"expected"`
	Paid     uint64 `json:"paid"`
	Slashed  uint64 `json:"slashed"`
	Settled  bool   `json:"settled"`
	Message  string `json:"message,omitempty"`
}

// State gathers the page state from the chain.
func (a *Annotator) State(ctx context.Context) (PageState, error) {
	ps := PageState{Address: a.addr.String()}
	acct, err := a.C.Account(ctx, a.addr)
	if err != nil {
		return ps, err
	}
	ps.Balance = acct.Balance
	for _, s := range acct.Stakes {
		if s.Pool == label.Pool {
			ps.Bonded = s.Amount
		}
	}
	if st, err := a.C.Status(ctx); err == nil {
		ps.Height = st.Height
	}
	j, err := a.job(ctx)
	if err != nil {
		ps.Message = err.Error()
		return ps, nil
	}
	tv, err := a.tasks(ctx, j.ID)
	if err != nil {
		return ps, err
	}
	ps.Job = &tv.Job
	if tv.Worker != nil {
		w := tv.Worker
		ps.Joined, ps.Settled, ps.Paid, ps.Slashed = true, w.Settled, w.Paid, w.Slashed
		ps.Assigned, ps.Done, ps.Revealed = int(w.Assigned), int(w.Committed), int(w.Revealed)
		ps.Expected = uint64(w.Revealed) * j.Reward
	}
	for _, t := range tv.Tasks {
		if t.State != label.TaskAssigned || tv.Job.Status != label.StatusOpen || ps.Height >= tv.Job.CommitEnd {
			continue // nothing to label once commits are closed
		}
		it, err := a.content(ctx, &tv.Job, t)
		if err != nil {
			return ps, err
		}
		ps.Current = &PageTask{Item: t.Item, Text: it.Text, Pixels: it.Pixels}
		break
	}
	return ps, nil
}

// content is an item's text or pixels: inline from the task, or from the
// job's blob (downloaded once, checked against its CID).
func (a *Annotator) content(ctx context.Context, j *label.Job, t label.TaskView) (Item, error) {
	if j.ItemsCID == "" {
		return InlineItem(j.ItemKind, t.Text)
	}
	a.mu.Lock()
	items, ok := a.items[j.ItemsCID]
	a.mu.Unlock()
	if !ok {
		b, err := a.C.BlobGet(ctx, j.ItemsCID)
		if err != nil {
			return Item{}, fmt.Errorf("items of job %d: %w", j.ID, err)
		}
		if items, err = ParseItems(b, j.ItemFormat, j.ItemKind); err != nil {
			return Item{}, fmt.Errorf("items of job %d: %w", j.ID, err)
		}
		if len(items) != int(j.ItemCount) {
			return Item{}, fmt.Errorf("items blob of job %d holds %d items, the job says %d", j.ID, len(items), j.ItemCount)
		}
		a.mu.Lock()
		a.items[j.ItemsCID] = items
		a.mu.Unlock()
	}
	if int(t.Item) >= len(items) {
		return Item{}, fmt.Errorf("item %d is beyond the %d items of job %d", t.Item, len(items), j.ID)
	}
	return items[t.Item], nil
}

// reply answers with the page state, carrying opErr (the result of the
// action just taken) as the page's message.
func (a *Annotator) reply(w http.ResponseWriter, r *http.Request, opErr error) {
	if opErr != nil {
		a.note("%v", opErr)
	} else if r.Method == http.MethodPost {
		a.note("")
	}
	ps, err := a.State(r.Context())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	a.mu.Lock()
	if ps.Message == "" {
		ps.Message = a.message
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(ps)
}
