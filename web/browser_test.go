package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/internal/browsertest"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// browser is the shared Chromium harness with the dashboard's base URL.
type browser struct {
	*browsertest.Browser
	t    *testing.T
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	return &browser{Browser: browsertest.New(t, 1280, 900), t: t, base: base}
}

func (b *browser) run(what string, actions ...chromedp.Action) { b.t.Helper(); b.Run(what, actions...) }
func (b *browser) text(sel string) string                      { b.t.Helper(); return b.Text(sel) }
func (b *browser) eval(expr string, out any)                   { b.t.Helper(); b.Eval(expr, out) }
func (b *browser) shot(name string)                            { b.t.Helper(); b.Shot(name) }
func (b *browser) clean(phase string)                          { b.t.Helper(); b.Clean(phase) }

// visit opens a page of the dashboard and waits for sel.
func (b *browser) visit(hash, sel string) {
	b.t.Helper()
	b.run("visit "+hash, chromedp.Navigate(b.base+"/#"+hash),
		chromedp.Poll(fmt.Sprintf(`decodeURIComponent(document.body.dataset.ready || "-") === decodeURIComponent(%q)`, hash), nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.WaitVisible(sel, chromedp.ByQuery))
}

// rowsWith counts the rows of table sel whose text contains s.
func (b *browser) rowsWith(sel, s string) int {
	b.t.Helper()
	var n int
	b.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(r => r.textContent.includes(%q)).length`, sel+" tbody tr", s), &n)
	return n
}

// TestDashboardInBrowser drives every page in headless Chromium against a
// real node with activity in every market, checks what each shows against
// the API, watches a block arrive on the overview without a reload, finds a
// transaction, an address and a CID with the search box, and checks that
// bad input gets a clear page and hostile data renders as text. Screenshots
// of each page are kept (copied to testdata/screenshots with
// TENUN_UPDATE_SCREENSHOT=1).
func TestDashboardInBrowser(t *testing.T) {
	if browsertest.Chromium() == "" {
		t.Skip("no chromium binary found (install it with `apt-get install -y chromium`): skipping the browser test")
	}
	net := testnode.Start(t, devKeys)
	act := runActivity(t, net)
	c := net.Client
	ctx := context.Background()
	b := newBrowser(t, "http://"+net.Node.APIAddr())
	q := func(domain, path string, out any) {
		t.Helper()
		if err := c.Query(ctx, domain, path, nil, out); err != nil {
			t.Fatalf("query %s/%s: %v", domain, path, err)
		}
	}

	// Overview: the figures the API gives, then a block arriving live. The
	// subnet mints every block, so the supply shown lies between the API's
	// answers just before and just after the page loaded.
	var o, o2 Overview
	if err := c.Get(ctx, "/explorer/overview", &o); err != nil {
		t.Fatal(err)
	}
	b.visit("/", "#latest-blocks")
	if err := c.Get(ctx, "/explorer/overview", &o2); err != nil {
		t.Fatal(err)
	}
	if got := b.text("#validator-count"); got != strconv.Itoa(len(o.Validators)) || len(o.Validators) != 1 {
		t.Fatalf("validators shown %q, API has %d", got, len(o.Validators))
	}
	if got := untnn(t, b.text("#supply")); got < o.Supply || got > o2.Supply {
		t.Fatalf("supply shown %d, API %d then %d", got, o.Supply, o2.Supply)
	}
	for _, p := range o.Pools {
		if b.rowsWith("#pools", p.Pool) != 1 {
			t.Fatalf("pool %s not on the overview", p.Pool)
		}
	}
	if len(o.Pools) < 3 {
		t.Fatalf("pools %+v: want label, compute and the subnet's", o.Pools)
	}
	b.run("wait live", chromedp.Poll(`document.getElementById('live-state').textContent === '(live)'`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	var top int64
	b.eval(`window.__noReload = 1; Number(document.querySelector('#latest-blocks tbody tr td').textContent)`, &top)
	// A transaction makes the next block non-empty; it must appear as a new row.
	if _, err := c.Submit(ctx, net.Keys[kBob], &chain.MsgSend{To: net.Addr(kCarol), Amount: 1}, clientOpts); err != nil {
		t.Fatal(err)
	}
	b.run("new block arrives", chromedp.Poll(fmt.Sprintf(`[...document.querySelectorAll('#latest-blocks tbody tr')].some(r => Number(r.dataset.height) > %d) && window.__noReload === 1`, top),
		nil, chromedp.WithPollingTimeout(15*time.Second)))
	b.run("new tx arrives", chromedp.Poll(`document.querySelector('#latest-txs tbody tr.flash') !== null`, nil, chromedp.WithPollingTimeout(15*time.Second)))
	b.shot("overview")

	// Blocks and transactions, and their pages.
	b.visit("/blocks", "#block-table")
	if n := b.rowsWith("#block-table", ""); n != 25 {
		t.Fatalf("blocks page shows %d rows, want 25", n)
	}
	b.run("older blocks", chromedp.Click("#older", chromedp.ByID), chromedp.WaitVisible("#block-table", chromedp.ByID))
	b.shot("blocks")
	info, err := c.Tx(ctx, act.sendHash)
	if err != nil {
		t.Fatal(err)
	}
	b.visit("/tx/"+act.sendHash, "#tx-hash")
	if b.text("#tx-hash") != act.sendHash || b.text("#tx-type") != "bank/send" || b.text("#tx-status") != "success" {
		t.Fatalf("tx page: %q %q %q", b.text("#tx-hash"), b.text("#tx-type"), b.text("#tx-status"))
	}
	if b.rowsWith("table", "transfer") < 1 {
		t.Fatal("tx page lists no transfer event")
	}
	b.shot("tx")
	b.visit(fmt.Sprintf("/block/%d", info.Height), "#block-height")
	if b.rowsWith("#tx-table", act.sendHash[:8]) != 1 {
		t.Fatalf("block %d does not list its transaction", info.Height)
	}
	b.shot("block")

	// An account: balance, stake, earnings per market, slashes and history.
	spammer := net.Addr(kDave)
	acc, err := c.Account(ctx, spammer)
	if err != nil {
		t.Fatal(err)
	}
	b.visit("/account/"+spammer.String(), "#history")
	if got := b.text("#balance"); got != tnn(acc.Balance) {
		t.Fatalf("balance shown %q, API %d", got, acc.Balance)
	}
	if b.rowsWith("#history", "data/buy") != 1 {
		t.Fatal("history lacks the purchase")
	}
	for _, sl := range acc.Slashes {
		if b.rowsWith("#slashes", sl.Reason) < 1 {
			t.Fatalf("slash %+v not shown", sl)
		}
	}
	b.shot("account-slashed")
	provider := net.Addr(kProvider)
	pacc, _ := c.Account(ctx, provider)
	if len(pacc.Slashes) == 0 {
		t.Fatalf("the silent provider was not slashed: %+v", pacc)
	}
	b.visit("/account/"+provider.String(), "#slashes")
	if b.rowsWith("#slashes", pacc.Slashes[0].Reason) < 1 {
		t.Fatalf("provider's slash %q not shown", pacc.Slashes[0].Reason)
	}
	honest := net.Addr(kBob)
	var hist struct {
		Items []struct{ Type string } `json:"items"`
	}
	if err := c.Get(ctx, "/explorer/accounts/"+honest.String()+"/history?limit=100", &hist); err != nil {
		t.Fatal(err)
	}
	var earn AccountDetail
	if err := c.Get(ctx, "/explorer/accounts/"+honest.String(), &earn); err != nil {
		t.Fatal(err)
	}
	b.visit("/account/"+honest.String(), "#earnings")
	markets := map[string]bool{}
	for _, e := range earn.Earnings {
		markets[e.Market] = true
		if b.rowsWith("#earnings", tnn(e.Amount)) < 1 {
			t.Fatalf("earning %+v not shown", e)
		}
	}
	if !markets["label"] || !markets["data"] {
		t.Fatalf("bob's earnings %+v: want label pay and data sales", earn.Earnings)
	}
	b.shot("account")

	// Search: a transaction, an address, a CID.
	search := func(q, sel, want string) {
		t.Helper()
		b.run("search "+q, chromedp.Navigate(b.base+"/#/blocks"), chromedp.WaitVisible("#block-table", chromedp.ByID),
			chromedp.SetValue("#q", q, chromedp.ByID), chromedp.Click("#search button", chromedp.ByQuery), chromedp.WaitVisible(sel, chromedp.ByQuery))
		if got := b.text(sel); got != want {
			t.Fatalf("search %q: %s shows %q, want %q", q, sel, got, want)
		}
	}
	search(strings.ToLower(act.sendHash), "#tx-hash", act.sendHash)
	search(honest.String(), "#account-address", honest.String())
	search(act.blobCID, "#blob-cid", act.blobCID)
	b.shot("blob")
	b.clean("pages")

	// Data: the hostile title renders as text, the split and lineage show.
	var ds data.Dataset
	q("data", "dataset/1", &ds)
	b.visit("/data", "#datasets")
	b.visit("/data/1", "#ds-title")
	if got := b.text("#ds-title"); got != evilTitle {
		t.Fatalf("dataset title shown %q, want it as text %q", got, evilTitle)
	}
	var pwned any
	var scripts int
	b.eval(`window.__pwned === undefined ? null : window.__pwned`, &pwned)
	b.eval(`document.querySelectorAll('#view script, #view img').length`, &scripts)
	if pwned != nil || scripts != 0 {
		t.Fatalf("the title ran as markup: pwned %v, %d elements", pwned, scripts)
	}
	var grants []data.Grant
	q("data", "grants/1", &grants)
	// Dave's purchase, and the free grant the pipeline's escrow account
	// holds to read the curator's own data.
	if len(grants) != 2 || b.rowsWith("#sales", "") != 2 || b.rowsWith("#sales", tnn(grants[0].Paid)) != 1 {
		t.Fatalf("sales %+v not shown", grants)
	}
	var contrib Contributions
	q("data", "contributions/1", &contrib)
	for _, s := range contrib.Shares {
		if b.rowsWith("#contributors", strconv.FormatUint(s.Records, 10)) < 1 {
			t.Fatalf("contributor %+v not shown", s)
		}
	}
	if b.rowsWith("#versions", "v1") != 1 {
		t.Fatal("version 1 not shown")
	}
	b.shot("dataset")
	b.visit("/lineage/model/1", "svg.graph")
	var boxes int
	b.eval(`document.querySelectorAll('svg.graph g.node').length`, &boxes)
	// The graph draws every node of the chain's trace: the edges the chain
	// recorded, the hand-made links it keeps apart as unverified claims, and
	// the contributors behind each version reached.
	var trace struct {
		Edges      []data.Edge    `json:"edges"`
		Unverified []data.Edge    `json:"unverified"`
		Versions   []data.Version `json:"versions"`
	}
	q("data", "lineage/model/1", &trace)
	nodes := map[string]bool{}
	for _, e := range append(trace.Edges, trace.Unverified...) {
		nodes[e.From], nodes[e.To] = true, true
	}
	for _, v := range trace.Versions {
		nodes[fmt.Sprintf("dataset/%d@%d", v.Dataset, v.Version)] = true
		for _, c := range v.Contributors {
			nodes[c.Contributor.String()] = true
		}
	}
	if len(trace.Unverified) == 0 {
		t.Fatal("the hand-made link to model/1 is not shown as an unverified claim")
	}
	if want := len(nodes); boxes != want {
		t.Fatalf("lineage graph has %d nodes, want %d (the chain's trace: %+v)", boxes, want, trace)
	}
	if b.rowsWith("#unverified", "trained") != 1 {
		t.Fatal("the unverified claim is not listed")
	}
	b.shot("lineage")

	// Labeling: progress, per-worker quality, per-item confidence.
	var rv label.ResultsView
	q("label", fmt.Sprintf("results/%d", act.labelJob), &rv)
	b.visit("/label", "#label-jobs")
	b.visit(fmt.Sprintf("/label/%d", act.labelJob), "#workers")
	if b.text("#job-status") != rv.Status || b.rowsWith("#workers", "") != len(rv.Workers) || b.rowsWith("#items", "") != len(rv.Items) {
		t.Fatalf("label job page differs from the API: status %q, %d workers, %d items", rv.Status, len(rv.Workers), len(rv.Items))
	}
	for _, w := range rv.Workers {
		if b.rowsWith("#workers", fmt.Sprintf("%.2f%%", float64(w.AccuracyPPM)/1e4)) < 1 {
			t.Fatalf("worker %s accuracy %d not shown", w.Address, w.AccuracyPPM)
		}
	}
	b.shot("label-job")

	// Compute: providers with stake and reputation, the job's verdicts.
	var provs []compute.ProviderInfo
	q("compute", "providers", &provs)
	b.visit("/compute", "#providers")
	if b.rowsWith("#providers", "H100") != len(provs) || len(provs) != 1 || b.rowsWith("#providers", tnn(provs[0].Stake)) != 1 {
		t.Fatalf("providers %+v not shown", provs)
	}
	b.shot("compute")
	var cj compute.Job
	q("compute", fmt.Sprintf("job/%d", act.computeID), &cj)
	b.visit(fmt.Sprintf("/compute/job/%d", act.computeID), "#assignments")
	if b.text("#cjob-status") != cj.Status || b.rowsWith("#assignments", "") != len(cj.Assignments) {
		t.Fatalf("compute job page differs: %q vs %+v", b.text("#cjob-status"), cj)
	}
	b.shot("compute-job")

	// zkML: the model and its verified claim.
	var claims []registry.Claim
	q("zkml", "claims/1", &claims)
	b.visit("/zkml", "#models")
	if b.rowsWith("#models", "tiny-mlp") != 1 || b.rowsWith("#circuits", "") != 1 {
		t.Fatal("zkml page lacks the model or the circuit")
	}
	b.shot("zkml")
	b.visit("/zkml/model/1", "#claims")
	if len(claims) != 1 || b.rowsWith("#claims", "proof verified") != 1 {
		t.Fatalf("claims %+v not shown", claims)
	}
	b.shot("zkml-model")

	// Subnets: the metagraph and the per-epoch charts.
	var mg []subnet.MetagraphEntry
	var epochs, epochs2 []subnet.EpochRecord
	q("subnet", "metagraph/1", &mg)
	q("subnet", "epochs/1", &epochs)
	b.visit("/subnets", "#subnets")
	b.visit("/subnet/1", "#metagraph")
	q("subnet", "epochs/1", &epochs2) // epochs go on while the page loads
	if n := b.rowsWith("#epochs", ""); b.rowsWith("#metagraph", "") != len(mg) || n < len(epochs) || n > len(epochs2) || len(epochs) < 2 {
		t.Fatalf("subnet page: %d uids, %d epochs shown, API %d then %d", len(mg), n, len(epochs), len(epochs2))
	}
	var paths int
	b.eval(`document.querySelectorAll('svg.chart path').length`, &paths)
	if paths < 3*len(mg) {
		t.Fatalf("%d chart lines for %d uids", paths, len(mg))
	}
	var bondLines, wantBonds int
	for _, e := range epochs {
		for _, u := range e.UIDs {
			if len(u.Bonds) > 0 {
				wantBonds = 1
			}
		}
	}
	b.eval(`document.querySelectorAll('#bond-history svg path').length`, &bondLines)
	if bondLines < wantBonds {
		t.Fatalf("%d bond lines across epochs; the API has bonds: %v", bondLines, wantBonds == 1)
	}
	b.shot("subnet")
	// Pipelines: the list, and one pipeline's stages, spending and outcome.
	var pl pipeline.Pipeline
	q("pipeline", fmt.Sprintf("pipeline/%d", act.pipelineID), &pl)
	b.visit("/pipelines", "#pipelines")
	if b.rowsWith("#pipelines", "telemetry model") != 1 {
		t.Fatal("pipelines page lacks the pipeline")
	}
	b.shot("pipelines")
	b.visit(fmt.Sprintf("/pipeline/%d", act.pipelineID), "#stages")
	var pl2 pipeline.Pipeline
	q("pipeline", fmt.Sprintf("pipeline/%d", act.pipelineID), &pl2) // it may advance while the page loads
	if st := b.text("#pipe-status"); st != pl.Status && st != pl2.Status {
		t.Fatalf("pipeline status %q, API %q then %q", st, pl.Status, pl2.Status)
	}
	if n := b.rowsWith("#stages", ""); n < len(pl.Stages) || n > len(pl2.Stages) || b.rowsWith("#stages", "label-job/") != 1 {
		t.Fatalf("%d stage rows, API %d then %d", n, len(pl.Stages), len(pl2.Stages))
	}
	if b.text("#pipe-refunded") != tnn(pl2.Refunded) && b.text("#pipe-refunded") != tnn(pl.Refunded) {
		t.Fatalf("refunded %q, API %d", b.text("#pipe-refunded"), pl2.Refunded)
	}
	var bars int
	b.eval(`document.querySelectorAll('svg[aria-label="paid out per stage"] rect').length`, &bars)
	if bars != b.rowsWith("#stages", "") {
		t.Fatalf("%d bars for %d stages", bars, b.rowsWith("#stages", ""))
	}
	var stray bool
	b.eval(`/\b(null|undefined|NaN)\b/.test(document.getElementById('view').innerText)`, &stray)
	if stray {
		t.Fatal("the pipeline page shows null, undefined or NaN")
	}
	b.shot("pipeline")
	b.clean("market pages")

	// Bad input: a clear page, no crash.
	for _, c := range []struct{ hash, sel, want string }{
		{"/block/99999999", "#notfound", "no block at height 99999999"},
		{"/block/abc", "#error", "want a positive number"},
		{"/tx/" + strings.Repeat("0", 64), "#notfound", "no transaction"},
		{"/tx/xyz", "#error", "64 hex digits"},
		{"/account/" + chain.Address{1, 2, 3}.String(), "#notfound", "no balance, stake or history"},
		{"/account/tenun1bogus", "#error", "address"},
		{"/search/%3Cscript%3E", "#error", "is not a height"},
		{"/search/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "#notfound", "no blob"},
		{"/data/999", "#notfound", "999"},
		{"/label/x", "#error", "want a number"},
		{"/nowhere", "#notfound", "No page"},
	} {
		b.visit(c.hash, c.sel)
		if got := b.text(c.sel); !strings.Contains(got, c.want) {
			t.Fatalf("%s: %s says %q, want %q", c.hash, c.sel, got, c.want)
		}
	}
	b.shot("not-found")
	b.clean("bad input")
}

// Contributions mirrors the data market's contributions query.
type Contributions = data.Contributions

// tnn is the page's formatting of an amount.
func tnn(u uint64) string {
	whole := strconv.FormatUint(u/1_000_000, 10)
	var g []string
	for len(whole) > 3 {
		g = append([]string{whole[len(whole)-3:]}, g...)
		whole = whole[:len(whole)-3]
	}
	g = append([]string{whole}, g...)
	return fmt.Sprintf("%s.%06d TNN", strings.Join(g, ","), u%1_000_000)
}

var clientOpts = client.Options{}

// untnn parses the page's formatting of an amount back.
func untnn(t *testing.T, s string) uint64 {
	t.Helper()
	s = strings.ReplaceAll(strings.TrimSuffix(s, " TNN"), ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	w, err1 := strconv.ParseUint(whole, 10, 64)
	f, err2 := strconv.ParseUint(frac, 10, 64)
	if err1 != nil || err2 != nil || len(frac) != 6 {
		t.Fatalf("amount %q is not formatted as TNN", s)
	}
	return w*1_000_000 + f
}
