package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/compute/agent"
)

func newProviderCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "provider", Short: "Compute provider agent"}
	var key, price, stake, cheat, stateDir string
	var capa agent.Capacity
	var poll time.Duration
	run := &cobra.Command{
		Use:   "run --from NAME [--price AMOUNT] [--cheat wrong|silent]",
		Short: "Register and serve compute jobs: run them in the sandbox, store outputs, commit, reveal",
		Long: `Runs a provider agent until interrupted. It registers the key as a provider
(capacity detected from this machine unless given), keeps it live with
heartbeats, and for each job the chain assigns it (as worker or as referee
of a dispute) fetches the module and inputs from the node's blob store, runs
the module in the wazero sandbox (no network, only the job's inputs, its
memory, fuel and time limits), stores the output archive as a blob, commits
to its digest and reveals once every assignee has committed.

--cheat exists for tests and demos: "wrong" reveals a made-up output without
running the job (outvoted or challenged, and slashed); "silent" takes jobs
and never answers (replaced after the timeout, and slashed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			if stateDir == "" {
				stateDir = filepath.Join(homeDir, "agent-state", "provider-"+key)
			}
			logf, err := agentLogf(cmd, "provider")
			if err != nil {
				return err
			}
			cfg := agent.Config{Client: newClient(), Key: k, Cheat: cheat, Poll: poll, Logf: logf, StateDir: stateDir}
			if cfg.Price, err = parseAmount(price); err != nil {
				return err
			}
			if cfg.Stake, err = parseAmount(stake); err != nil {
				return err
			}
			cfg.Capacity = agent.DetectCapacity(cmd.Context())
			if cmd.Flags().Changed("cpus") {
				cfg.Capacity.CPUCores = capa.CPUCores
			}
			if cmd.Flags().Changed("memory-mb") {
				cfg.Capacity.MemoryMB = capa.MemoryMB
			}
			if cmd.Flags().Changed("gpus") {
				cfg.Capacity.GPUs = capa.GPUs
			}
			p, err := agent.NewProvider(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := p.Run(ctx); err != nil {
				return err
			}
			st := p.Stats()
			return emit(cmd.OutOrStdout(), st, func(w io.Writer) {
				fmt.Fprintf(w, "assigned %d, committed %d, revealed %d, declined %d, errors %d\n", st.Assigned, st.Committed, st.Revealed, st.Declined, st.Errors)
			})
		},
	}
	addFromFlag(run, &key, "provider key name in the keyring")
	addLogFlags(run)
	amountFlag(run.Flags(), &price, "price", "10utnn", "price per unit of work (1e6 loop iterations)")
	amountFlag(run.Flags(), &stake, "stake", "1tnn", "total stake to keep bonded in the compute pool")
	run.Flags().StringVar(&cheat, "cheat", "", "misbehave, for tests and demos: wrong or silent")
	run.Flags().StringVar(&stateDir, "state-dir", "", "where commit salts and pending reveals are kept across restarts (default: <home>/agent-state/provider-<key>)")
	run.Flags().Uint32Var(&capa.CPUCores, "cpus", 0, "cores offered (default: this machine's)")
	run.Flags().Uint64Var(&capa.MemoryMB, "memory-mb", 0, "memory offered in MiB (default: this machine's)")
	run.Flags().Uint32Var(&capa.GPUs, "gpus", 0, "GPUs offered (default: found by nvidia-smi)")
	timeFlag(run.Flags(), &poll, "poll", 200*time.Millisecond, "how often to look for assignments")
	cmd.AddCommand(run)
	return cmd
}

func newChallengerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "challenger", Short: "Compute market challenger agent"}
	var key, stateDir string
	var always bool
	run := &cobra.Command{
		Use:   "run --from NAME",
		Short: "Re-run optimistic results in their challenge window and challenge those that differ",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			mode := agent.ChallengeHonest
			if always {
				mode = agent.ChallengeAlways
			}
			if stateDir == "" {
				stateDir = filepath.Join(homeDir, "agent-state", "challenger-"+key)
			}
			logf, err := agentLogf(cmd, "challenger")
			if err != nil {
				return err
			}
			c, err := agent.NewChallenger(agent.ChallengerConfig{Client: newClient(), Key: k, Mode: mode, Logf: logf, StateDir: stateDir})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := c.Run(ctx); err != nil {
				return err
			}
			st := c.Stats()
			return emit(cmd.OutOrStdout(), st, func(w io.Writer) {
				fmt.Fprintf(w, "checked %d, agreed %d, challenged %d, errors %d\n", st.Checked, st.Agreed, st.Challenged, st.Errors)
			})
		},
	}
	addFromFlag(run, &key, "challenger key name in the keyring")
	addLogFlags(run)
	run.Flags().BoolVar(&always, "always", false, "challenge every result with a made-up claim (demo of a failing challenge)")
	run.Flags().StringVar(&stateDir, "state-dir", "", "where verdicts and challenges not yet sent are kept across restarts (default: <home>/agent-state/challenger-<key>)")
	cmd.AddCommand(run)
	return cmd
}
