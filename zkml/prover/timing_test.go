package prover

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"

	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTiming is a development aid: ZK_TIMING=a|b|c prints compile, setup and
// prove times (wall and CPU) for the bench shapes, caching keys in /tmp/zkkeys.
func TestTiming(t *testing.T) {
	which := os.Getenv("ZK_TIMING")
	if which == "" {
		t.Skip("set ZK_TIMING=a, b or c")
	}
	var spec Spec
	var assign frontend.Circuit
	switch which {
	case "a":
		big := model.Arch{Sizes: []int{784, 128, 10}, InBits: 8, Shifts: []int{11}}
		big.BiasBits = []int{model.DefaultBiasBits(784, 255), model.DefaultBiasBits(128, 255)}
		m, err := model.RandomModel(big, 1)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]int, 784)
		for i := range x {
			x[i] = rng.IntN(256)
		}
		spec = Spec{Kind: KindInference, Arch: big}
		assign, _, err = circuit.InferenceAssignment(m, x)
		if err != nil {
			t.Fatal(err)
		}
	case "b", "c":
		ds, err := model.LoadCSV("../../../shared/data/digits/digits.csv.gz")
		if err != nil {
			t.Skip(err)
		}
		train, _ := ds.Slice(0, model.DigitsTrainRows)
		test, _ := ds.Slice(model.DigitsTrainRows, model.DigitsRows)
		f, _ := model.Train(train, 10, model.TrainConfig{Hidden: []int{32}, Epochs: 100, LR: 0.002, Noise: 0.4, Seed: 1})
		m, err := model.Quantize(f, train, model.QuantizeConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if which == "b" {
			spec = Spec{Kind: KindAccuracy, Arch: m.Arch, Rows: test.Len()}
			assign, _, err = circuit.AccuracyAssignment(m, test, -1)
		} else {
			spec = Spec{Kind: KindInference, Arch: m.Arch}
			assign, _, err = circuit.InferenceAssignment(m, test.X[0])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	manifest := "/tmp/zkkeys/" + which + ".json"
	var keys *Keys
	if m, err := ReadManifest(manifest); err == nil && fmt.Sprint(m.Spec) == fmt.Sprint(spec) {
		keys, _, err = LoadKeys(manifest)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		c0, t0 := cpuTime(), time.Now()
		ccs, err := Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("compile", time.Since(t0), cpuTime()-c0, ccs.GetNbConstraints())
		c0, t0 = cpuTime(), time.Now()
		keys, err = Setup(spec, ccs)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("setup", time.Since(t0), cpuTime()-c0)
		if _, err := SaveKeys("/tmp/zkkeys", which, keys, SetupSingleParty); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("constraints", keys.CCS.GetNbConstraints(), "wires", keys.CCS.GetNbInternalVariables())
	analyzeKey(t, keys, assign)
	if p := os.Getenv("ZK_PROF"); p != "" {
		f, _ := os.Create(p)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for range 2 {
		runtime.GC()
		c0, t0 := cpuTime(), time.Now()
		proof, _, err := keys.Prove(assign)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("prove", time.Since(t0), cpuTime()-c0, len(proof))
	}
}

func analyzeKey(t *testing.T, keys *Keys, assign frontend.Circuit) {
	pk := keys.PK.(*groth16bn254.ProvingKey)
	w, _ := frontend.NewWitness(assign, ecc.BN254.ScalarField())
	sol, err := keys.CCS.Solve(w)
	if err != nil {
		t.Fatal(err)
	}
	wires := []fr.Element(sol.(*cs.R1CSSolution).W)
	count := func(inf []bool) (n, full int) {
		for i, v := range wires {
			if inf != nil && inf[i] {
				continue
			}
			n++
			if v.BitLen() > 64 {
				full++
			}
		}
		return
	}
	na, fa := count(pk.InfinityA)
	nb, fb := count(pk.InfinityB)
	nall, fall := count(nil)
	r1cs := keys.CCS.(*cs.R1CS)
	hist := map[string]int{}
	for _, c := range r1cs.GetR1Cs() {
		fullR := 0
		for _, term := range c.R {
			if int(term.WireID()) < len(wires) && wires[term.WireID()].BitLen() > 64 {
				fullR++
			}
		}
		if fullR > 0 {
			hist[fmt.Sprintf("L%d R%d(full %d) O%d", len(c.L), len(c.R), fullR, len(c.O))]++
		}
	}
	for k, v := range hist {
		if v > 500 {
			fmt.Println(k, v)
		}
	}
	fmt.Printf("wires %d (full %d); A %d (full %d); B %d (full %d); K %d; Z %d; G2B %d; commitments %d\n",
		nall, fall, na, fa, nb, fb, len(pk.G1.K), len(pk.G1.Z), len(pk.G2.B), len(pk.CommitmentKeys))
}
