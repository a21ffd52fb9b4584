package pipeline

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/subnet"
)

// LineageView is the tree behind an artifact, read from chain state: the
// chain-written edges back to the raw data, the contributors of every
// dataset version reached, the annotators of every labelling job and the
// providers of every compute job, with what each was paid or slashed;
// hand-made claims are listed apart as unverified.
type LineageView struct {
	Ref          string        `json:"ref"`
	Pipeline     *Pipeline     `json:"pipeline,omitempty"`
	Edges        []data.Edge   `json:"edges"`
	Contributors []Contributor `json:"contributors"`
	Annotators   []Annotator   `json:"annotators"`
	Providers    []Provider    `json:"providers"`
	// Revenue is what a served model's royalties paid whom (the pipeline's
	// serve stage, or a subnet/<id>.<seq> ref).
	Revenue    []subnet.Revenue `json:"revenue"`
	Unverified []data.Edge      `json:"unverified"`
}

// Contributor is an account with a share of a dataset version.
type Contributor struct {
	Dataset string        `json:"dataset"` // dataset/<id>@<v>
	Address chain.Address `json:"address"`
	Records uint64        `json:"records"` // accepted records (a weight, for a labelled version)
}

// Annotator is a worker of a labelling job.
type Annotator struct {
	Job      string        `json:"job"`
	Address  chain.Address `json:"address"`
	ScorePPM uint32        `json:"score_ppm"`
	Answers  uint32        `json:"answers"`
	Paid     uint64        `json:"paid"`
	Slashed  uint64        `json:"slashed"`
	Reason   string        `json:"reason,omitempty"`
}

// Provider is a compute provider's part in a job.
type Provider struct {
	Job     string        `json:"job"`
	Address chain.Address `json:"address"`
	Verdict string        `json:"verdict,omitempty"`
	Paid    uint64        `json:"paid"`
	Slashed uint64        `json:"slashed"`
}

// Lineage builds the view of ref.
func Lineage(kv store.KV, ref string) (LineageView, error) {
	v := LineageView{Ref: ref, Edges: []data.Edge{}, Contributors: []Contributor{}, Annotators: []Annotator{}, Providers: []Provider{}, Revenue: []subnet.Revenue{}, Unverified: []data.Edge{}}
	if idStr, ok := strings.CutPrefix(ref, "pipeline/"); ok {
		id, err := strconv.ParseUint(idStr, 10, 64)
		if err != nil {
			return v, chain.Wrap(chain.ErrInvalidRequest, "pipeline id %q", idStr)
		}
		p, err := Get(kv, id)
		if err != nil {
			return v, err
		}
		v.Pipeline = &p
	}
	if v.Pipeline != nil && v.Pipeline.Served != 0 {
		v.Revenue = subnet.Revenues(kv, v.Pipeline.Spec.Serve.Subnet, v.Pipeline.Served)
	}
	if rest, ok := strings.CutPrefix(ref, "subnet/"); ok && strings.Contains(rest, ".") {
		sub, seq, _ := strings.Cut(rest, ".")
		id, err1 := strconv.ParseUint(sub, 10, 64)
		n, err2 := strconv.ParseUint(seq, 10, 64)
		if err1 != nil || err2 != nil {
			return v, chain.Wrap(chain.ErrInvalidRequest, "served model %q: want subnet/<id>.<seq>", ref)
		}
		v.Revenue = subnet.Revenues(kv, id, n)
	}
	edges, versions, claims := data.Trace(kv, ref)
	v.Edges = append(v.Edges, edges...)
	v.Unverified = append(v.Unverified, claims...)
	if len(edges) == 0 && v.Pipeline == nil && !strings.HasPrefix(ref, "dataset/") {
		return v, chain.Wrap(chain.ErrNotFound, "no lineage recorded for %q", ref)
	}
	for _, ver := range versions {
		for _, s := range ver.Contributors {
			v.Contributors = append(v.Contributors, Contributor{Dataset: data.DatasetRef(ver.Dataset, ver.Version), Address: s.Contributor, Records: s.Records})
		}
	}
	seen := map[string]bool{} // lookups only
	nodes := []string{ref}
	for _, e := range edges {
		nodes = append(nodes, e.From)
	}
	for _, n := range nodes {
		if seen[n] {
			continue
		}
		seen[n] = true
		kind, idStr, _ := strings.Cut(n, "/")
		id, err := strconv.ParseUint(idStr, 10, 64)
		if err != nil {
			continue
		}
		switch kind {
		case "label-job":
			j, err := label.GetJob(kv, id)
			if err != nil {
				continue
			}
			for _, w := range label.Workers(kv, &j) {
				v.Annotators = append(v.Annotators, Annotator{Job: n, Address: w.Address, ScorePPM: w.ScorePPM, Answers: w.Revealed,
					Paid: w.Paid, Slashed: w.Slashed, Reason: w.Reason})
			}
		case "compute-job":
			j, err := compute.GetJob(kv, id)
			if err != nil {
				continue
			}
			for _, a := range j.Assignments {
				v.Providers = append(v.Providers, Provider{Job: n, Address: a.Provider, Verdict: a.Verdict, Paid: a.Paid, Slashed: a.SlashedBy})
			}
		}
	}
	return v, nil
}
