package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/agent"
)

// chromium finds a Chromium or Chrome binary.
func chromium() string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

const digitsPath = "../../datasets/digits/digits.csv.gz"

// TestAnnotatePageInBrowser drives the labeling page in headless Chromium:
// a worker joins a digits job from the page, labels five digits with the
// keyboard, and the chain records the commits and the reveals the page's
// server makes. The screenshot is kept in a temp dir (and copied to
// testdata/annotate.png with TENUN_UPDATE_SCREENSHOT=1).
func TestAnnotatePageInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary found (install it with `apt-get install -y chromium`): skipping the browser test")
	}
	px, classes, err := agent.Digits(digitsPath)
	if err != nil {
		t.Fatalf("digits data not available: %v", err)
	}
	px, classes = px[:12], classes[:12]
	tn := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := tn.Client
	req, worker := tn.Keys[0], tn.Keys[1]

	// The requester posts 12 digits as a JSONL blob of pixel arrays.
	var jsonl bytes.Buffer
	for _, p := range px {
		fmt.Fprintf(&jsonl, "[%s]\n", agent.FormatGrid(p))
	}
	cid, err := c.RegisterBlob(ctx, req, jsonl.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	job := &label.MsgCreateJob{
		Title: "Which digit is this?", ItemKind: label.KindGrid, ItemsCID: cid, ItemCount: 12, ItemFormat: label.FormatJSONL,
		Redundancy: 1, MaxRedundancy: 1, ConfidencePPM: 0, Reward: 25_000, Stake: 100_000,
		DeadlineBlocks: 2000, RevealBlocks: 200, GraceBlocks: 100, QualityPPM: 300_000, BatchSize: 12, MaxPerWorker: 12,
	}
	for d := range 10 {
		job.Labels = append(job.Labels, strconv.Itoa(d))
	}
	if _, err := c.Submit(ctx, req, job, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, worker, &chain.MsgBond{Pool: label.Pool, Amount: job.Stake}, client.Options{}); err != nil {
		t.Fatal(err)
	}

	secrets, err := agent.OpenSecrets(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	ann := agent.NewAnnotator(c, worker, secrets, 0) // 0: picks the open job
	ann.RevealEvery = 200 * time.Millisecond
	ann.Logf = t.Logf
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ann.Serve(ctx, ln)
	url := ann.URL(ln.Addr().String())

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 1000),
	)
	defer cancelAlloc()
	// A Chromium newer than the pinned protocol tables sends enum values
	// chromedp cannot decode ("unknown IPAddressSpace value"): harmless, so
	// those are not logged.
	quiet := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Log(msg)
		}
	}
	browser, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithErrorf(quiet))
	defer cancelBrowser()

	poll := func(expr string) chromedp.Action {
		return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))
	}
	if err := chromedp.Run(browser,
		chromedp.Navigate(url),
		chromedp.WaitVisible("#joinbtn", chromedp.ByID),
		chromedp.Click("#joinbtn", chromedp.ByID),
		chromedp.WaitVisible("#grid", chromedp.ByID),
	); err != nil {
		t.Fatalf("join from the page: %v", err)
	}
	// Label five digits with the keyboard: the key of digit d is d+1, and 0 for 9.
	labeled := map[uint32]int{}
	for n := 1; n <= 5; n++ {
		var item string
		if err := chromedp.Run(browser, poll(`document.body.dataset.item !== undefined`),
			chromedp.Evaluate(`document.body.dataset.item`, &item)); err != nil {
			t.Fatalf("item %d: %v", n, err)
		}
		i, _ := strconv.Atoi(item)
		d := classes[i]
		key := strconv.Itoa((d + 1) % 10)
		if err := chromedp.Run(browser,
			chromedp.KeyEvent(key),
			poll(fmt.Sprintf(`document.body.dataset.done === "%d"`, n)),
		); err != nil {
			t.Fatalf("label item %d with key %s: %v", i, key, err)
		}
		labeled[uint32(i)] = d
	}
	// The page's server reveals each commit (redundancy 1: sealed at once).
	if err := chromedp.Run(browser, poll(`document.body.dataset.revealed === "5"`)); err != nil {
		t.Fatalf("reveals: %v", err)
	}
	var shot []byte
	if err := chromedp.Run(browser, chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "annotate.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(shot))
	if os.Getenv("TENUN_UPDATE_SCREENSHOT") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "annotate.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The chain recorded exactly these labels from this worker.
	var tv label.TasksView
	q := map[string][]string{"worker": {chain.AddressFromPubKey(worker.PubKey().Bytes()).String()}}
	if err := c.Query(ctx, "label", "tasks/1", q, &tv); err != nil {
		t.Fatal(err)
	}
	revealed := 0
	for _, task := range tv.Tasks {
		d, ok := labeled[task.Item]
		switch {
		case ok && (task.State != label.TaskRevealed || int(task.Label) != d):
			t.Errorf("item %d: state %s label %d, labeled %d on the page", task.Item, task.State, task.Label, d)
		case !ok && task.State != label.TaskAssigned:
			t.Errorf("item %d was not labeled but is %s", task.Item, task.State)
		case ok:
			revealed++
		}
	}
	if revealed != 5 || tv.Worker == nil || tv.Worker.Revealed != 5 {
		t.Fatalf("chain has %d revealed labels (worker %+v), want 5", revealed, tv.Worker)
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
