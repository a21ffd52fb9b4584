package bench_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/bench"
)

// A small run of the market benchmark: every job must settle. Set
// TENUN_BENCH_JOBS and TENUN_BENCH_PROVIDERS for a real measurement.
func TestComputeMarket(t *testing.T) {
	jobs, providers := 20, 3
	if v, err := strconv.Atoi(os.Getenv("TENUN_BENCH_JOBS")); err == nil {
		jobs = v
	}
	if v, err := strconv.Atoi(os.Getenv("TENUN_BENCH_PROVIDERS")); err == nil {
		providers = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := bench.ComputeMarket(ctx, jobs, providers)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.JobsSettled != jobs {
		t.Fatalf("%d of %d jobs settled", rep.JobsSettled, jobs)
	}
}
