package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/demo"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// `tenun demo` as a user runs it: one process, a real node, every market's
// agents. While its node is still up after the summary, the chain itself is
// checked against what the demo claims: supply conserved; every cheater
// refused or slashed and every honest supplier up; the verified claim is
// about the training job's output; the lineage reaches every accepted
// contributor and every paid annotator; the refund is the unspent budget.
func TestDemoPipelineEndToEnd(t *testing.T) {
	needBinary(t)
	dir := workDir(t)
	home := filepath.Join(dir, "demo")
	errLog, err := os.Create(filepath.Join(dir, "demo.err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errLog.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tenunBin, "demo", "--home", home, "-o", "json")
	cmd.Env = childEnv()
	cmd.Stderr = errLog
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("---- tail of the demo's stderr:\n%s", tail(errLog.Name(), 40))
		}
	})
	var sum demo.Summary
	if err := json.NewDecoder(stdout).Decode(&sum); err != nil {
		t.Fatalf("the demo printed no JSON summary: %v", err)
	}
	t.Logf("demo summary after %s (the demo's own count %.1fs): stages %+v", time.Since(start).Round(time.Millisecond), sum.Seconds, sum.Stages)
	c := client.New(strings.TrimSuffix(strings.TrimPrefix(sum.Dashboard, "http://"), "/"))
	q := func(domain, path string, out any) {
		t.Helper()
		if err := c.Query(ctx, domain, path, nil, out); err != nil {
			t.Fatalf("query %s %s: %v", domain, path, err)
		}
	}
	who := map[string]demo.Outcome{}
	for _, o := range sum.Outcomes {
		who[o.Name] = o
	}

	// The pipeline completed, and its refund is exactly what it did not spend.
	var p pipeline.Pipeline
	q("pipeline", "pipeline/1", &p)
	if p.Status != pipeline.StatusCompleted || p.Served == 0 || p.Claim == 0 {
		t.Fatalf("pipeline %+v", p)
	}
	var spent uint64
	for _, st := range p.Stages {
		spent += st.Spent
	}
	if p.Refunded != p.Budget-spent || spent == 0 {
		t.Errorf("refunded %d of a budget %d with %d spent", p.Refunded, p.Budget, spent)
	}

	// The claim the chain verified is about the training job's output.
	var job compute.Job
	q("compute", fmt.Sprintf("job/%d", p.ComputeJob), &job)
	var claims []registry.Claim
	q("zkml", fmt.Sprintf("claims/%d", p.Model), &claims)
	if len(claims) == 0 || claims[0].ComputeJob != job.ID || job.Result == nil || claims[0].Output != job.Result.Output || claims[0].Seq != p.Claim {
		t.Fatalf("claims %+v about job %d output %+v", claims, job.ID, job.Result)
	}

	// Supply: what the subnet minted, less the slashes burned.
	var supply struct {
		Supply uint64 `json:"supply"`
	}
	q("core", "supply", &supply)
	var info subnet.Info
	q("subnet", "info/1", &info)
	var burned uint64
	for _, o := range sum.Outcomes {
		a, err := c.Account(ctx, o.Address)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range a.Slashes {
			if s.Beneficiary == (chain.Address{}) {
				burned += s.Amount
			}
		}
	}
	if supply.Supply != sum.Supply.Start+info.Minted-burned || !sum.Supply.Conserved {
		t.Errorf("supply %d, want start %d + minted %d - burned %d", supply.Supply, sum.Supply.Start, info.Minted, burned)
	}

	// Cheaters: refused on entry, or slashed; honest suppliers end up.
	var contrib data.Contributions
	q("data", "contributions/1", &contrib)
	refused := 0
	for _, b := range contrib.Batches {
		if b.Contributor == who["dave"].Address {
			refused += len(b.Rejected)
		}
	}
	if refused != 5 {
		t.Errorf("the cheating contributor had %d records refused, want 5", refused)
	}
	for _, name := range []string{"grace", "heidi", "mallory"} { // spammer, copier, wrong model
		a, err := c.Account(ctx, who[name].Address)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Slashes) == 0 || who[name].Net >= 0 {
			t.Errorf("%s (%s) was not slashed: %+v, net %d", name, who[name].Behavior, a.Slashes, who[name].Net)
		}
	}
	for _, name := range []string{"bob", "carol", "eve", "frank", "ivan", "judy", "olivia", "peggy", "rupert"} {
		if who[name].Net <= 0 || len(who[name].Slashes) > 0 {
			t.Errorf("honest %s (%s) ended with net %d, slashes %+v", name, who[name].Role, who[name].Net, who[name].Slashes)
		}
	}

	// The weight copier sees only revealed (last epoch's) weights: it earns
	// less than the honest validator.
	if who["sybil"].Net >= who["rupert"].Net {
		t.Errorf("the copying validator earned %d, the honest one %d", who["sybil"].Net, who["rupert"].Net)
	}

	// Lineage: every accepted contributor and every paid annotator.
	var lin pipeline.LineageView
	q("pipeline", "lineage/"+subnet.ModelRef(1, p.Served), &lin)
	inLineage := map[chain.Address]bool{}
	for _, x := range lin.Contributors {
		inLineage[x.Address] = true
	}
	for _, x := range lin.Annotators {
		if x.Paid > 0 {
			inLineage[x.Address] = true
		}
	}
	for _, s := range contrib.Shares {
		if s.Records > 0 && !inLineage[s.Contributor] {
			t.Errorf("contributor %s of %d records is not in the served model's lineage", s.Contributor, s.Records)
		}
	}
	var res label.ResultsView
	q("label", fmt.Sprintf("results/%d", p.LabelJob), &res)
	paid := 0
	for _, w := range res.Workers {
		if w.Paid > 0 {
			paid++
			if !inLineage[w.Address] {
				t.Errorf("annotator %s, paid %d, is not in the served model's lineage", w.Address, w.Paid)
			}
		}
	}
	if paid < 2 {
		t.Errorf("%d annotators paid", paid)
	}
	// And the model earned back to them: revenue from the subnet.
	var served subnet.ModelView
	q("subnet", fmt.Sprintf("model/1/%d", p.Served), &served)
	var revenue uint64
	for _, r := range served.Revenues {
		revenue += r.Amount
	}
	if served.Earned == 0 || revenue != served.Earned || len(served.Miners) != 2 {
		t.Errorf("served model %+v", served)
	}
}
