package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// `tenun zk ceremony`: the chain's multi-party setup ceremonies (zkml/registry
// ceremony.go): open one, contribute, follow it, and derive the keys of a
// sealed one from its public transcript.

// spin shows a spinner with desc on w until the returned stop is called.
func spin(w io.Writer, desc string) func() {
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(desc),
		progressbar.OptionSpinnerType(14), progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionClearOnFinish())
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				bar.Add(1)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		bar.Finish()
	}
}

func newZkCeremonyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ceremony",
		Short: "Multi-party Groth16 setup ceremonies on chain: open, contribute, status, keys",
		Long: `A ceremony replaces the single-party setup, whose runner can forge proofs.
The chain compiles the circuit, keeps the transcript, verifies every contribution against
the previous one and, after a deadline and a quorum of distinct contributors per phase,
seals the phase with the block seed and derives the verifying key itself. One honest
contributor per phase makes the key sound. Validator nodes contribute on their own.`,
		Example: `  tenun zk ceremony open --kind inference --arch-from model.json --quorum 5 --phase-blocks 20 --from alice
  tenun zk ceremony contribute 1 --from bob
  tenun zk ceremony status 1
  tenun zk ceremony keys 1 --out keys/tiny-ceremony`,
	}

	var of txFlags
	var kind, archFrom string
	var rows, quorum, phaseBlocks uint32
	open := &cobra.Command{
		Use:     "open --kind inference|accuracy --arch-from MODEL.json|MANIFEST.json --from KEY",
		Short:   "Open a ceremony for a circuit spec (the chain compiles the circuit itself; a CNN key manifest opens a CNN ceremony)",
		Example: "  tenun zk ceremony open --kind accuracy --rows 4 --arch-from model.json --quorum 5 --phase-blocks 20 --from alice",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ra, err := archFromFile(archFrom) // a CNN key manifest opens a CNN ceremony
			if err != nil {
				return err
			}
			msg := &registry.MsgOpenCeremony{Spec: registry.Spec{Kind: kind, Arch: ra, Rows: rows}, Quorum: quorum, PhaseBlocks: phaseBlocks}
			if err := msg.ValidateBasic(); err != nil {
				return err
			}
			return submit(cmd, &of, msg)
		},
	}
	addTxFlags(open, &of)
	open.Flags().StringVar(&kind, "kind", registry.KindInference, "statement: inference or accuracy")
	open.Flags().StringVar(&archFrom, "arch-from", "", "model file or key manifest whose arch the circuit is for (required)")
	open.Flags().Uint32Var(&rows, "rows", 0, "test rows of an accuracy circuit")
	open.Flags().Uint32Var(&quorum, "quorum", 4, "distinct contributors each phase needs")
	open.Flags().Uint32Var(&phaseBlocks, "phase-blocks", 20, "blocks each phase stays open at least")
	open.MarkFlagRequired("arch-from")

	var cf txFlags
	contribute := &cobra.Command{
		Use:     "contribute ID --from KEY",
		Short:   "Mix a fresh secret into the ceremony's current phase and submit it (the secret is dropped)",
		Example: "  tenun zk ceremony contribute 1 --from bob",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := ceremonyData(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			c := d.Ceremony
			if c.Phase != registry.PhaseOne && c.Phase != registry.PhaseTwo {
				return fmt.Errorf("ceremony %d is closed (phase %d)", c.ID, c.Phase)
			}
			stop := spin(cmd.ErrOrStderr(), fmt.Sprintf("contributing to phase %d of ceremony %d (domain %d)", c.Phase, c.ID, c.Domain))
			t0 := time.Now()
			var next []byte
			if c.Phase == registry.PhaseOne {
				next, err = ceremony.ContributePhase1(d.State, c.Domain, len(c.Phase1) == 0)
			} else {
				next, err = ceremony.ContributePhase2(d.State)
			}
			stop()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "contribution of %d bytes made in %s\n", len(next), time.Since(t0).Round(time.Millisecond))
			return submit(cmd, &cf, &registry.MsgContribute{Ceremony: c.ID, Phase: c.Phase, State: next})
		},
	}
	addTxFlags(contribute, &cf)

	status := &cobra.Command{
		Use:     "status ID",
		Short:   "A ceremony's phase, deadline and contributors",
		Example: "  tenun zk ceremony status 1 -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c registry.Ceremony
			if err := newClient().Query(cmd.Context(), "zkml", "ceremony/"+args[0], nil, &c); err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), c, func(w io.Writer) {
				phase := map[uint32]string{1: "phase 1 (powers of tau)", 2: "phase 2 (circuit)", 3: "sealed", 4: "failed: " + c.Failure}[c.Phase]
				fmt.Fprintf(w, "ceremony %d: %s %s, %d constraints, domain %d\n", c.ID, c.Spec.Kind, c.Spec.Arch, c.Constraints, c.Domain)
				fmt.Fprintf(w, "  %s; quorum %d per phase; deadline height %d\n", phase, c.Quorum, c.Deadline)
				for i, list := range [][]registry.Contribution{c.Phase1, c.Phase2} {
					fmt.Fprintf(w, "  phase %d: %d contributors\n", i+1, len(list))
					for _, k := range list {
						fmt.Fprintf(w, "    %s at %d  %s\n", k.Contributor, k.Height, k.Digest)
					}
				}
				if c.Phase == registry.PhaseSealed {
					fmt.Fprintf(w, "  circuit %s (%s)\n", c.Circuit, registry.TrustCeremony)
				}
			})
		},
	}

	var out string
	keys := &cobra.Command{
		Use:     "keys ID --out DIR/NAME",
		Short:   "Derive the proving and verifying keys of a sealed ceremony from its transcript (for tenun zk prove)",
		Example: "  tenun zk ceremony keys 1 --out keys/tiny-ceremony && tenun zk prove --keys keys/tiny-ceremony.json ...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := ceremonyData(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			c := d.Ceremony
			if c.Phase != registry.PhaseSealed {
				return fmt.Errorf("ceremony %d is not sealed (phase %d)", c.ID, c.Phase)
			}
			// The manifest's spec must name the circuit the chain sealed: for
			// a CNN the conv kind and arch (the key files then serve the CNN
			// prover; tenun zk prove reads MLP model files only).
			spec, err := proverSpecOf(c.Spec)
			if err != nil {
				return fmt.Errorf("ceremony %d: %w", c.ID, err)
			}
			stop := spin(cmd.ErrOrStderr(), fmt.Sprintf("deriving keys of ceremony %d", c.ID))
			r, _, err := registry.CompileSpec(c.Spec)
			if err != nil {
				stop()
				return err
			}
			pk, vk, err := ceremony.Keys(d.Commons, c.Domain, d.Evals, d.State, c.Beacon2[:])
			stop()
			if err != nil {
				return err
			}
			vkb, err := ceremony.VerifyingKeyBytes(vk)
			if err != nil {
				return err
			}
			if id := registry.CircuitID(c.Spec, vkb); id != c.Circuit {
				return fmt.Errorf("derived key gives circuit %s, the chain sealed %s", id, c.Circuit)
			}
			note := fmt.Sprintf("%s: ceremony %d on chain, %d phase-1 and %d phase-2 contributors, circuit %s",
				registry.TrustCeremony, c.ID, len(c.Phase1), len(c.Phase2), c.Circuit)
			dir, name := filepath.Split(strings.TrimSuffix(out, ".json"))
			if _, err := prover.SaveKeys(filepath.Clean(dir+"."), name, &prover.Keys{Spec: spec, CCS: r, PK: pk, VK: vk}, note); err != nil {
				return err
			}
			res := map[string]any{"ceremony": c.ID, "circuit": c.Circuit, "manifest": strings.TrimSuffix(out, ".json") + ".json", "setup": note}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "keys of circuit %s written to %s.json (%s)\n", c.Circuit, strings.TrimSuffix(out, ".json"), note)
			})
		},
	}
	keys.Flags().StringVar(&out, "out", "", "key path prefix: writes PREFIX.json, .ccs, .pk, .vk (required)")
	keys.MarkFlagRequired("out")

	cmd.AddCommand(open, contribute, status, keys)
	return cmd
}

func ceremonyData(ctx context.Context, id string) (registry.CeremonyData, error) {
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return registry.CeremonyData{}, fmt.Errorf("ceremony id %q: %w", id, err)
	}
	var d registry.CeremonyData
	if err := newClient().Query(ctx, "zkml", "ceremony-data/"+id, nil, &d); err != nil {
		return d, err
	}
	return d, nil
}
