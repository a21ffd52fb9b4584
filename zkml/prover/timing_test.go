package prover

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
)

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
	t0 := time.Now()
	ccs, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("compile", time.Since(t0), ccs.GetNbConstraints())
	runtime.GC()
	t0 = time.Now()
	keys, err := Setup(spec, ccs)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("setup", time.Since(t0))
	a, cls, err := circuit.InferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		runtime.GC()
		t0 = time.Now()
		proof, pub, err := keys.Prove(a)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("prove", time.Since(t0), len(proof), len(pub))
		vk, _ := keys.VerifyingKeyBytes()
		com, _ := m.ComputeCommitment()
		t0 = time.Now()
		if err := zkml.VerifyInference(vk, proof, big, zkml.InferenceClaim{Model: com, Input: x, Class: cls}); err != nil {
			t.Fatal(err)
		}
		fmt.Println("verify", time.Since(t0), len(vk))
	}
}
