package label

import (
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/data"
)

// A job over a dataset version: the requester must be able to use the
// version, the items are its records' chosen columns, and the closed job
// becomes a labelled dataset whose lineage reaches the raw contributors and
// the job.
func TestJobOverDatasetVersion(t *testing.T) {
	h := newHarness(t, 8, 10_000_000)
	h.App = chain.NewApp(h.App.ChainID, Domain{}, data.Domain{})
	curator, c1, c2 := addr(6), addr(7), addr(8)
	h.must(curator, &data.MsgCreate{Name: "reviews", Price: 100, MaxBatch: 10, Schema: []data.Column{
		{Name: "id", Type: data.TypeInt}, {Name: "text", Type: data.TypeString, Required: true, MaxLen: 40}}})
	h.must(c1, &data.MsgContribute{Dataset: 1, Records: [][]string{{"1", "awful"}, {"2", "fine"}}})
	h.must(c2, &data.MsgContribute{Dataset: 1, Records: [][]string{{"3", "great"}, {"4", "meh"}}})
	h.must(curator, &data.MsgSnapshot{Dataset: 1})

	m := textJob(4)
	m.Items, m.GoldHash, m.ItemCount = nil, chain.Hash{}, 4
	m.Source = &DataSource{Dataset: 1, Version: 1, Columns: []string{"text"}, Name: "reviews labelled", Price: 1000, AnnotatorBps: 3000}
	h.mustFail(requester, m, chain.ErrUnauthorized, "buy version 1")
	h.must(requester, &data.MsgBuy{Dataset: 1, Version: 1})
	wrong := *m
	wrong.ItemCount, wrong.MaxPerWorker = 3, 3
	h.mustFail(requester, &wrong, chain.ErrInvalidRequest, "has 4 records")
	src := *m.Source
	src.Columns = []string{"stars"}
	wrong = *m
	wrong.Source = &src
	h.mustFail(requester, &wrong, chain.ErrInvalidRequest, `no column "stars"`)
	both := *m
	both.Items = []string{"a", "b", "c", "d"}
	h.mustFail(requester, &both, chain.ErrInvalidRequest, "takes its items from it")
	h.must(requester, m)
	if got := ItemText(h.KV, 1, 2); got != "great" {
		t.Fatalf("item 2 shows %q", got)
	}

	labels := map[uint32]uint32{0: 0, 1: 1, 2: 2, 3: 1}
	workers := []chain.Address{alice, bob}
	for _, w := range workers {
		h.must(w, &chain.MsgBond{Pool: Pool, Amount: 5000})
		h.must(w, &MsgJoin{Job: 1})
	}
	for _, w := range workers {
		h.must(w, commitMsg(1, w, labels, itemsOf(h.tasks(1, w))...))
	}
	for _, w := range workers {
		h.must(w, revealMsg(1, w, labels, itemsOf(h.tasks(1, w))...))
	}
	h.advance(h.job(1).CommitEnd + 1)
	h.must(requester, &MsgClose{Job: 1})
	j := h.job(1)
	if j.Labelled != 2 {
		t.Fatalf("labelled dataset %d, want 2", j.Labelled)
	}
	v, err := data.GetVersion(h.KV, 2, 1)
	if err != nil || v.Count != 4 || v.Derivation == nil || len(v.Derivation.Qualities) != 2 {
		t.Fatalf("labelled version %+v %v", v, err)
	}
	rows, err := data.Rows(h.KV, 2, 4)
	if err != nil || rows[2][0] != "3" || rows[2][1] != "great" || rows[2][2] != "pos" {
		t.Fatalf("labelled rows %v %v", rows, err)
	}
	edges, versions, _ := data.Trace(h.KV, data.DatasetRef(2, 1))
	reached := map[string]bool{}
	for _, e := range edges {
		reached[e.From] = true
	}
	if !reached["label-job/1"] || !reached["dataset/1@1"] || len(versions) != 2 || len(versions[1].Contributors) != 2 {
		t.Fatalf("lineage %+v %+v", edges, versions)
	}
	// The requester owns the labelled dataset; a buyer pays the raw
	// contributors and the paid annotators by the declared shares.
	d, _ := data.GetDataset(h.KV, 2)
	if d.Owner != requester {
		t.Fatalf("labelled dataset owner %s", d.Owner)
	}
	before := h.balance(alice) + h.balance(bob)
	h.must(addr(5), &data.MsgBuy{Dataset: 2, Version: 1})
	if got := h.balance(alice) + h.balance(bob) - before; got < 299 || got > 300 {
		t.Fatalf("annotators earned %d of a 1000 sale, want 30%%", got)
	}
	h.invariants()
}
