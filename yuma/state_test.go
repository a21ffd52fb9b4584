package yuma

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func newTestSubnet(n int, block uint64) *Subnet {
	s := &Subnet{}
	for i := 0; i < n; i++ {
		if err := s.Register(uint16(i), uint64(i+1), block); err != nil {
			panic(err)
		}
	}
	return s
}

func TestSetWeightsSortsAndUpscales(t *testing.T) {
	s := newTestSubnet(4, 1)
	if err := s.SetWeights(0, []uint16{3, 1, 2}, []uint16{100, 0, 50}, 7); err != nil {
		t.Fatal(err)
	}
	want := []Entry{{1, 0}, {2, 32768}, {3, 65535}}
	if got := s.Neurons[0].Weights; !reflect.DeepEqual(got, want) {
		t.Fatalf("weights = %v, want %v", got, want)
	}
	if s.Neurons[0].LastUpdate != 7 {
		t.Fatalf("last update = %d", s.Neurons[0].LastUpdate)
	}
	for _, c := range []struct {
		uid    uint16
		uids   []uint16
		values []uint16
	}{
		{9, []uint16{1}, []uint16{1}},       // unknown setter
		{0, []uint16{4}, []uint16{1}},       // unknown target
		{0, []uint16{1, 1}, []uint16{1, 2}}, // duplicate
		{0, []uint16{1}, []uint16{1, 2}},    // length mismatch
	} {
		if err := s.SetWeights(c.uid, c.uids, c.values, 8); err == nil {
			t.Errorf("SetWeights(%d, %v, %v) accepted", c.uid, c.uids, c.values)
		}
	}
	if err := s.SetWeights(9, nil, nil, 1); !errors.Is(err, ErrUnknownUID) {
		t.Errorf("want ErrUnknownUID, got %v", err)
	}
}

// Register follows replace_neuron: own rows cleared, others' weight on the
// uid zeroed but kept, blocks reset, permit cleared.
func TestRegisterReplacesNeuron(t *testing.T) {
	s := newTestSubnet(3, 1)
	must(t, s.SetWeights(0, []uint16{1, 2}, []uint16{10, 20}, 2))
	must(t, s.SetWeights(2, []uint16{0, 2}, []uint16{10, 20}, 2))
	s.Neurons[2].Bonds = []Entry{{0, 5}}
	s.Neurons[2].ValidatorPermit = true
	must(t, s.Register(2, 99, 5))
	n2 := s.Neurons[2]
	if n2.Stake != 99 || n2.RegisteredAt != 5 || n2.LastUpdate != 5 || n2.ValidatorPermit || n2.Weights != nil || n2.Bonds != nil {
		t.Fatalf("replaced neuron = %+v", n2)
	}
	if want := []Entry{{1, 32768}, {2, 0}}; !reflect.DeepEqual(s.Neurons[0].Weights, want) {
		t.Fatalf("weights on replaced uid = %v, want %v", s.Neurons[0].Weights, want)
	}
	must(t, s.Register(3, 1, 6)) // append
	if len(s.Neurons) != 4 {
		t.Fatal("append failed")
	}
	if err := s.Register(9, 1, 6); err == nil {
		t.Fatal("gap in uids accepted")
	}
}

func TestSubnetJSONRoundTrip(t *testing.T) {
	s := newTestSubnet(3, 1)
	must(t, s.SetWeights(0, []uint16{1, 2}, []uint16{10, 20}, 2))
	s.Neurons[0].Bonds = []Entry{{1, 7}}
	s.HasOwner, s.OwnerUID, s.LastEpochBlock = true, 2, 9
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Subnet
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, &back) {
		t.Fatalf("round trip:\n%+v\n%+v", s, &back)
	}
	var p Params
	pb, _ := json.Marshal(DefaultParams())
	if err := json.Unmarshal(pb, &p); err != nil || p != DefaultParams() {
		t.Fatalf("params round trip: %v %+v", err, p)
	}
}

func TestValidateRejectsBadRows(t *testing.T) {
	for name, mut := range map[string]func(s *Subnet){
		"unsorted":     func(s *Subnet) { s.Neurons[0].Weights = []Entry{{2, 1}, {1, 1}} },
		"duplicate":    func(s *Subnet) { s.Neurons[0].Bonds = []Entry{{1, 1}, {1, 2}} },
		"out of range": func(s *Subnet) { s.Neurons[0].Weights = []Entry{{3, 1}} },
		"owner":        func(s *Subnet) { s.HasOwner, s.OwnerUID = true, 3 },
	} {
		s := newTestSubnet(3, 1)
		mut(s)
		before := s.Clone()
		if _, err := Epoch(s, DefaultParams(), 10, 1000); err == nil {
			t.Errorf("%s: epoch accepted invalid state", name)
		}
		if !reflect.DeepEqual(s, before) {
			t.Errorf("%s: failed epoch mutated the subnet", name)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
