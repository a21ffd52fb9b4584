package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/browsertest"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/agent"
)

const digitsPath = "../../datasets/digits/digits.csv.gz"

// startPage bonds the job's stake for worker and serves its labeling page
// on a loopback port until the test ends; it returns the annotator and the
// page's URL.
func startPage(t *testing.T, ctx context.Context, c *client.Client, worker ed25519.PrivKey, job uint64, stake uint64) (*agent.Annotator, string) {
	t.Helper()
	if _, err := c.Submit(ctx, worker, &chain.MsgBond{Pool: label.Pool, Amount: stake}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	secrets, err := agent.OpenSecrets(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	ann := agent.NewAnnotator(c, worker, secrets, job)
	ann.RevealEvery = 200 * time.Millisecond
	ann.UndoWindow = 2 * time.Second
	ann.Logf = t.Logf
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ann.Serve(ctx, ln)
	return ann, ann.URL(ln.Addr().String())
}

func post(t *testing.T, ctx context.Context, c *client.Client, key ed25519.PrivKey, m chain.Msg) {
	t.Helper()
	if _, err := c.Submit(ctx, key, m, client.Options{}); err != nil {
		t.Fatalf("%s: %v", m.Type(), err)
	}
}

// tasksOf is the chain's record of a worker's tasks in a job, by item.
func tasksOf(t *testing.T, ctx context.Context, c *client.Client, job uint64, worker ed25519.PrivKey) map[uint32]label.TaskView {
	t.Helper()
	var tv label.TasksView
	q := map[string][]string{"worker": {chain.AddressFromPubKey(worker.PubKey().Bytes()).String()}}
	if err := c.Query(ctx, "label", fmt.Sprintf("tasks/%d", job), q, &tv); err != nil {
		t.Fatal(err)
	}
	out := map[uint32]label.TaskView{}
	for _, task := range tv.Tasks {
		out[task.Item] = task
	}
	return out
}

func baseJob(title string, labels []string) *label.MsgCreateJob {
	return &label.MsgCreateJob{
		Title: title, Labels: labels, Redundancy: 1, MaxRedundancy: 1, Reward: 25_000, Stake: 100_000,
		DeadlineBlocks: 4000, RevealBlocks: 200, GraceBlocks: 100, QualityPPM: 300_000, BatchSize: 16, MaxPerWorker: 16,
	}
}

// TestAnnotatePageInBrowser drives the labeling page in headless Chromium
// with the keyboard only, past the join: a worker answers six digits, takes
// a wrong answer back with Z before it is committed and answers again,
// skips one digit and gets it again last, and the chain records exactly the
// intended labels, committed in the background and revealed. The page shows
// the job's instructions, the history of answers and the deadline.
func TestAnnotatePageInBrowser(t *testing.T) {
	b := browsertest.New(t, 1000, 1100)
	b.UpdateDir = "testdata"
	px, classes, err := agent.Digits(digitsPath)
	if err != nil {
		t.Fatalf("digits data not available: %v", err)
	}
	px, classes = px[:6], classes[:6]
	tn := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := tn.Client
	req, worker := tn.Keys[0], tn.Keys[1]

	// The requester posts 6 digits as a JSONL blob of pixel arrays.
	var jsonl bytes.Buffer
	for _, p := range px {
		fmt.Fprintf(&jsonl, "[%s]\n", agent.FormatGrid(p))
	}
	cid, err := c.RegisterBlob(ctx, req, jsonl.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var digits []string
	for d := range 10 {
		digits = append(digits, strconv.Itoa(d))
	}
	job := baseJob("Which digit is this?", digits)
	job.ItemKind, job.ItemsCID, job.ItemCount, job.ItemFormat = label.KindGrid, cid, 6, label.FormatJSONL
	job.MaxPerWorker, job.BatchSize = 6, 6
	job.Instructions = "Each image is an 8x8 scan of one handwritten digit. Press the digit you see."
	job.Examples = []string{"a closed loop with nothing inside is 0", "a loop on top of a stem is 9"}
	post(t, ctx, c, req, job)
	_, url := startPage(t, ctx, c, worker, 0, job.Stake) // 0: the page picks the open job

	key := func(d int) string { return strconv.Itoa((d + 1) % 10) } // digit d is label d: keys 1..9 then 0
	item := func() int {
		var s string
		b.Eval(`document.body.dataset.item || ""`, &s)
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("no item on the page (%q)", s)
		}
		return n
	}
	press := func(what string, keys ...string) {
		t.Helper()
		var acts []chromedp.Action
		for _, k := range keys {
			acts = append(acts, chromedp.KeyEvent(k))
		}
		b.Run(what, acts...)
	}
	b.Run("open the page", chromedp.Navigate(url), chromedp.WaitVisible("#joinbtn", chromedp.ByID))
	if got := b.Text("#instructtext"); !strings.Contains(got, "handwritten digit") {
		t.Fatalf("instructions: %q", got)
	}
	if got := b.Text("#deadline"); !strings.Contains(got, "Answers close in about") {
		t.Fatalf("deadline: %q", got)
	}
	b.Run("join", chromedp.Click("#joinbtn", chromedp.ByID), chromedp.WaitVisible("#grid", chromedp.ByID))

	want := map[int]int{} // item -> the label meant
	answered := 0
	answer := func(d int) {
		t.Helper()
		i := item()
		answered++
		press(fmt.Sprintf("label item %d", i), key(d))
		b.Poll("the answer is taken", fmt.Sprintf(`document.body.dataset.done === "%d"`, answered), 10*time.Second)
		want[i] = d
	}
	// 1: right at once.
	answer(classes[item()])
	// 2: a wrong digit, taken back with Z while it waits, then the right one.
	second := item()
	wrong := (classes[second] + 1) % 10
	press("wrong label", key(wrong))
	b.Poll("the wrong answer waits as a draft", `document.body.dataset.drafts !== "0" && document.body.dataset.done === "2"`, 5*time.Second)
	press("undo", "z")
	b.Poll("undo brings the item back", fmt.Sprintf(`document.body.dataset.item === "%d" && document.body.dataset.done === "1"`, second), 5*time.Second)
	if got, want := b.Text("#labels .prev"), key(wrong)+strconv.Itoa(wrong); got != want {
		t.Fatalf("the undone answer's button shows %q, want %q marked", got, want)
	}
	answer(classes[second])
	// 3: skipped; it comes back after the others.
	skipped := item()
	press("skip", "s")
	b.Poll("skip shows another item", fmt.Sprintf(`document.body.dataset.item !== "%d"`, skipped), 5*time.Second)
	for range 3 {
		answer(classes[item()])
	}
	if got := item(); got != skipped {
		t.Fatalf("after the others the page shows item %d, want the skipped item %d", got, skipped)
	}
	if badge := b.Text("#skippedbadge"); badge == "" {
		t.Fatal("the skipped item is not marked as skipped")
	}
	answer(classes[skipped])

	// The server commits in the background and reveals (redundancy 1).
	b.Poll("commits and reveals", `document.body.dataset.revealed === "6"`, 60*time.Second)
	press("undo after commit", "z")
	b.Poll("undo of a committed answer is refused", `document.getElementById("message").textContent.includes("commitment cannot change")`, 5*time.Second)
	var rows int
	b.Eval(`document.querySelectorAll("#review tbody tr").length`, &rows)
	if rows != 6 {
		t.Fatalf("the history shows %d answers, want 6", rows)
	}
	b.Shot("annotate")
	b.Clean("labeling")

	tasks := tasksOf(t, ctx, c, 1, worker)
	if len(want) != 6 {
		t.Fatalf("answered %d distinct items, want 6: %v", len(want), want)
	}
	for i, d := range want {
		if task := tasks[uint32(i)]; task.State != label.TaskRevealed || int(task.Label) != d {
			t.Errorf("item %d: chain has %s label %d, the page meant %d", i, task.State, task.Label, d)
		}
	}
}

// roadImage is a synthetic road scene: asphalt, a lane line, and a filled
// rectangle per object.
func roadImage(t *testing.T, w, h int, objects []image.Rectangle) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{90, 96, 104, 255}
			if y < h/3 {
				c = color.RGBA{170, 205, 235, 255} // sky
			} else if x > w/2-3 && x < w/2+3 && (y/12)%2 == 0 {
				c = color.RGBA{240, 240, 240, 255} // lane line
			}
			img.Set(x, y, c)
		}
	}
	for i, r := range objects {
		c := []color.RGBA{{200, 40, 40, 255}, {240, 200, 30, 255}}[i%2]
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAnnotateTypedTasksInBrowser labels a box job on road images with the
// mouse (draw a box, move it, resize it by a corner) and the keys (relabel
// it, add a second box, submit), a rating job with the arrow keys, and a
// multi-label job with the label keys, each on its own page; the chain
// records exactly the answers the pages showed.
func TestAnnotateTypedTasksInBrowser(t *testing.T) {
	b := browsertest.New(t, 1000, 1300)
	b.UpdateDir = "testdata"
	tn := testnode.Start(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := tn.Client
	req := tn.Keys[0]

	// Job 1: boxes on two 320x240 road images, registered blobs.
	var cids []string
	for _, objs := range [][]image.Rectangle{{image.Rect(60, 120, 160, 180)}, {image.Rect(200, 100, 260, 160)}} {
		cid, err := c.RegisterBlob(ctx, req, roadImage(t, 320, 240, objs))
		if err != nil {
			t.Fatal(err)
		}
		cids = append(cids, cid)
	}
	boxJob := baseJob("Box every car and sign", []string{"car", "sign"})
	boxJob.Task, boxJob.ItemKind, boxJob.Items = label.TaskBox, label.KindImage, cids
	boxJob.Width, boxJob.Height, boxJob.MaxBoxes = 320, 240, 4
	boxJob.MaxPerWorker, boxJob.BatchSize = 2, 2
	boxJob.Instructions = "Draw a tight box around each car and each sign."
	post(t, ctx, c, req, boxJob)
	// Job 2: ratings of road condition from -100 to 100.
	rateJob := baseJob("How good is this road?", []string{"score"})
	rateJob.Task, rateJob.ItemKind, rateJob.RatingMin, rateJob.RatingMax = label.TaskRating, label.KindText, -100, 100
	rateJob.Items = []string{"fresh asphalt, clear markings", "potholes every few metres"}
	rateJob.MaxPerWorker, rateJob.BatchSize = 2, 2
	post(t, ctx, c, req, rateJob)
	// Job 3: multi-label: what is in the scene.
	multiJob := baseJob("What is in the scene?", []string{"car", "person", "sign"})
	multiJob.Task, multiJob.ItemKind = label.TaskMulti, label.KindText
	multiJob.Items = []string{"a car stops at a stop sign", "an empty road"}
	multiJob.MaxPerWorker, multiJob.BatchSize = 2, 2
	post(t, ctx, c, req, multiJob)

	join := func(url string) {
		b.Run("open and join", chromedp.Navigate(url), chromedp.WaitVisible("#joinbtn", chromedp.ByID),
			chromedp.Click("#joinbtn", chromedp.ByID), chromedp.WaitVisible("#work", chromedp.ByID))
	}

	// Boxes.
	_, url := startPage(t, ctx, c, tn.Keys[1], 1, boxJob.Stake)
	join(url)
	b.Poll("the image is drawn", `document.body.dataset.background === "shown"`, 15*time.Second)
	var rect struct{ Left, Top, Width, Height float64 }
	b.Eval(`(() => { const r = document.getElementById("boxcanvas").getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`, &rect)
	at := func(x, y float64) (float64, float64) {
		return rect.Left + x*rect.Width/320, rect.Top + y*rect.Height/240
	}
	drag := func(what string, x0, y0, x1, y1 float64) {
		t.Helper()
		ax, ay := at(x0, y0)
		bx, by := at(x1, y1)
		mx, my := at((x0+x1)/2, (y0+y1)/2)
		b.Run(what,
			chromedp.MouseEvent(input.MousePressed, ax, ay, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.MouseMoved, mx, my, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.MouseMoved, bx, by, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.MouseReleased, bx, by, chromedp.ButtonLeft))
	}
	boxes := func() []label.Box {
		var s string
		b.Eval(`document.body.dataset.boxes || "[]"`, &s)
		var out []label.Box
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatalf("boxes on the page %q: %v", s, err)
		}
		return out
	}
	drag("draw a box", 50, 110, 150, 170)
	if got := boxes(); !slices.Equal(got, []label.Box{{X: 50, Y: 110, W: 100, H: 60, Class: 0}}) {
		t.Fatalf("drawn: %+v", got)
	}
	drag("move it", 100, 140, 110, 150) // grab inside, 10 right and 10 down
	drag("resize it by the bottom-right corner", 160, 180, 162, 186)
	want := label.Box{X: 60, Y: 120, W: 102, H: 66, Class: 1}
	b.Run("relabel it as a sign", chromedp.KeyEvent("2"))
	if got := boxes(); !slices.Equal(got, []label.Box{want}) {
		t.Fatalf("after move, resize and relabel: %+v, want %+v", got, want)
	}
	// A second box with the keys only: add one, make it a car, move it left by 5.
	b.Run("add a box with the keys", chromedp.KeyEvent("n"), chromedp.KeyEvent("1"), chromedp.KeyEvent(kb.ArrowLeft))
	got := boxes()
	if len(got) != 2 || got[1].Class != 0 || got[1].X != 115 || got[1].W != 80 {
		t.Fatalf("keyboard box: %+v", got)
	}
	b.Shot("annotate-box")
	item0 := got
	b.Run("submit", chromedp.KeyEvent(kb.Enter))
	b.Poll("the next image", `document.body.dataset.done === "1" && document.body.dataset.background === "shown"`, 15*time.Second)
	b.Run("skip the second image", chromedp.KeyEvent("s"))
	b.Poll("committed and revealed", `document.body.dataset.revealed === "1"`, 60*time.Second)
	b.Clean("boxes")
	var boxItem uint32
	for i, task := range tasksOf(t, ctx, c, 1, tn.Keys[1]) {
		if task.State == label.TaskRevealed {
			boxItem = i
			if !slices.Equal(task.Boxes, item0) {
				t.Fatalf("chain has boxes %+v for item %d, the page drew %+v", task.Boxes, i, item0)
			}
		}
	}
	t.Logf("box item %d revealed with %d boxes", boxItem, len(item0))

	// Ratings: 3 right from the middle, then Shift+Right (a tenth: 20).
	_, url = startPage(t, ctx, c, tn.Keys[2], 2, rateJob.Stake)
	join(url)
	b.Poll("the slider", `document.body.dataset.rating === "0"`, 10*time.Second)
	b.Run("rate with the arrows", chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight),
		chromedp.KeyEvent(kb.ArrowRight, chromedp.KeyModifiers(input.ModifierShift)))
	b.Poll("the rating", `document.body.dataset.rating === "23"`, 5*time.Second)
	var rated string
	b.Eval(`document.body.dataset.item`, &rated)
	b.Shot("annotate-rating")
	b.Run("submit", chromedp.KeyEvent(kb.Enter))
	b.Poll("revealed", `document.body.dataset.revealed === "1"`, 60*time.Second)
	b.Clean("ratings")
	n, _ := strconv.Atoi(rated)
	if task := tasksOf(t, ctx, c, 2, tn.Keys[2])[uint32(n)]; task.State != label.TaskRevealed || task.Value != 23 {
		t.Fatalf("rating on chain: %+v, want 23", task)
	}

	// Multi-label: car and sign (keys 1 and 3): mask 0b101.
	_, url = startPage(t, ctx, c, tn.Keys[3], 3, multiJob.Stake)
	join(url)
	b.Run("tick car and sign", chromedp.KeyEvent("1"), chromedp.KeyEvent("3"))
	b.Poll("the mask", `document.body.dataset.mask === "5"`, 5*time.Second)
	var ticked string
	b.Eval(`document.body.dataset.item`, &ticked)
	b.Shot("annotate-multi")
	b.Run("submit", chromedp.KeyEvent(kb.Enter))
	b.Poll("revealed", `document.body.dataset.revealed === "1"`, 60*time.Second)
	b.Clean("multi-label")
	n, _ = strconv.Atoi(ticked)
	if task := tasksOf(t, ctx, c, 3, tn.Keys[3])[uint32(n)]; task.State != label.TaskRevealed || task.Label != 5 {
		t.Fatalf("multi-label answer on chain: %+v, want mask 5", task)
	}
}

// apiPost calls the page's API as the page does.
func apiPost(t *testing.T, h http.Handler, ann *agent.Annotator, path, body string) (int, agent.PageState) {
	t.Helper()
	r := httptest.NewRequest("POST", "http://127.0.0.1:7070"+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(agent.TokenHeader, ann.Token())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var ps agent.PageState
	json.Unmarshal(rec.Body.Bytes(), &ps)
	return rec.Code, ps
}

// Bad answers (a box outside the image, too many boxes, an unknown class,
// a rating outside the range, an item that is not the worker's, fields of
// another task type) are refused with the reason, and nothing is kept or
// sent. Good answers given together go to the chain in one commit.
func TestAnswersRefusedOrCommittedTogether(t *testing.T) {
	tn := testnode.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := tn.Client
	req := tn.Keys[0]
	boxJob := baseJob("boxes", []string{"car", "sign"})
	boxJob.Task, boxJob.ItemKind, boxJob.Items = label.TaskBox, label.KindText, []string{"a", "b", "c", "d", "e", "f"}
	boxJob.Width, boxJob.Height, boxJob.MaxBoxes = 100, 80, 2
	boxJob.MaxPerWorker, boxJob.BatchSize = 4, 4
	post(t, ctx, c, req, boxJob)
	ann, _ := startPage(t, ctx, c, tn.Keys[1], 1, boxJob.Stake)
	ann.UndoWindow = time.Hour // nothing leaves before Flush below
	h := ann.Handler()
	if code, ps := apiPost(t, h, ann, "/api/join", ""); code != 200 || !ps.Joined || ps.Current == nil {
		t.Fatalf("join: %d %+v", code, ps)
	}
	tasks := tasksOf(t, ctx, c, 1, tn.Keys[1])
	var mine []uint32
	for i := range tasks {
		mine = append(mine, i)
	}
	slices.Sort(mine)
	notMine := uint32(0)
	for slices.Contains(mine, notMine) {
		notMine++
	}
	for _, bad := range []struct{ body, want string }{
		{fmt.Sprintf(`{"item": %d, "boxes": [{"x": 90, "y": 10, "w": 20, "h": 10, "class": 0}]}`, mine[0]), "outside the 100x80 image"},
		{fmt.Sprintf(`{"item": %d, "boxes": [{"x": 0, "y": 0, "w": 0, "h": 10, "class": 0}]}`, mine[0]), "empty or outside"},
		{fmt.Sprintf(`{"item": %d, "boxes": [{"x":1,"y":1,"w":5,"h":5,"class":0},{"x":1,"y":1,"w":5,"h":5,"class":0},{"x":1,"y":1,"w":5,"h":5,"class":0}]}`, mine[0]), "3 boxes, at most 2"},
		{fmt.Sprintf(`{"item": %d, "boxes": [{"x": 1, "y": 1, "w": 5, "h": 5, "class": 7}]}`, mine[0]), "class 7"},
		{fmt.Sprintf(`{"item": %d, "label": 1}`, mine[0]), "fields a box job does not take"},
		{fmt.Sprintf(`{"item": %d, "boxes": []}`, notMine), "not assigned to you"},
	} {
		code, ps := apiPost(t, h, ann, "/api/answer", bad.body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(ps.Message, bad.want) || ps.Drafts != 0 {
			t.Errorf("%s: HTTP %d, message %q, %d drafts; want 422 with %q and nothing kept", bad.body, code, ps.Message, ps.Drafts, bad.want)
		}
	}
	if code, _ := apiPost(t, h, ann, "/api/answer", `{"item": 0, "boxes": [], "extra": 1}`); code != http.StatusBadRequest {
		t.Errorf("unknown field: HTTP %d, want 400", code)
	}

	// Four good answers in a row wait as drafts, then go out in one commit.
	for n, i := range mine {
		body := fmt.Sprintf(`{"item": %d, "boxes": [{"x": %d, "y": 5, "w": 10, "h": 10, "class": %d}]}`, i, 5*n, n%2)
		if code, ps := apiPost(t, h, ann, "/api/answer", body); code != 200 || ps.Drafts != n+1 {
			t.Fatalf("answer %d: HTTP %d, %d drafts, message %q", i, code, ps.Drafts, ps.Message)
		}
	}
	if code, ps := apiPost(t, h, ann, "/api/answer", fmt.Sprintf(`{"item": %d, "boxes": []}`, mine[0])); code != 422 || !strings.Contains(ps.Message, "undo it first") {
		t.Fatalf("a second answer to a drafted item: %d %q", code, ps.Message)
	}
	if left := tasksOf(t, ctx, c, 1, tn.Keys[1]); slices.ContainsFunc(mine, func(i uint32) bool { return left[i].State != label.TaskAssigned }) {
		t.Fatal("a draft reached the chain before its undo window")
	}
	n, err := ann.Flush(ctx, false)
	if err != nil || n != 0 {
		t.Fatalf("flush inside the undo window committed %d (%v)", n, err)
	}
	if n, err = ann.Flush(ctx, true); err != nil || n != len(mine) {
		t.Fatalf("flush: %d committed, %v", n, err)
	}
	heights := map[int64]bool{}
	for _, i := range mine {
		task := tasksOf(t, ctx, c, 1, tn.Keys[1])[i]
		if task.State == label.TaskAssigned {
			t.Fatalf("item %d not committed", i)
		}
		heights[task.Committed] = true
	}
	if len(heights) != 1 {
		t.Fatalf("the four answers were committed at heights %v: want one commit", heights)
	}

	// Ratings outside the range are refused too.
	rateJob := baseJob("ratings", []string{"score"})
	rateJob.Task, rateJob.ItemKind, rateJob.Items, rateJob.RatingMin, rateJob.RatingMax = label.TaskRating, label.KindText, []string{"x", "y"}, 1, 5
	rateJob.MaxPerWorker, rateJob.BatchSize = 2, 2
	post(t, ctx, c, req, rateJob)
	rann, _ := startPage(t, ctx, c, tn.Keys[2], 2, rateJob.Stake)
	rh := rann.Handler()
	if code, _ := apiPost(t, rh, rann, "/api/join", ""); code != 200 {
		t.Fatalf("join rating job: %d", code)
	}
	if code, ps := apiPost(t, rh, rann, "/api/answer", `{"item": 0, "value": 6}`); code != 422 || !strings.Contains(ps.Message, "outside the range [1, 5]") || ps.Drafts != 0 {
		t.Fatalf("rating 6 of [1, 5]: %d %q", code, ps.Message)
	}
}

// Without a posted job the page says so instead of failing.
func TestAnnotateStateWithoutJob(t *testing.T) {
	tn := testnode.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	secrets, _ := agent.OpenSecrets(filepath.Join(t.TempDir(), "s.json"))
	ann := agent.NewAnnotator(tn.Client, tn.Keys[0], secrets, 0)
	ps, err := ann.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Job != nil || ps.Message == "" {
		t.Fatalf("no job posted: %+v", ps)
	}
}
