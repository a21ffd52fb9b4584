package cli

import (
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
)

func newComputeTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Compute market transactions"}

	var rf txFlags
	var reg compute.MsgRegister
	var regPrice, regStake string
	register := &cobra.Command{
		Use:   "register --from KEY --price AMOUNT",
		Short: "Register as a compute provider (or update your offer), bonding stake into the compute pool",
		Long: `Registers the signer as a provider. Capacity defaults to this machine's (cores,
memory, NVIDIA GPUs via nvidia-smi). --price is per unit of work: one unit
is 1,000,000 loop iterations of fuel. --stake is added to the bond; the
market needs a minimum bonded (see 'tenun query compute params').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			capa := agent.DetectCapacity(cmd.Context())
			if !cmd.Flags().Changed("cpus") {
				reg.CPUCores = capa.CPUCores
			}
			if !cmd.Flags().Changed("memory-mb") {
				reg.MemoryMB = capa.MemoryMB
			}
			if !cmd.Flags().Changed("gpus") {
				reg.GPUs, reg.GPUModel = capa.GPUs, capa.GPUModel
			}
			var err error
			if reg.Price, err = parseAmount(regPrice); err != nil {
				return err
			}
			if reg.Stake, err = parseAmount(regStake); err != nil {
				return err
			}
			return submit(cmd, &rf, &reg)
		},
	}
	addTxFlags(register, &rf)
	amountFlag(register.Flags(), &regPrice, "price", "10utnn", "price per unit of work")
	amountFlag(register.Flags(), &regStake, "stake", "1tnn", "stake to add to the bond")
	register.Flags().Uint32Var(&reg.CPUCores, "cpus", 0, "CPU cores offered (default: this machine's)")
	register.Flags().Uint64Var(&reg.MemoryMB, "memory-mb", 0, "memory offered in MiB (default: this machine's)")
	register.Flags().Uint32Var(&reg.GPUs, "gpus", 0, "GPUs offered (default: found by nvidia-smi)")
	register.Flags().StringVar(&reg.GPUModel, "gpu-model", "", "GPU model")

	var hf txFlags
	heartbeat := &cobra.Command{
		Use: "heartbeat --from KEY", Short: "Tell the market a registered provider is alive", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return submit(cmd, &hf, &compute.MsgHeartbeat{}) },
	}
	addTxFlags(heartbeat, &hf)

	cmd.AddCommand(register, heartbeat, newPostJobCmd())

	var df txFlags
	declineCmd := &cobra.Command{
		Use: "decline JOB --from KEY", Short: "Give back an assignment you have not committed to (no penalty)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			return submit(cmd, &df, &compute.MsgDecline{Job: id})
		},
	}
	addTxFlags(declineCmd, &df)

	var cf txFlags
	var cArchive, cOutput, cDigest, cSalt, cCommit string
	commitCmd := &cobra.Command{
		Use:   "commit JOB --from KEY (--archive FILE | --output-cid CID [--digest HEX] | --commit HEX)",
		Short: "Commit to a result of an assigned job (the salt is printed: keep it for the reveal)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			if cCommit != "" {
				h, err := chain.ParseHash(cCommit)
				if err != nil {
					return err
				}
				return submit(cmd, &cf, &compute.MsgCommit{Job: id, Commit: h})
			}
			_, addr, err := signer(cf.from)
			if err != nil {
				return err
			}
			d, cid, err := outputArgs(cmd.Context(), cf.from, cArchive, cOutput, cDigest)
			if err != nil {
				return err
			}
			var salt compute.Hash
			if cSalt != "" {
				if salt, err = chain.ParseHash(cSalt); err != nil {
					return err
				}
			} else if _, err := rand.Read(salt[:]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "digest %s\noutput %s\nsalt   %s   (reveal with: tenun tx compute reveal %d --output-cid %s --salt %s --from %s)\n",
				d, cid, salt, id, cid, salt, cf.from)
			return submit(cmd, &cf, &compute.MsgCommit{Job: id, Commit: compute.CommitHash(id, addr, d, cid, salt)})
		},
	}
	addTxFlags(commitCmd, &cf)
	commitCmd.Flags().StringVar(&cArchive, "archive", "", "output archive file to upload and commit to")
	commitCmd.Flags().StringVar(&cOutput, "output-cid", "", "CID of an uploaded output archive")
	commitCmd.Flags().StringVar(&cDigest, "digest", "", "output digest (default: the one the CID names)")
	commitCmd.Flags().StringVar(&cSalt, "salt", "", "salt, 64 hex digits (default: random)")
	commitCmd.Flags().StringVar(&cCommit, "commit", "", "a precomputed commitment, 64 hex digits")

	var vf txFlags
	var vArchive, vOutput, vDigest, vSalt string
	revealCmd := &cobra.Command{
		Use:   "reveal JOB --from KEY (--archive FILE | --output-cid CID) --salt HEX",
		Short: "Reveal the result you committed to",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			salt, err := chain.ParseHash(vSalt)
			if err != nil {
				return fmt.Errorf("--salt: %w", err)
			}
			d, cid, err := outputArgs(cmd.Context(), vf.from, vArchive, vOutput, vDigest)
			if err != nil {
				return err
			}
			return submit(cmd, &vf, &compute.MsgReveal{Job: id, Digest: d, Output: cid, Salt: salt})
		},
	}
	addTxFlags(revealCmd, &vf)
	revealCmd.Flags().StringVar(&vArchive, "archive", "", "output archive file")
	revealCmd.Flags().StringVar(&vOutput, "output-cid", "", "CID of the output archive")
	revealCmd.Flags().StringVar(&vDigest, "digest", "", "output digest (default: the one the CID names)")
	revealCmd.Flags().StringVar(&vSalt, "salt", "", "the salt of the commitment (required)")
	revealCmd.MarkFlagRequired("salt")

	var xf txFlags
	var xArchive, xOutput, xDigest string
	challengeCmd := &cobra.Command{
		Use:   "challenge JOB --from KEY (--archive FILE | --output-cid CID)",
		Short: "Dispute an optimistic result in its challenge window, posting a bond; referees re-run the job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			d, cid, err := outputArgs(cmd.Context(), xf.from, xArchive, xOutput, xDigest)
			if err != nil {
				return err
			}
			return submit(cmd, &xf, &compute.MsgChallenge{Job: id, Digest: d, Output: cid})
		},
	}
	addTxFlags(challengeCmd, &xf)
	challengeCmd.Flags().StringVar(&xArchive, "archive", "", "the output archive you claim is right")
	challengeCmd.Flags().StringVar(&xOutput, "output-cid", "", "CID of the output archive you claim is right")
	challengeCmd.Flags().StringVar(&xDigest, "digest", "", "its digest (default: the one the CID names)")

	cmd.AddCommand(declineCmd, commitCmd, revealCmd, challengeCmd)
	return cmd
}

func newPostJobCmd() *cobra.Command {
	var f txFlags
	var m compute.MsgPostJob
	var module, maxPrice, dataPath string
	var inputs []string
	var wall time.Duration
	var memMB uint64
	var trainer, quick bool
	cmd := &cobra.Command{
		Use:   "post-job --from KEY (--module FILE|CID | --trainer) [--input NAME=FILE|CID ...] [-- ARGS...]",
		Short: "Post a WebAssembly (WASI) job; its budget is escrowed until it ends",
		Long: `Posts a job: a WASI command module run with the given inputs mounted
read-only under /in and an empty /out whose files are the result. Files given
instead of CIDs are uploaded and registered first. The budget escrowed is
(redundancy + reserve) x max price x units, where units = ceil(fuel / 1e6)
and the reserve pays tie-breakers (r >= 2) or referees (r = 1); what is not
paid out is refunded when the job ends.

--trainer posts the reference workload: the digits MLP trainer built for
WASI (needs a Go toolchain) on datasets/digits/digits.csv.gz (or --data).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c := newClient()
			m.Spec.Args = args
			if trainer {
				path, err := workload.BuildTrainer("")
				if err != nil {
					return err
				}
				module = path
				if dataPath == "" {
					if dataPath, err = dataFile(""); err != nil {
						return fmt.Errorf("%w; give --data", err)
					}
				}
				inputs = append(inputs, workload.TrainerDataName+"="+dataPath)
				m.Spec.Args = workload.TrainerOptions{Quick: quick}.Args(sandbox.InputDir+"/"+workload.TrainerDataName, sandbox.OutputDir)
			}
			if module == "" {
				return fmt.Errorf("give --module FILE|CID or --trainer")
			}
			// Refuse a module the sandbox could never run (unknown imports,
			// bad structure) before anyone pays for it.
			if err := checkModuleArg(ctx, c, module); err != nil {
				return err
			}
			var err error
			if m.Spec.Module, err = blobArg(ctx, c, f.from, module); err != nil {
				return fmt.Errorf("module: %w", err)
			}
			for _, in := range inputs {
				name, arg, ok := strings.Cut(in, "=")
				if !ok {
					return fmt.Errorf("--input %q: want NAME=FILE or NAME=CID", in)
				}
				cid, err := blobArg(ctx, c, f.from, arg)
				if err != nil {
					return fmt.Errorf("input %s: %w", name, err)
				}
				m.Spec.Inputs = append(m.Spec.Inputs, compute.Input{Name: name, CID: cid})
			}
			sort.Slice(m.Spec.Inputs, func(i, k int) bool { return m.Spec.Inputs[i].Name < m.Spec.Inputs[k].Name })
			if m.MaxPrice, err = parseAmount(maxPrice); err != nil {
				return err
			}
			m.Spec.MemoryBytes = memMB << 20
			m.Spec.WallSeconds = uint32(wall / time.Second)
			if m.Redundancy != 1 {
				m.ChallengeBlocks = 0
			}
			return submit(cmd, &f, &m)
		},
	}
	addTxFlags(cmd, &f)
	fl := cmd.Flags()
	fl.StringVar(&module, "module", "", "WASI module file or CID")
	fl.StringArrayVar(&inputs, "input", nil, "input NAME=FILE or NAME=CID, mounted at /in/NAME (repeatable)")
	fl.BoolVar(&trainer, "trainer", false, "post the reference trainer job (builds it, uploads the digits data)")
	fl.BoolVar(&quick, "quick", false, "with --trainer: 2 epochs")
	fl.StringVar(&dataPath, "data", "", "with --trainer: the digits data set (default: the set embedded in tenun)")
	amountFlag(fl, &maxPrice, "max-price", "10utnn", "highest price per unit of work a provider may charge")
	fl.Uint32Var(&m.Redundancy, "redundancy", 2, "providers that run it: 1 (optimistic, challengeable) to 5 (majority decides)")
	blocksFlag(fl, &m.Timeout, "timeout", 100, "time an assignee has to commit, and to reveal")
	blocksFlag(fl, &m.DeadlineBlocks, "deadline", 2000, "time until the job is refunded if it has no result")
	blocksFlag(fl, &m.ChallengeBlocks, "challenge-window", 50, "challenge window of an optimistic (redundancy 1) result")
	fl.Int64Var(&m.ChallengeBlocks, "challenge-blocks", 50, "deprecated: use --challenge-window")
	fl.MarkDeprecated("challenge-blocks", "use --challenge-window (blocks or a time)")
	fl.Uint64Var(&memMB, "memory-mb", 512, "memory limit in MiB")
	fl.Uint64Var(&m.Spec.Fuel, "fuel", 1_000_000_000, "loop iterations the job may run (its size in units: fuel / 1e6)")
	timeFlag(fl, &wall, "wall", 5*time.Minute, "wall-time limit on each provider")
	fl.Uint64Var(&m.Spec.MaxOutputBytes, "max-output", 64<<20, "largest total size of the files in /out")
	fl.Uint32Var(&m.Spec.CPUCores, "cpus", 1, "cores the job occupies on a provider")
	fl.Uint32Var(&m.Spec.GPUs, "gpus", 0, "GPUs a provider must have")
	fl.Uint64Var(&m.Spec.Seed, "seed", 0, "seed of the job's deterministic random stream")
	return cmd
}
