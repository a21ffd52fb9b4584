package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/consensys/gnark/backend/groth16"

	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
)

// zkCeremonyRow times the multi-party setup of one circuit, step by step,
// beside gnark's single-party setup of the same circuit in the same run.
type zkCeremonyRow struct {
	Name           string  `json:"name"`
	Constraints    int     `json:"constraints"`
	Domain         uint64  `json:"domain"`
	OnChain        bool    `json:"fits_on_chain"` // domain <= ceremony.MaxDomain
	Phase1Bytes    int     `json:"phase1_bytes"`
	Phase1Contrib  float64 `json:"phase1_contribute_s"`
	Phase1Verify   float64 `json:"phase1_verify_s"`
	SealPhase1     float64 `json:"seal_phase1_and_init_phase2_s"`
	Phase2Bytes    int     `json:"phase2_bytes"`
	Phase2Contrib  float64 `json:"phase2_contribute_s"`
	Phase2Verify   float64 `json:"phase2_verify_s"`
	Keys           float64 `json:"keys_s"`
	SingleParty    float64 `json:"single_party_setup_s"`
	PerContributor float64 `json:"per_contributor_over_single_party"` // (contribute 1 + contribute 2) / single-party setup
}

// benchZkCeremony runs a two-contributor ceremony for each spec.
func benchZkCeremony(specs []prover.Spec, names []string, logf func(string, ...any)) ([]zkCeremonyRow, error) {
	var rows []zkCeremonyRow
	for i, spec := range specs {
		ccs, err := prover.Compile(spec)
		if err != nil {
			return nil, err
		}
		n := ceremony.Domain(ccs.GetNbConstraints())
		r, err := ceremony.R1CS(ccs, n)
		if err != nil {
			return nil, err
		}
		row := zkCeremonyRow{Name: names[i], Constraints: ccs.GetNbConstraints(), Domain: n, OnChain: n <= ceremony.MaxDomain}
		logf("ceremony: %s, %d constraints, domain %d", row.Name, row.Constraints, n)
		timed := func(dst *float64, f func() error) error {
			t0 := time.Now()
			err := f()
			*dst = time.Since(t0).Seconds()
			return err
		}
		state, err := ceremony.InitPhase1(n)
		if err != nil {
			return nil, err
		}
		// Two contributors per phase; the second one's times are reported
		// (the first builds on the trivial starting state).
		for k := range 2 {
			var next []byte
			if err := timed(&row.Phase1Contrib, func() (err error) { next, err = ceremony.ContributePhase1(state, n, k == 0); return }); err != nil {
				return nil, err
			}
			if err := timed(&row.Phase1Verify, func() (err error) { state, err = ceremony.VerifyPhase1(state, next, n, k == 0); return }); err != nil {
				return nil, err
			}
			logf("  phase 1 contribution %d: %.2f s, verified in %.2f s", k+1, row.Phase1Contrib, row.Phase1Verify)
		}
		row.Phase1Bytes = len(state)
		beacon := []byte("tenun bench zk ceremony")
		var commons, evals []byte
		if err := timed(&row.SealPhase1, func() (err error) {
			if commons, err = ceremony.SealPhase1(state, n, beacon); err != nil {
				return err
			}
			state, evals, err = ceremony.InitPhase2(r, commons, n)
			return err
		}); err != nil {
			return nil, err
		}
		for k := range 2 {
			var next []byte
			if err := timed(&row.Phase2Contrib, func() (err error) { next, err = ceremony.ContributePhase2(state); return }); err != nil {
				return nil, err
			}
			if err := timed(&row.Phase2Verify, func() (err error) { state, err = ceremony.VerifyPhase2(state, next); return }); err != nil {
				return nil, err
			}
			logf("  phase 2 contribution %d: %.2f s, verified in %.2f s", k+1, row.Phase2Contrib, row.Phase2Verify)
		}
		row.Phase2Bytes = len(state)
		if err := timed(&row.Keys, func() error { _, _, err := ceremony.Keys(commons, n, evals, state, beacon); return err }); err != nil {
			return nil, err
		}
		if err := timed(&row.SingleParty, func() error { _, _, err := groth16.Setup(ccs); return err }); err != nil {
			return nil, err
		}
		if row.SingleParty > 0 {
			row.PerContributor = (row.Phase1Contrib + row.Phase2Contrib) / row.SingleParty
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// zkCeremonySpecs are the circuits the ceremony bench times: the smallest
// MLP (the size the chain's tests use) and the digits inference circuit.
func zkCeremonySpecs(digits *model.Model) ([]prover.Spec, []string) {
	micro := model.Arch{Sizes: []int{2, 2, 2}, InBits: 2, Shifts: []int{1}}
	micro.BiasBits = []int{model.DefaultBiasBits(2, 3), model.DefaultBiasBits(2, 255)}
	specs := []prover.Spec{{Kind: prover.KindInference, Arch: micro}}
	names := []string{"2-2-2 inference"}
	if digits != nil {
		specs = append(specs, prover.Spec{Kind: prover.KindInference, Arch: digits.Arch})
		names = append(names, fmt.Sprintf("digits %s inference", digits.Arch))
	}
	return specs, names
}

func printZkCeremony(w io.Writer, rows []zkCeremonyRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nsetup ceremony (gnark mpcsetup; time per contribution, and beside it the single-party setup of the same circuit)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "circuit\tconstraints\tdomain\ton chain\tphase 1: contribute / verify / bytes\tseal 1\tphase 2: contribute / verify / bytes\tkeys\tsingle-party setup\tcontribution / single-party")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%t\t%.2f s / %.2f s / %d\t%.2f s\t%.2f s / %.2f s / %d\t%.2f s\t%.2f s\t%.2fx\n",
			r.Name, r.Constraints, r.Domain, r.OnChain, r.Phase1Contrib, r.Phase1Verify, r.Phase1Bytes, r.SealPhase1,
			r.Phase2Contrib, r.Phase2Verify, r.Phase2Bytes, r.Keys, r.SingleParty, r.PerContributor)
	}
	tw.Flush()
}
