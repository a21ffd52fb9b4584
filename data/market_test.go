package data

import (
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
)

// The pure rules, without a node: each bad input is rejected with a clear
// error and leaves the state byte-for-byte unchanged.

func addr(b byte) chain.Address { return scenario.ByteAddr(b) }

type harness struct{ *scenario.Pure }

func newHarness(t *testing.T) *harness {
	return &harness{scenario.NewPure(t, chain.Genesis{Accounts: scenario.Funded(5, 1_000_000)}, Domain{})}
}

// run executes msg as sender at height, as a transaction would.
func (h *harness) run(sender byte, height int64, msg chain.Msg) error {
	h.Height = height
	return h.Run(addr(sender), msg)
}

func (h *harness) mustFail(sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	h.Height = 5
	h.MustFail(addr(sender), msg, code, substr)
}

func schema() []Column {
	return []Column{
		{Name: "sensor", Type: TypeString, Required: true, MaxLen: 8},
		{Name: "temp", Type: TypeDecimal, Required: true, Min: "-40", Max: "85.5"},
		{Name: "ok", Type: TypeBool},
	}
}

func TestSplitIsExact(t *testing.T) {
	for price := uint64(0); price < 2000; price += 7 {
		for _, bps := range []uint32{0, 1, 333, 5000, 10000} {
			shares := []Share{{Records: 3}, {Records: 7}, {Records: 11}, {Records: 1}}
			cur, paid := Split(price, bps, shares)
			sum := cur
			for i, p := range paid {
				sum += p
				// Each contributor gets exactly its floor share of the pool.
				pool := price - price*uint64(bps)/10000
				if p != pool*shares[i].Records/22 {
					t.Fatalf("price %d bps %d: share %d = %d", price, bps, i, p)
				}
			}
			if sum != price {
				t.Fatalf("price %d bps %d: parts add to %d", price, bps, sum)
			}
		}
	}
}

func TestDecimalParsing(t *testing.T) {
	cases := map[string]int64{"0": 0, "1.5": 1_500_000, "-40": -40_000_000, "85.500001": 85_500_001, "0.000001": 1}
	for s, want := range cases {
		got, err := parseNumber(TypeDecimal, s)
		if err != nil || got != want {
			t.Errorf("%q: %d %v", s, got, err)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "1.1234567", "1e5", "--1", "1.-1", "abc", "99999999999999999999"} {
		if _, err := parseNumber(TypeDecimal, bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestMerkleRootSensitivity(t *testing.T) {
	a := []chain.Hash{{1}, {2}, {3}}
	b := []chain.Hash{{1}, {3}, {2}}
	if MerkleRoot(a) == MerkleRoot(b) {
		t.Fatal("order must change the root")
	}
	if MerkleRoot(a) == MerkleRoot(a[:2]) {
		t.Fatal("dropping a leaf must change the root")
	}
}

func FuzzValidateRecord(f *testing.F) {
	f.Add("s1", "21.5", "true")
	f.Add("", "-0.000001", "x")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ValidateRecord(schema(), []string{a, b, c})
		DecodeBatch([]byte(a + b + c))
	})
}
