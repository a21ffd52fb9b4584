package label

import (
	"github.com/tenun-chain/tenun/internal/scenario"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
)

var (
	requester = addr(1)
	alice     = addr(2)
	bob       = addr(3)
	poor      = addr(9)
)

var goldSalt = chain.Hash(bytes.Repeat([]byte{7}, 32))

// textJob is a small inline job: items 0 and 1 are gold (labels 0 and 2).
func textJob(n int) *MsgCreateJob {
	m := &MsgCreateJob{
		Title: "sentiment", Labels: []string{"neg", "neu", "pos"}, ItemKind: KindText,
		Redundancy: 2, MaxRedundancy: 3, ConfidencePPM: 800_000, Reward: 1000, Stake: 5000,
		DeadlineBlocks: 20, RevealBlocks: 10, GraceBlocks: 10, QualityPPM: 500_000,
		BatchSize: 4, MaxPerWorker: uint32(n),
		GoldHash: GoldHash([]uint32{0, 1}, []uint32{0, 2}, goldSalt),
	}
	for i := range n {
		m.Items = append(m.Items, fmt.Sprintf("review %d", i))
	}
	return m
}

func commitMsg(job uint64, w chain.Address, labels map[uint32]uint32, items ...uint32) *MsgCommit {
	m := &MsgCommit{Job: job}
	for _, it := range items {
		m.Entries = append(m.Entries, CommitEntry{Item: it, Hash: CommitHash(job, it, labels[it], salt(w, it), w)})
	}
	return m
}

func revealMsg(job uint64, w chain.Address, labels map[uint32]uint32, items ...uint32) *MsgReveal {
	m := &MsgReveal{Job: job}
	for _, it := range items {
		m.Entries = append(m.Entries, RevealEntry{Item: it, Label: labels[it], Salt: salt(w, it)})
	}
	return m
}

func itemsOf(ts []Task) []uint32 {
	out := make([]uint32, len(ts))
	for i, t := range ts {
		out[i] = t.Item
	}
	return out
}

// Every bad input is rejected with a clear error and changes nothing.
func TestCreateValidation(t *testing.T) {
	cases := []struct {
		edit func(m *MsgCreateJob)
		want string
	}{
		{func(m *MsgCreateJob) { m.Title = "" }, "title"},
		{func(m *MsgCreateJob) { m.Labels = m.Labels[:1] }, "labels"},
		{func(m *MsgCreateJob) { m.ItemKind = "video" }, "item kind"},
		{func(m *MsgCreateJob) { m.Items = nil }, "inline items"},
		{func(m *MsgCreateJob) { m.Items[1] = "" }, "item 1"},
		{func(m *MsgCreateJob) { m.MaxRedundancy = MaxRedundancy + 1 }, "redundancy"},
		{func(m *MsgCreateJob) { m.Reward = 0 }, "reward"},
		{func(m *MsgCreateJob) { m.GraceBlocks = 1 }, "grace"},
		{func(m *MsgCreateJob) { m.BatchSize = 0 }, "batch size"},
		{func(m *MsgCreateJob) { m.MaxPerWorker = 99 }, "max items per worker"},
		{func(m *MsgCreateJob) { m.ConfidencePPM = 2_000_000 }, "parts per million"},
		{func(m *MsgCreateJob) { m.ItemsCID = chain.BlobCID([]byte("x")) }, "not both"},
	}
	for _, c := range cases {
		m := textJob(4)
		c.edit(m)
		err := m.ValidateBasic()
		if err == nil || chain.CodeOf(err) != chain.ErrInvalidRequest.Code || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%q: got %v", c.want, err)
		}
	}
	big := &MsgCreateJob{Title: "t", Labels: []string{"a", "b"}, ItemKind: KindGrid, ItemsCID: chain.BlobCID([]byte("x")),
		ItemCount: MaxItems + 1, ItemFormat: FormatCSV, Redundancy: 3, MaxRedundancy: MaxRedundancy, Reward: 1, DeadlineBlocks: 1,
		RevealBlocks: 1, GraceBlocks: MinGraceBlocks, BatchSize: 1, MaxPerWorker: 1}
	if err := big.ValidateBasic(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("item count")) {
		t.Fatalf("%d items: %v", MaxItems+1, err)
	}
	big.ItemCount = MaxItems
	if err := big.ValidateBasic(); err != nil {
		t.Fatalf("%d items x %d is within the limits: %v", MaxItems, MaxRedundancy, err)
	}
	// Typed jobs close over blocks too, so they take as many items; a
	// multi-label answer is one yes/no answer per label.
	big.Task, big.MaxBoxes, big.Width, big.Height = TaskBox, 4, 100, 100
	if err := big.ValidateBasic(); err != nil {
		t.Fatalf("a box job of %d items x %d: %v", MaxItems, MaxRedundancy, err)
	}
	big.Task, big.MaxBoxes, big.Width, big.Height, big.RatingMin, big.RatingMax = TaskRating, 0, 0, 0, 0, 100
	big.Labels = nil
	if err := big.ValidateBasic(); err != nil {
		t.Fatalf("a rating job of %d items x %d: %v", MaxItems, MaxRedundancy, err)
	}
	big.Task, big.RatingMin, big.RatingMax, big.Labels = TaskMulti, 0, 0, []string{"a", "b"}
	if err := big.ValidateBasic(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("2 labels = 1800000 yes/no answers, at most 1048576")) {
		t.Fatalf("a multi job of %d items x %d x 2 labels: %v", MaxItems, MaxRedundancy, err)
	}
	big.MaxRedundancy = 5
	if err := big.ValidateBasic(); err != nil {
		t.Fatalf("a multi job of %d items x 5 x 2 labels: %v", MaxItems, err)
	}
}

// A zero (unset) commit hash or salt is refused before any state is read.
func TestZeroHashAndSaltRefused(t *testing.T) {
	for _, c := range []struct {
		m    chain.Msg
		want string
	}{
		{&MsgCommit{Job: 1, Entries: []CommitEntry{{Item: 0, Hash: chain.Hash{1}}, {Item: 1}}}, "entry 1: commit hash is missing"},
		{&MsgReveal{Job: 1, Entries: []RevealEntry{{Item: 0}}}, "entry 0: salt is missing"},
		{&MsgClose{Job: 1, GoldItems: []uint32{0}, GoldLabels: []uint32{1}}, "gold salt is missing"},
	} {
		if err := c.m.ValidateBasic(); !errors.Is(err, chain.ErrInvalidRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an invalid request saying %q", c.m.Type(), err, c.want)
		}
	}
	// A job without gold has a zero gold hash, and closes without a salt.
	m := textJob(4)
	m.GoldHash = chain.Hash{}
	if err := m.ValidateBasic(); err != nil {
		t.Errorf("a job without gold: %v", err)
	}
	if err := (&MsgClose{Job: 1}).ValidateBasic(); err != nil {
		t.Errorf("a close without gold: %v", err)
	}
}

func TestHashesBindEveryField(t *testing.T) {
	s := chain.Hash(bytes.Repeat([]byte{3}, 32))
	base := CommitHash(1, 2, 3, s, alice)
	for name, h := range map[string]chain.Hash{
		"job": CommitHash(2, 2, 3, s, alice), "item": CommitHash(1, 3, 3, s, alice), "label": CommitHash(1, 2, 4, s, alice),
		"salt": CommitHash(1, 2, 3, chain.Hash(bytes.Repeat([]byte{4}, 32)), alice), "worker": CommitHash(1, 2, 3, s, bob),
	} {
		if h == base {
			t.Errorf("commit hash ignores the %s", name)
		}
	}
	g := GoldHash([]uint32{1, 2}, []uint32{0, 1}, s)
	if g == GoldHash([]uint32{1, 2}, []uint32{1, 0}, s) || g == GoldHash([]uint32{1, 3}, []uint32{0, 1}, s) ||
		g == GoldHash([]uint32{1, 2}, []uint32{0, 1}, goldSalt) {
		t.Fatal("gold hash ignores a field")
	}
}

// Assignment draws from the block seed: the same blocks give the same
// assignment, a worker never gets an item twice, and no item gets more
// workers than it needs.
func TestAssignmentIsDeterministicAndFair(t *testing.T) {
	run := func() (*harness, string) {
		h := newHarness(t, 20, 10_000_000)
		m := textJob(30)
		m.BatchSize, m.MaxPerWorker, m.Redundancy, m.MaxRedundancy = 7, 12, 2, 2
		h.must(requester, m)
		for i := 2; i <= 20; i++ {
			h.must(addr(byte(i)), &chain.MsgBond{Pool: Pool, Amount: 5000})
		}
		for i := 2; i <= 20; i++ {
			if err := h.run(addr(byte(i)), &MsgJoin{Job: 1}); err != nil && chain.CodeOf(err) != chain.ErrNotFound.Code {
				t.Fatal(err)
			}
			h.next()
		}
		return h, scenario.Dump(h.KV)
	}
	h, d1 := run()
	_, d2 := run()
	if d1 != d2 {
		t.Fatal("the same blocks gave different assignments")
	}
	per := make([]int, 30)
	for i := 2; i <= 20; i++ {
		seen := map[uint32]bool{}
		for _, task := range h.tasks(1, addr(byte(i))) {
			if seen[task.Item] {
				t.Fatalf("worker %d got item %d twice", i, task.Item)
			}
			seen[task.Item] = true
			per[task.Item]++
		}
	}
	for i, n := range per {
		if n != 2 {
			t.Fatalf("item %d has %d workers, want redundancy 2 (all 60 slots handed out): %v", i, n, per)
		}
	}
	// A worker who committed everything asks for more; none is left.
	w := addr(2)
	h.must(w, commitMsg(1, w, nil, itemsOf(h.tasks(1, w))...))
	h.mustFail(w, &MsgMore{Job: 1}, chain.ErrNotFound, "no items that need an answer")
}

// An item whose answers disagree gets more answers, up to the cap; the
// extra slots go out in later rounds.
func TestDynamicOverlap(t *testing.T) {
	h := newHarness(t, 8, 10_000_000)
	m := textJob(1)
	m.Labels = []string{"no", "yes"}
	m.GoldHash = chain.Hash{}
	m.Redundancy, m.MaxRedundancy, m.BatchSize, m.MaxPerWorker = 2, 4, 1, 1
	h.must(requester, m)
	answer := map[chain.Address]uint32{addr(2): 0, addr(3): 1, addr(4): 1, addr(5): 1, addr(6): 1}
	for a := byte(2); a <= 6; a++ {
		h.must(addr(a), &chain.MsgBond{Pool: Pool, Amount: 5000})
	}
	do := func(a chain.Address) {
		h.must(a, &MsgJoin{Job: 1})
		l := map[uint32]uint32{0: answer[a]}
		h.must(a, commitMsg(1, a, l, 0))
	}
	rev := func(a chain.Address) { h.must(a, revealMsg(1, a, map[uint32]uint32{0: answer[a]}, 0)) }
	do(addr(2))
	do(addr(3))
	h.mustFail(addr(4), &MsgJoin{Job: 1}, chain.ErrNotFound, "no items that need answers")
	rev(addr(2))
	rev(addr(3)) // 1-1: confidence 0.5 < 0.8, so a third answer is wanted
	if it := getItem(h.KV, &Job{ID: 1, Redundancy: 2, Labels: m.Labels}, 0); it.Need != 3 {
		t.Fatalf("need %d after a split, want 3", it.Need)
	}
	do(addr(4))
	rev(addr(4)) // 1-2 with 2 labels: 0.75 < 0.8, one more
	do(addr(5))
	rev(addr(5)) // 1-3: 0.9, settled
	h.mustFail(addr(6), &MsgJoin{Job: 1}, chain.ErrNotFound, "no items that need answers")
	if j := h.job(1); j.Overlap != 2 || j.Revealed != 4 {
		t.Fatalf("overlap %d, revealed %d: want 2 extra answers, 4 in all", j.Overlap, j.Revealed)
	}
}

// A requester who never closes forfeits: at ForfeitAt, EndBlock settles the
// job without gold, the whole escrow goes to the workers and nobody is slashed.
func TestForfeitPaysWorkers(t *testing.T) {
	h := newHarness(t, 8, 10_000_000)
	m := textJob(4)
	m.Redundancy = 3
	h.must(requester, m)
	j := h.job(1)
	workers := []chain.Address{addr(2), addr(3), addr(4)}
	truthLabel := map[uint32]uint32{0: 0, 1: 2, 2: 1, 3: 1}
	for _, w := range workers {
		h.must(w, &chain.MsgBond{Pool: Pool, Amount: 5000})
		h.must(w, &MsgJoin{Job: 1})
	}
	before := map[chain.Address]uint64{}
	for _, w := range workers {
		h.must(w, commitMsg(1, w, truthLabel, itemsOf(h.tasks(1, w))...))
	}
	h.next()
	for _, w := range workers {
		h.must(w, revealMsg(1, w, truthLabel, itemsOf(h.tasks(1, w))...))
		before[w] = h.wealth(w)
	}
	escrow := chain.EscrowBalance(h.ctx(), j.Escrow())
	h.advance(j.ForfeitAt - 1)
	h.mustFail(addr(5), &MsgClose{Job: 1}, chain.ErrUnauthorized, "only the requester")
	h.next() // EndBlock of ForfeitAt-1: nothing yet
	if h.job(1).Status != StatusOpen {
		t.Fatal("settled before ForfeitAt")
	}
	h.next() // EndBlock of ForfeitAt settles it
	j = h.job(1)
	if j.Status != StatusForfeited || j.Paid != escrow || j.Refunded != 0 || j.Slashed != 0 {
		t.Fatalf("after forfeit: %+v", j)
	}
	var gained uint64
	for _, w := range workers {
		gained += h.wealth(w) - before[w]
	}
	if gained != escrow {
		t.Fatalf("workers gained %d of an escrow of %d", gained, escrow)
	}
	h.mustFail(requester, &MsgClose{Job: 1}, chain.ErrConflict, "already forfeited")
	h.invariants()

	// A permissionless close message settles a forfeited job too, and the
	// requester can no longer send its gold.
	h.must(requester, textJob(4))
	j2 := h.job(2)
	h.advance(j2.ForfeitAt)
	h.mustFail(requester, &MsgClose{Job: 2, GoldItems: []uint32{0, 1}, GoldLabels: []uint32{0, 2}, Salt: goldSalt}, chain.ErrTooLate, "forfeited")
	reqBefore := h.balance(requester)
	h.must(addr(5), &MsgClose{Job: 2})
	// Nobody worked: the escrow goes back to the requester.
	if got := h.balance(requester) - reqBefore; got != j2.Budget {
		t.Fatalf("unworked forfeited job refunded %d, want %d", got, j2.Budget)
	}
	h.invariants()
}

// The results are stored in their canonical encoding, the job records its
// CID, and a client that rebuilds the bytes from the JSON query gets the
// same CID.
func TestResultsCIDProvenance(t *testing.T) {
	h := newHarness(t, 8, 10_000_000)
	h.must(requester, textJob(4))
	labels := map[uint32]uint32{0: 0, 1: 2, 2: 1, 3: 1}
	for _, w := range []chain.Address{alice, bob} {
		h.must(w, &chain.MsgBond{Pool: Pool, Amount: 5000})
		h.must(w, &MsgJoin{Job: 1})
	}
	for _, w := range []chain.Address{alice, bob} {
		h.must(w, commitMsg(1, w, labels, itemsOf(h.tasks(1, w))...))
	}
	for _, w := range []chain.Address{alice, bob} {
		h.must(w, revealMsg(1, w, labels, itemsOf(h.tasks(1, w))...))
	}
	h.advance(h.job(1).CommitEnd + 1) // every commit revealed: may close early
	h.must(requester, &MsgClose{Job: 1, GoldItems: []uint32{0, 1}, GoldLabels: []uint32{0, 2}, Salt: goldSalt})
	j := h.job(1)
	v, err := Domain{}.Query(h.KV, "results/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(v)
	var back ResultsView
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got := chain.BlobCID(EncodeResults(&back.Results)); got != j.ResultsCID || back.CID != j.ResultsCID {
		t.Fatalf("CID from the query %s, recorded %s", got, j.ResultsCID)
	}
	if back.Items[2].Label != 1 || back.Items[3].Label != 1 || !back.Items[0].Gold || back.Items[2].Votes != 2 {
		t.Fatalf("results: %+v", back.Items)
	}
	// Both workers were right on everything: paid in full, no slashing.
	for _, w := range back.Workers {
		if w.Paid == 0 || w.Slashed != 0 || w.Paid > uint64(w.Revealed)*1000 || w.ScorePPM < 850_000 { // (est 1 + gold reputation (2+1)/(2+2)) / 2
			t.Errorf("worker %+v", w)
		}
	}
	if j.Paid+j.Refunded != j.Budget {
		t.Fatalf("paid %d + refunded %d != budget %d", j.Paid, j.Refunded, j.Budget)
	}
	h.invariants()
}

// An answer that is its item's only evidence cannot be checked against
// anyone: a worker with only such answers is judged by the inference's own
// estimate, not slashed for lack of company, and its labels stand.
func TestSoleAnswersArePaid(t *testing.T) {
	h := newHarness(t, 4, 10_000_000)
	m := textJob(4)
	m.Redundancy, m.MaxRedundancy, m.GoldHash = 1, 1, chain.Hash{}
	h.must(requester, m)
	h.must(alice, &chain.MsgBond{Pool: Pool, Amount: 5000})
	h.must(alice, &MsgJoin{Job: 1})
	labels := map[uint32]uint32{0: 0, 1: 2, 2: 1, 3: 1}
	h.must(alice, commitMsg(1, alice, labels, 0, 1, 2, 3))
	h.must(alice, revealMsg(1, alice, labels, 0, 1, 2, 3))
	h.advance(h.job(1).CommitEnd + 1)
	h.must(requester, &MsgClose{Job: 1})
	w, _ := GetWorker(h.KV, 1, alice)
	if w.Slashed != 0 || w.Paid == 0 {
		t.Fatalf("sole worker: %+v", w)
	}
	r, err := GetResults(h.KV, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range r.Items {
		if it.Label != int32(labels[uint32(i)]) || it.Votes != 1 {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
}
