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

	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTiming(t *testing.T) {
	if os.Getenv("ZK_TIMING") == "" {
		t.Skip()
	}
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
	spec := Spec{Kind: KindInference, Arch: big}
	var keys *Keys
	if _, err := os.Stat("/tmp/zkkeys/a.json"); err == nil {
		keys, _, err = LoadKeys("/tmp/zkkeys/a.json")
		if err != nil {
			t.Fatal(err)
		}
	} else {
		ccs, err := Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		c0, t0 := cpuTime(), time.Now()
		keys, err = Setup(spec, ccs)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("setup", time.Since(t0), cpuTime()-c0)
		if _, err := SaveKeys("/tmp/zkkeys", "a", keys, SetupSingleParty); err != nil {
			t.Fatal(err)
		}
	}
	a, _, err := circuit.InferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/prove.prof")
	pprof.StartCPUProfile(f)
	for range 2 {
		runtime.GC()
		c0, t0 := cpuTime(), time.Now()
		proof, pub, err := keys.Prove(a)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("prove", time.Since(t0), cpuTime()-c0, len(proof), len(pub))
	}
	pprof.StopCPUProfile()
}
