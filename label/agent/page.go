package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tenun-chain/tenun/label"
)

// PageTask is the item on screen.
type PageTask struct {
	Item   uint32 `json:"item"`
	Text   string `json:"text,omitempty"`
	Pixels []int  `json:"pixels,omitempty"`
	Image  string `json:"image,omitempty"` // a blob CID: the page loads it from /api/image?item=N
	// Draft is the answer undo took back, for the page to fill in again.
	Draft   *label.Answer `json:"draft,omitempty"`
	Skipped bool          `json:"skipped,omitempty"`
}

// Review is one of the worker's own answers, for the page's history.
type Review struct {
	Item   uint32       `json:"item"`
	Answer label.Answer `json:"answer"`
	// State is "draft" (can still be undone), label.TaskCommitted or
	// label.TaskRevealed.
	State string `json:"state"`
}

// MaxReviews bounds the history the page shows.
const MaxReviews = 30

// PageState is everything the page shows.
type PageState struct {
	Address  string     `json:"address"`
	Height   int64      `json:"height"`
	BlockMs  int64      `json:"block_ms"` // mean block time, 0 while unknown: the page turns blocks into minutes
	Job      *label.Job `json:"job"`
	Joined   bool       `json:"joined"`
	Current  *PageTask  `json:"current"`
	Assigned int        `json:"assigned"`
	Done     int        `json:"done"` // answered: drafts, committed or revealed
	Drafts   int        `json:"drafts"`
	Skipped  int        `json:"skipped"`
	// Committed counts answers on chain (committed or revealed).
	Committed int      `json:"committed"`
	Revealed  int      `json:"revealed"`
	Review    []Review `json:"review"`
	// Feedback compares the revealed answers with other workers' (before
	// the close) and carries the gold score (after it).
	Feedback *label.Feedback `json:"feedback,omitempty"`
	Balance  uint64          `json:"balance"`
	Bonded   uint64          `json:"bonded"`
	// Expected is what the revealed answers earn at full quality; Paid
	// what the close actually paid (Settled).
	Expected uint64 `json:"expected"`
	Paid     uint64 `json:"paid"`
	Slashed  uint64 `json:"slashed"`
	Settled  bool   `json:"settled"`
	Message  string `json:"message,omitempty"`
}

// blockTime is the chain's mean block time in milliseconds, measured at
// most every 30 s (0 until the chain has a few blocks).
func (a *Annotator) blockTime(ctx context.Context) int64 {
	a.mu.Lock()
	ms, at := a.blockMs, a.blockAt
	a.mu.Unlock()
	if ms > 0 && time.Since(at) < 30*time.Second {
		return ms
	}
	if d, err := a.C.BlockTime(ctx); err == nil {
		ms = d.Milliseconds()
		a.mu.Lock()
		a.blockMs, a.blockAt = ms, time.Now()
		a.mu.Unlock()
	}
	return ms
}

// State gathers the page state from the chain and the drafts.
func (a *Annotator) State(ctx context.Context) (PageState, error) {
	ps := PageState{Address: a.addr.String(), Review: []Review{}}
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
	ps.BlockMs = a.blockTime(ctx)
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
		ps.Assigned, ps.Committed, ps.Revealed = int(w.Assigned), int(w.Committed), int(w.Revealed)
		ps.Expected = uint64(w.Revealed) * j.Reward
		if w.Revealed > 0 || w.Settled {
			var fb label.Feedback
			if err := a.C.Query(ctx, "label", fmt.Sprintf("feedback/%d", j.ID), map[string][]string{"worker": {a.addr.String()}}, &fb); err == nil {
				ps.Feedback = &fb
			}
		}
	}

	a.mu.Lock()
	drafts := slices.Clone(a.drafts)
	restore := a.restore
	skipped := maps.Clone(a.skipped)
	a.mu.Unlock()
	drafted := map[uint32]bool{}
	for i := len(drafts) - 1; i >= 0; i-- {
		if d := drafts[i]; d.Job == j.ID {
			drafted[d.Item] = true
			ps.Review = append(ps.Review, Review{Item: d.Item, Answer: d.Answer, State: "draft"})
		}
	}
	ps.Drafts = len(drafted)
	ps.Done = ps.Committed + ps.Drafts

	// The history: drafts first (newest first), then answers on chain by
	// the height they were committed at, newest first.
	onChain := slices.Clone(tv.Tasks)
	slices.SortStableFunc(onChain, func(x, y label.TaskView) int {
		return cmp.Or(cmp.Compare(y.Committed, x.Committed), cmp.Compare(y.Item, x.Item))
	})
	for _, t := range onChain {
		if len(ps.Review) == MaxReviews {
			break
		}
		switch t.State {
		case label.TaskRevealed:
			ps.Review = append(ps.Review, Review{Item: t.Item, Answer: label.Answer{Label: t.Label, Value: t.Value, Boxes: t.Boxes}, State: t.State})
		case label.TaskCommitted:
			r := Review{Item: t.Item, State: t.State}
			if s, ok := a.Secrets.Get(j.ID, t.Item); ok {
				r.Answer = s.Answer()
			}
			ps.Review = append(ps.Review, r)
		}
	}

	// The item to show: the one undo took back, else the first item not
	// answered, skipped items last (in the order they were skipped).
	if tv.Job.Status != label.StatusOpen || ps.Height >= tv.Job.CommitEnd {
		return ps, nil // nothing to label once commits are closed
	}
	var open []label.TaskView
	for _, t := range tv.Tasks {
		if t.State == label.TaskAssigned && !drafted[t.Item] {
			open = append(open, t)
			if skipped[t.Item] > 0 {
				ps.Skipped++
			}
		}
	}
	slices.SortStableFunc(open, func(x, y label.TaskView) int {
		rx, ry := restore != nil && restore.Item == x.Item, restore != nil && restore.Item == y.Item
		if rx != ry {
			if rx {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(skipped[x.Item], skipped[y.Item]), cmp.Compare(x.Item, y.Item))
	})
	if len(open) > 0 {
		t := open[0]
		it, err := a.content(ctx, &tv.Job, t)
		if err != nil {
			return ps, err
		}
		ps.Current = &PageTask{Item: t.Item, Text: it.Text, Pixels: it.Pixels, Image: it.Image, Skipped: skipped[t.Item] > 0}
		if restore != nil && restore.Item == t.Item {
			ans := restore.Answer
			ps.Current.Draft = &ans
		}
	}
	return ps, nil
}

// content is an item's text, pixels or image CID: inline from the task, or
// from the job's blob (downloaded once, checked against its CID).
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

// image is a fetched image blob with its sniffed type.
type image struct {
	data  []byte
	ctype string
}

// Image types the page shows; any other blob is refused, so an item can
// never make the page render a script or a document.
var imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// maxImageCache bounds the images kept in memory (the cache is emptied
// when full: a labeler moves forward, rarely back).
const maxImageCache = 64

// serveImage answers GET /api/image?item=N with the image of an item
// assigned to this worker, fetched by its CID and checked against it.
func (a *Annotator) serveImage(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, format string, args ...any) {
		http.Error(w, fmt.Sprintf(format, args...), code)
	}
	n, err := strconv.ParseUint(r.URL.Query().Get("item"), 10, 32)
	if err != nil {
		fail(http.StatusBadRequest, "want ?item=N")
		return
	}
	ctx := r.Context()
	j, err := a.job(ctx)
	if err != nil {
		fail(http.StatusNotFound, "%v", err)
		return
	}
	tv, err := a.tasks(ctx, j.ID)
	if err != nil {
		fail(http.StatusBadGateway, "%v", err)
		return
	}
	i := slices.IndexFunc(tv.Tasks, func(t label.TaskView) bool { return t.Item == uint32(n) })
	if i < 0 {
		fail(http.StatusForbidden, "item %d of job %d is not assigned to you", n, j.ID)
		return
	}
	it, err := a.content(ctx, &j, tv.Tasks[i])
	if err != nil || it.Image == "" {
		fail(http.StatusNotFound, "item %d of job %d has no image (%v)", n, j.ID, err)
		return
	}
	a.mu.Lock()
	img, ok := a.images[it.Image]
	a.mu.Unlock()
	if !ok {
		b, err := a.C.BlobGet(ctx, it.Image)
		if err != nil {
			fail(http.StatusBadGateway, "image of item %d (%s): %v", n, it.Image, err)
			return
		}
		img = image{data: b, ctype: http.DetectContentType(b)}
		if !slices.Contains(imageTypes, img.ctype) {
			fail(http.StatusUnsupportedMediaType, "item %d's blob %s is %s, not an image the page shows (%v)", n, it.Image, img.ctype, imageTypes)
			return
		}
		a.mu.Lock()
		if len(a.images) >= maxImageCache {
			clear(a.images)
		}
		a.images[it.Image] = img
		a.mu.Unlock()
	}
	w.Header().Set("Content-Type", img.ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(img.data)
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
	if opErr != nil && r.Method == http.MethodPost {
		// The page shows the state either way; the status says the action failed.
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	json.NewEncoder(w).Encode(ps)
}
