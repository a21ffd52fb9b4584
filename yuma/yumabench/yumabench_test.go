package yumabench

import "testing"

func TestRunSmall(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Sizes, cfg.Runs, cfg.Validators = []int{64, 32}, 2, 8
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.BaselineUIDs != 32 || rep.Rows[0].UIDs != 32 {
		t.Fatalf("unexpected report %+v", rep)
	}
	for _, r := range rep.Rows {
		if r.EpochMs <= 0 || r.UIDRatio <= 0 || r.MaxConsensusDiff > 1e-6 {
			t.Fatalf("bad row %+v", r)
		}
	}
}
