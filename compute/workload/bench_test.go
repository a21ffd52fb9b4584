package workload_test

import (
	"context"
	"testing"

	"github.com/tenun-chain/tenun/compute/workload"
)

// A short bench measures all three workloads in the same rounds and finds
// every run of each identical in outputs and fuel.
func TestBenchMeasuresEveryPair(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three workloads twice")
	}
	digits(t) // fails loudly when the data set is missing
	calls := 0
	rep, err := workload.Bench(context.Background(), workload.BenchConfig{
		DataPath: digitsPath, Epochs: 2, Reps: 2, KMeans: workload.KMeansOptions{Restarts: 1, Iters: 5},
		Progress: func(done, total int, _ string) {
			calls++
			if done != calls || done > total {
				t.Errorf("progress %d of %d after %d calls", done, total, calls)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Deterministic {
		t.Fatalf("runs differ: %+v", rep)
	}
	pairs := map[string]workload.BenchPair{"kernels": rep.Kernels, "pure": rep.Pure}
	runsPerRound := 4 + 3 // the kernel trainer with its one-epoch runs, the pure one with plain wazero
	if rep.C.Skipped == "" {
		pairs["c"] = rep.C
		runsPerRound += 2
	} else {
		t.Logf("SKIPPED the C workload: %s", rep.C.Skipped)
	}
	for name, p := range pairs {
		if len(p.Sandbox.RunsSeconds) != 2 || len(p.Native.RunsSeconds) != 2 || p.FuelUsed <= 0 || len(p.OutputDigest) != 64 ||
			p.RatioMedian <= 0 || p.Quality == "" || !p.OutputsIdentical || !p.FuelIdentical || p.ModuleBytes == 0 {
			t.Errorf("%s: %+v", name, p)
		}
	}
	// (Their times are not compared: two epochs against one is within a
	// busy machine's noise.)
	if k := rep.Kernels; k.StartupSandbox == nil || k.StartupNative == nil ||
		len(k.StartupSandbox.RunsSeconds) != 2 || len(k.StartupNative.RunsSeconds) != 2 {
		t.Errorf("the kernel trainer's one-epoch runs: %+v", k)
	}
	if rep.Pure.StartupSandbox != nil {
		t.Errorf("one-epoch runs are for the kernel trainer only")
	}
	if rep.Pure.Plain == nil || rep.Kernels.Plain != nil {
		t.Errorf("plain wazero should be measured for the pure trainer only")
	}
	if rep.Kernels.OutputDigest == rep.Pure.OutputDigest {
		t.Errorf("the kernel and pure trainers sum in different orders and should write different models")
	}
	if calls != runsPerRound*3 { // a warm-up and two timed rounds
		t.Errorf("%d progress calls, want %d", calls, runsPerRound*3)
	}
}
