package subnet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
	"github.com/tenun-chain/tenun/yuma"
)

// The pure rules, without a node: each bad input is rejected with a clear
// error and leaves the state byte-for-byte unchanged; epochs run on
// schedule and pay exactly what the emission schedule accrued.

func addr(b byte) chain.Address { return scenario.ByteAddr(b) }

const funded = 1_000_000_000_000

type harness struct {
	*scenario.Pure
	dataset string
	genesis uint64 // supply after genesis
}

// newHarness funds accounts 1 to 12 and registers an evaluation data set.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{Pure: scenario.NewPure(t, chain.Genesis{Params: chain.DefaultParams(), Accounts: scenario.Funded(12, funded)}, Domain{})}
	h.genesis = chain.Supply(h.KV)
	content := []byte("1,2,3\n")
	h.dataset = chain.BlobCID(content)
	h.ok(1, &chain.MsgRegisterBlob{CID: h.dataset, Size: uint64(len(content))})
	return h
}

// run executes msg as sender in the current block, as a transaction would.
func (h *harness) run(sender byte, msg chain.Msg) error { return h.Run(addr(sender), msg) }

func (h *harness) block() chain.Block { return h.Block() }

func (h *harness) ok(sender byte, msg chain.Msg) {
	h.T.Helper()
	h.Must(addr(sender), msg)
}

func (h *harness) mustFail(sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	h.MustFail(addr(sender), msg, code, substr)
}

// endBlock finishes the current block the way the chain does and moves to
// the next height.
func (h *harness) endBlock() { h.T.Helper(); h.EndBlock() }

func (h *harness) advanceTo(height int64) { h.T.Helper(); h.AdvanceTo(height) }

func (h *harness) subnet(id uint64) Subnet {
	h.T.Helper()
	s, err := GetSubnet(h.KV, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return s
}

func (h *harness) neuron(id uint64, uid uint16) Neuron {
	h.T.Helper()
	n, err := GetNeuron(h.KV, id, uid)
	if err != nil {
		h.T.Fatal(err)
	}
	return n
}

func (h *harness) createMsg(commitReveal bool) *MsgCreate {
	hp := DefaultHyperparams()
	hp.CommitReveal = commitReveal
	return &MsgCreate{Task: "digits", Dataset: h.dataset, Tempo: 5, Yuma: &hp,
		RegistrationMinStake: 100, ValidatorMinStake: 1000, MaxUIDs: 6}
}

const endpoint = "http://127.0.0.1:9000"

// populate registers miners 2, 3, 4 (uids 0-2) and validators 5, 6 (uids 3-4).
func (h *harness) populate(id uint64) {
	for _, m := range []byte{2, 3, 4} {
		h.ok(m, &MsgRegister{Subnet: id, Role: RoleMiner, Stake: 100, Endpoint: endpoint})
	}
	for _, v := range []byte{5, 6} {
		h.ok(v, &MsgRegister{Subnet: id, Role: RoleValidator, Stake: 10_000})
	}
}

// Two validators weigh three miners of different quality; epochs run every
// tempo blocks and pay exactly what the schedule accrued.
func TestEpochSchedulingAndEmission(t *testing.T) {
	h := newHarness(t)
	h.Height = 10
	h.ok(1, h.createMsg(false))
	created := h.Height
	h.populate(1)
	h.endBlock()
	for _, v := range []byte{5, 6} {
		h.ok(v, &MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 1, 2}, Values: []uint16{100, 60, 20}})
	}
	const epochs = 8
	h.advanceTo(created + epochs*5 + 1)

	s := h.subnet(1)
	if s.Epoch != epochs || s.LastEpochBlock != created+epochs*5 || s.NextEpoch != created+(epochs+1)*5 {
		t.Fatalf("epoch %d last %d next %d: want %d epochs every 5 blocks from %d", s.Epoch, s.LastEpochBlock, s.NextEpoch, epochs, created)
	}
	recs := Epochs(h.KV, 1)
	if len(recs) != epochs {
		t.Fatalf("%d epoch records", len(recs))
	}
	for i, r := range recs {
		if r.Height != created+int64(i+1)*5 || r.Epoch != uint64(i+1) {
			t.Fatalf("record %d: epoch %d at %d", i, r.Epoch, r.Height)
		}
	}
	// Supply: genesis plus what the epochs minted; the schedule's total is
	// what was minted plus what still waits.
	var schedule uint64
	for b := created; b < h.Height; b++ {
		schedule += BlockReward(b)
	}
	if s.Accrued != schedule || s.Minted+s.Pending != schedule {
		t.Fatalf("accrued %d, minted %d + pending %d, schedule %d", s.Accrued, s.Minted, s.Pending, schedule)
	}
	if got := chain.Supply(h.KV); got != h.genesis+s.Minted {
		t.Fatalf("supply %d, want genesis %d + minted %d", got, h.genesis, s.Minted)
	}
	var paid, earned uint64
	for _, r := range recs {
		paid += r.Paid
		if r.Paid+r.Carry != r.Emission {
			t.Fatalf("epoch %d: paid %d + carry %d != emission %d", r.Epoch, r.Paid, r.Carry, r.Emission)
		}
	}
	for uid := uint16(0); uid < s.N; uid++ {
		earned += h.neuron(1, uid).Earned
	}
	if paid != s.Minted || earned != s.Minted {
		t.Fatalf("records paid %d, uids earned %d, subnet minted %d", paid, earned, s.Minted)
	}
	if s.Pending > 5*uint64(s.N) {
		t.Fatalf("%d utnn pending after an epoch: more than rounding dust", s.Pending)
	}
	// The best miner earns the most, the worst the least; validators with
	// equal stake and weights earn equal dividends.
	m0, m1, m2 := h.neuron(1, 0), h.neuron(1, 1), h.neuron(1, 2)
	if !(m0.EarnedIncentive > m1.EarnedIncentive && m1.EarnedIncentive > m2.EarnedIncentive && m2.EarnedIncentive > 0) {
		t.Fatalf("miner incentive %d %d %d: want strictly decreasing with quality", m0.EarnedIncentive, m1.EarnedIncentive, m2.EarnedIncentive)
	}
	v0, v1 := h.neuron(1, 3), h.neuron(1, 4)
	t.Logf("minted %d over %d epochs: miners %d %d %d, validators %d %d", s.Minted, epochs,
		m0.EarnedIncentive, m1.EarnedIncentive, m2.EarnedIncentive, v0.EarnedDividends, v1.EarnedDividends)
	if v0.EarnedDividends == 0 || v0.EarnedDividends != v1.EarnedDividends || v0.EarnedIncentive != 0 {
		t.Fatalf("validator dividends %d and %d (incentive %d)", v0.EarnedDividends, v1.EarnedDividends, v0.EarnedIncentive)
	}
	if m0.EarnedDividends != 0 {
		t.Fatalf("a miner earned %d dividends", m0.EarnedDividends)
	}
	for _, n := range []Neuron{m0, v0} {
		if bal := chain.Balance(h.KV, n.Account); bal != funded-uint64(map[bool]uint64{true: 100, false: 10_000}[n.Role == RoleMiner])+n.Earned {
			t.Fatalf("uid %d balance %d, earned %d", n.UID, bal, n.Earned)
		}
	}
}

// The block reward is split among all subnets, the remainder to the lowest
// ids, and a block without subnets emits nothing.
func TestEmissionSplitAmongSubnets(t *testing.T) {
	h := newHarness(t)
	h.advanceTo(5)
	if chain.Supply(h.KV) != h.genesis {
		t.Fatal("emission without subnets")
	}
	for i := 0; i < 3; i++ {
		h.ok(1, h.createMsg(false))
	}
	start := h.Height
	h.advanceTo(start + 3) // no uids: nothing is paid, all accrues
	want := []uint64{333_334 * 3, 333_333 * 3, 333_333 * 3}
	var total uint64
	for i, w := range want {
		s := h.subnet(uint64(i + 1))
		if s.Accrued != w || s.Pending != w || s.Minted != 0 {
			t.Fatalf("subnet %d accrued %d pending %d minted %d, want %d", i+1, s.Accrued, s.Pending, s.Minted, w)
		}
		total += s.Accrued
	}
	if total != 3*InitialBlockReward {
		t.Fatalf("3 blocks emitted %d", total)
	}
}

func TestBlockRewardHalves(t *testing.T) {
	cases := map[int64]uint64{0: 0, 1: 1_000_000, HalvingBlocks - 1: 1_000_000, HalvingBlocks: 500_000,
		2 * HalvingBlocks: 250_000, 19 * HalvingBlocks: 1, 20 * HalvingBlocks: 0, 1 << 62: 0}
	for h, want := range cases {
		if got := BlockReward(h); got != want {
			t.Errorf("BlockReward(%d) = %d, want %d", h, got, want)
		}
	}
	// The whole schedule: about 21.02 million TNN.
	var total uint64
	for k := 0; k < 20; k++ {
		total += HalvingBlocks * (InitialBlockReward >> k)
	}
	total -= InitialBlockReward // block 0 emits nothing
	if total/1_000_000 != 21_023_925 {
		t.Fatalf("schedule total %d utnn", total)
	}
	for _, c := range []struct {
		r    uint64
		n    int
		want []uint64
	}{{10, 3, []uint64{4, 3, 3}}, {1, 2, []uint64{1, 0}}, {9, 3, []uint64{3, 3, 3}}} {
		var sum uint64
		for k := 0; k < c.n; k++ {
			if got := ShareOf(c.r, k, c.n); got != c.want[k] {
				t.Fatalf("ShareOf(%d, %d, %d) = %d", c.r, k, c.n, got)
			}
			sum += ShareOf(c.r, k, c.n)
		}
		if sum != c.r {
			t.Fatalf("shares of %d add to %d", c.r, sum)
		}
	}
}

// Two chains fed the same blocks end in the same bytes.
func TestEpochIsDeterministic(t *testing.T) {
	run := func() string {
		h := newHarness(t)
		h.ok(1, h.createMsg(false))
		h.populate(1)
		h.endBlock()
		h.ok(5, &MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 1, 2}, Values: []uint16{7, 300, 5000}})
		h.ok(6, &MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 2}, Values: []uint16{1, 2}})
		h.advanceTo(40)
		return scenario.Dump(h.KV)
	}
	if a, b := run(), run(); a != b {
		t.Fatal("same blocks, different state")
	}
}

// State values decode to what was encoded and re-encode to the same bytes.
// The yuma types also round-trip through the chain codec (structs without
// cbor tags encode as maps keyed by their json names, sorted), but the
// state stores this package's integer-keyed types so that its layout does
// not move when yuma's structs change.
func TestCodecRoundTrips(t *testing.T) {
	hp := DefaultHyperparams()
	hp.BondsMode, hp.LiquidAlpha, hp.AlphaSigmoidSteepness = yuma.ModeOriginal, true, -7
	values := []any{
		&Subnet{ID: 3, Owner: addr(1), Task: "t", Dataset: "d", Tempo: 9, Yuma: hp, N: 2, Pending: 5},
		&Neuron{UID: 1, Account: addr(2), Role: RoleMiner, Endpoint: endpoint, Weights: []Pair{{0, 1}}, Bonds: []Pair{}},
		&EpochRecord{Subnet: 1, Epoch: 2, UIDs: []EpochUID{{UID: 1, Stake: 5, ServerEmission: 7}}},
		&Commit{UID: 1, Hash: chain.Hash{1}, Block: 4, Epoch: 1},
		&MsgCreate{Task: "t", Dataset: "d", Tempo: 1, Yuma: &hp},
		&yuma.Subnet{Neurons: []yuma.Neuron{{Stake: 5, Weights: []yuma.Entry{{UID: 1, Value: 9}}, Bonds: []yuma.Entry{{UID: 0, Value: 3}}, HasPendingCommit: true, CommitBlock: 7}}, HasOwner: true, OwnerUID: 0, LastEpochBlock: 4},
	}
	for _, v := range values {
		b := chain.Marshal(v)
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := chain.Unmarshal(b, back); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Fatalf("%T: round trip gives %+v, want %+v", v, back, v)
		}
		if !bytes.Equal(chain.Marshal(back), b) {
			t.Fatalf("%T: re-encoding differs", v)
		}
	}
}

func TestWeightsHashBindsEverything(t *testing.T) {
	salt := testSalt("saltsalt")
	base := WeightsHash(1, 2, []uint16{0, 1}, []uint16{5, 6}, salt)
	for i, other := range []chain.Hash{
		WeightsHash(2, 2, []uint16{0, 1}, []uint16{5, 6}, salt),
		WeightsHash(1, 3, []uint16{0, 1}, []uint16{5, 6}, salt),
		WeightsHash(1, 2, []uint16{1, 0}, []uint16{5, 6}, salt),
		WeightsHash(1, 2, []uint16{0, 1}, []uint16{5, 7}, salt),
		WeightsHash(1, 2, []uint16{0, 1}, []uint16{5, 6}, testSalt("saltsalu")),
	} {
		if base == other {
			t.Fatalf("change %d leaves the hash unchanged", i)
		}
	}
	if base != WeightsHash(1, 2, []uint16{0, 1}, []uint16{5, 6}, salt) || base.IsZero() {
		t.Fatal("hash is not a pure function")
	}
}

// testSalt is a salt derived from s.
func testSalt(s string) chain.Hash { return sha256.Sum256([]byte(s)) }

// A zero salt or commit hash is refused before any state is read.
func TestZeroSaltAndHashRefused(t *testing.T) {
	for _, m := range []chain.Msg{
		&MsgCommitWeights{Subnet: 1},
		&MsgRevealWeights{Subnet: 1, UIDs: []uint16{0}, Values: []uint16{1}},
	} {
		err := m.ValidateBasic()
		if !errors.Is(err, chain.ErrInvalidRequest) || !strings.Contains(err.Error(), "all zeros") {
			t.Errorf("%s with a zero hash or salt: %v, want an invalid-request error", m.Type(), err)
		}
	}
	if err := (&MsgRevealWeights{Subnet: 1, UIDs: []uint16{0}, Values: []uint16{1}, Salt: testSalt("s")}).ValidateBasic(); err != nil {
		t.Errorf("a good reveal: %v", err)
	}
}

// Only the last EpochHistory epoch records are kept.
func TestEpochHistoryIsBounded(t *testing.T) {
	h := newHarness(t)
	m := h.createMsg(false)
	m.Tempo = 1
	h.ok(1, m)
	h.populate(1)
	h.advanceTo(h.Height + EpochHistory + 6)
	s := h.subnet(1)
	recs := Epochs(h.KV, 1)
	if len(recs) != EpochHistory || recs[len(recs)-1].Epoch != s.Epoch || recs[0].Epoch != s.Epoch-EpochHistory+1 {
		t.Fatalf("%d records from epoch %d to %d, subnet at epoch %d", len(recs), recs[0].Epoch, recs[len(recs)-1].Epoch, s.Epoch)
	}
}
