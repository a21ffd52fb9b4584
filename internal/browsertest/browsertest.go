// Package browsertest drives pages in a real headless Chromium for tests
// (chromedp): one tab that records console errors, uncaught exceptions,
// failed loads and dialogs, with screenshots kept per test.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium or Chrome binary ("" if none).
func Chromium() string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a headless Chromium on one tab.
type Browser struct {
	T   *testing.T
	Ctx context.Context
	// ShotDir keeps the test's screenshots; UpdateDir (relative to the
	// test's package) receives copies with TENUN_UPDATE_SCREENSHOT=1.
	ShotDir   string
	UpdateDir string

	mu       sync.Mutex
	problems []string // console errors and exceptions
	network  []string // failed loads (expected on not-found pages)
	dialogs  int
}

// New starts Chromium (skipping the test, loudly, where there is none)
// with a window of width x height; it stops when the test ends.
func New(t *testing.T, width, height int) *Browser {
	bin := Chromium()
	if bin == "" {
		t.Skip("no chromium binary found (install it with `apt-get install -y chromium`): skipping the browser test")
	}
	// Chromium may still be writing its profile as the test ends, which
	// t.TempDir's cleanup reports as a failure: the profile gets a temp dir
	// of its own, removed after the browser stopped (cleanups run last first).
	profile, err := os.MkdirTemp("", "tenun-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile), chromedp.WindowSize(width, height))
	t.Cleanup(cancelAlloc)
	// A Chromium newer than the pinned protocol tables sends enum values
	// chromedp cannot decode ("unknown IPAddressSpace value"): harmless.
	quiet := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Log(msg)
		}
	}
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithErrorf(quiet))
	t.Cleanup(cancel)
	b := &Browser{T: t, Ctx: ctx, ShotDir: t.TempDir(), UpdateDir: filepath.Join("testdata", "screenshots")}
	chromedp.ListenTarget(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				b.problems = append(b.problems, fmt.Sprintf("console.%s %v", e.Type, e.Args))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				if e.Entry.Source == log.SourceNetwork {
					b.network = append(b.network, e.Entry.Text+" "+e.Entry.URL)
				} else {
					b.problems = append(b.problems, string(e.Entry.Source)+": "+e.Entry.Text)
				}
			}
		case *page.EventJavascriptDialogOpening:
			b.dialogs++
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(false))
		}
	})
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable()); err != nil {
		t.Fatal(err)
	}
	return b
}

// Run runs actions with a 20 s limit, failing the test with what.
func (b *Browser) Run(what string, actions ...chromedp.Action) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.T.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression into out.
func (b *Browser) Eval(expr string, out any) {
	b.T.Helper()
	b.Run("eval "+expr, chromedp.Evaluate(expr, out))
}

// Text is the text content of the first visible element matching sel.
func (b *Browser) Text(sel string) string {
	b.T.Helper()
	var s string
	b.Run("text of "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return s
}

// Poll waits (up to timeout) until expr is truthy on the page.
func (b *Browser) Poll(what, expr string, timeout time.Duration) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout+5*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.T.Fatalf("%s (waiting for %s): %v", what, expr, err)
	}
}

// Shot saves a full-page screenshot as name.png.
func (b *Browser) Shot(name string) {
	b.T.Helper()
	var png []byte
	b.Run("screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(b.ShotDir, name+".png"), png, 0o644); err != nil {
		b.T.Fatal(err)
	}
	b.T.Logf("screenshot %s: %s (%d bytes)", name, filepath.Join(b.ShotDir, name+".png"), len(png))
	if os.Getenv("TENUN_UPDATE_SCREENSHOT") == "1" {
		if err := os.MkdirAll(b.UpdateDir, 0o755); err != nil {
			b.T.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.UpdateDir, name+".png"), png, 0o644); err != nil {
			b.T.Fatal(err)
		}
	}
}

// Clean fails the test if the page logged errors or opened dialogs.
func (b *Browser) Clean(phase string) {
	b.T.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) > 0 || b.dialogs > 0 {
		b.T.Fatalf("%s: console errors %q, %d dialogs", phase, b.problems, b.dialogs)
	}
}

// FailedLoads lists the loads that failed so far (a not-found page's own
// request is one).
func (b *Browser) FailedLoads() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.network...)
}
