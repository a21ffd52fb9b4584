package compute

import (
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/data"
)

// A job over a dataset version: refused without a grant, state unchanged;
// with one, the job's scope may read the version while the job lasts, its
// assigned providers are the scope's members, and lineage is recorded.
func TestJobOverDatasetNeedsGrant(t *testing.T) {
	h := newHarness(t, nil, data.Domain{})
	const curator, contributor = 6, 7
	h.must(curator, &data.MsgCreate{Name: "digits", Price: 500, MaxBatch: 10, Schema: []data.Column{{Name: "p0", Type: data.TypeInt}}})
	h.must(contributor, &data.MsgContribute{Dataset: 1, Records: [][]string{{"1"}, {"2"}}})
	h.must(curator, &data.MsgSnapshot{Dataset: 1})
	for p := byte(2); p <= 4; p++ {
		h.register(p)
	}
	m := h.jobMsg(2)
	m.Data = []DataInput{{Name: "train.csv", Dataset: 1, Version: 1}}
	h.mustFail(tenant, m, chain.ErrUnauthorized, "buy version 1")
	bad := *m
	bad.Data = []DataInput{{Name: "data.bin", Dataset: 1, Version: 1}}
	h.mustFail(tenant, &bad, chain.ErrInvalidRequest, "collides")
	bad.Data = []DataInput{{Name: "train.csv", Dataset: 1, Version: 2}}
	h.must(tenant, &data.MsgBuy{Dataset: 1, Version: 1})
	h.mustFail(tenant, &bad, chain.ErrNotFound, "no version 2")
	id := h.post(m)
	j := h.job(id)
	g, ok := data.GetScopedGrant(h.KV, 1, Scope(id))
	if !ok || g.Expires != j.Deadline || g.Tenant != addr(tenant) {
		t.Fatalf("scoped grant %+v %v", g, ok)
	}
	if len(j.Assignments) != 2 {
		t.Fatalf("assignments %+v", j.Assignments)
	}
	if !scopeMember(h.KV, Scope(id), j.Assignments[0].Provider) || scopeMember(h.KV, Scope(id), addr(tenant)) {
		t.Fatal("scope members: the assigned providers, not the tenant")
	}
	edges := data.EdgesTo(h.KV, Scope(id))
	if len(edges) != 1 || edges[0].From != "dataset/1@1" || !edges[0].Verified {
		t.Fatalf("lineage %+v", edges)
	}
}
