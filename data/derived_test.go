package data

import (
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/internal/scenario"
)

// A labelled version built by the chain: raw records joined with their
// labels, lineage recorded by the chain, revenue split by the shares
// declared up front, exactly.
func TestPublishLabelledAndShares(t *testing.T) {
	h := newHarness(t)
	if err := h.run(1, 2, &MsgCreate{Name: "temps", Schema: schema(), Price: 1000, MaxBatch: 10}); err != nil {
		t.Fatal(err)
	}
	if err := h.run(2, 3, &MsgContribute{Dataset: 1, Records: [][]string{{"a", "1", ""}, {"b", "2", ""}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.run(3, 3, &MsgContribute{Dataset: 1, Records: [][]string{{"c", "3", ""}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.run(1, 4, &MsgSnapshot{Dataset: 1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CanUse(h.KV, 1, 1, addr(4)); chain.CodeOf(err) != chain.ErrUnauthorized.Code {
		t.Fatalf("no grant: %v", err)
	}
	if _, _, err := CanUse(h.KV, 1, 1, addr(1)); err != nil {
		t.Fatalf("curator: %v", err)
	}
	raw, _ := GetVersion(h.KV, 1, 1)
	ctx := chain.NewContext(h.KV, chain.Block{Height: 6}, chain.DefaultParams())
	l := Labelled{Raw: raw, Job: 7, Owner: addr(1), Name: "temps labelled", Labels: []string{"cold", "warm"},
		ItemLabels: []int32{0, 1, -1}, Confidence: []uint32{900_000, 800_000, 0}, Price: 10_000, AnnotatorBps: 2000,
		Qualities: []WorkerQuality{{Worker: addr(5), ScorePPM: 950_000, Answers: 3, Paid: 30}, {Worker: addr(4), ScorePPM: 100_000, Answers: 1}}}
	// A result that does not cover the version is refused.
	bad := l
	bad.ItemLabels = bad.ItemLabels[:2]
	scenario.MustReject(t, h.KV, "short result", chain.ErrInvalidRequest, "for a version of 3", func() error { _, err := PublishLabelled(ctx, bad); return err })
	id, err := PublishLabelled(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	v, err := GetVersion(h.KV, id, 1)
	if err != nil || v.Count != 2 || v.Derivation == nil || v.Derivation.Job != "label-job/7" {
		t.Fatalf("labelled version %+v %v", v, err)
	}
	rows, err := Rows(h.KV, id, v.Count)
	if err != nil || len(rows) != 2 || rows[1][3] != "warm" || rows[1][4] != "800000" {
		t.Fatalf("rows %v %v", rows, err)
	}
	hashes := make([]chain.Hash, len(rows))
	for i, r := range rows {
		hashes[i] = RecordHash(r)
	}
	if MerkleRoot(hashes) != v.Root {
		t.Fatal("rows do not match the version's root")
	}
	edges, versions, _ := Trace(h.KV, DatasetRef(id, 1))
	if len(edges) != 2 || len(versions) != 2 || !edges[0].Verified {
		t.Fatalf("trace: %+v %+v", edges, versions)
	}
	// The contributors' pool (the whole price: no curator share) splits
	// 80% to the raw contributors by records (2:1), 20% to the paid annotator.
	before := chain.Balance(h.KV, addr(5))
	if err := h.run(4, 7, &MsgBuy{Dataset: id, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if got := chain.Balance(h.KV, addr(5)) - before; got != 2000 {
		t.Fatalf("annotator got %d, want 2000", got)
	}
	cur, paid := Split(10_000, 0, v.Contributors)
	var sum uint64
	for _, p := range paid {
		sum += p
	}
	if cur+sum != 10_000 || paid[0] != 5333 || paid[1] != 2666 || paid[2] != 2000 {
		t.Fatalf("split %d %v", cur, paid)
	}
	// Nobody contributes to a derived dataset.
	h.mustFail(2, &MsgContribute{Dataset: id, Records: [][]string{{"d", "4", "", "cold", "1"}}}, chain.ErrInvalidRequest, "limit of 0")
}

// A scoped grant opens a version to a scope's members only, until it expires.
func TestScopedGrant(t *testing.T) {
	h := newHarness(t)
	if err := h.run(1, 2, &MsgCreate{Name: "temps", Schema: schema(), Price: 1000, MaxBatch: 10}); err != nil {
		t.Fatal(err)
	}
	if err := h.run(2, 3, &MsgContribute{Dataset: 1, Records: [][]string{{"a", "1", ""}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.run(1, 4, &MsgSnapshot{Dataset: 1}); err != nil {
		t.Fatal(err)
	}
	RegisterScope("test-job", func(_ store.KV, scope string, a chain.Address) bool { return scope == "test-job/1" && a == addr(5) })
	ctx := chain.NewContext(h.KV, chain.Block{Height: 5}, chain.DefaultParams())
	scenario.MustReject(t, h.KV, "tenant without a grant", chain.ErrUnauthorized, "buy version 1", func() error {
		return GrantScoped(ctx, 1, 1, "test-job/1", addr(3), 20)
	})
	if err := GrantScoped(ctx, 1, 1, "test-job/1", addr(1), 20); err != nil {
		t.Fatal(err)
	}
	if err := ScopedAccess(h.KV, 1, 1, "test-job/1", addr(5), 10); err != nil {
		t.Fatalf("member: %v", err)
	}
	for _, c := range []struct {
		scope string
		who   chain.Address
		ver   uint64
		h     int64
		want  string
	}{
		{"test-job/1", addr(4), 1, 10, "not part of"},
		{"test-job/1", addr(5), 1, 20, "expired"},
		{"test-job/1", addr(5), 2, 10, "no scoped grant"},
		{"test-job/2", addr(5), 1, 10, "no scoped grant"},
	} {
		if err := ScopedAccess(h.KV, 1, c.ver, c.scope, c.who, c.h); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
