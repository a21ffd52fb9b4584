package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/bench"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
)

func init() {
	txCmd.AddCommand(newComputeTxCmd())
	queryCmd.AddCommand(newComputeQueryCmd())
	rootCmd.AddCommand(newProviderCmd(), newChallengerCmd(), newComputeCmd())
	// The market half of `tenun bench compute` (see cli/bench_compute.go).
	benchComputeMarket = benchComputeMarketRun
}

// blobArg accepts a CID, or a file to upload and register with key.
func blobArg(ctx context.Context, c *client.Client, from string, arg string) (string, error) {
	if _, err := chain.ParseBlobCID(arg); err == nil {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("%q is neither a CID nor a readable file: %w", arg, err)
	}
	key, _, err := signer(from)
	if err != nil {
		return "", err
	}
	cid, err := c.RegisterBlob(ctx, key, b)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", arg, err)
	}
	return cid, nil
}

// archiveArg reads an output archive file (as the sandbox writes it,
// sandbox.ArchiveOutputs), uploads and registers it, and returns its digest
// and CID.
func archiveArg(ctx context.Context, from, path string) (compute.Hash, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return compute.Hash{}, "", err
	}
	if _, err := sandbox.UnpackArchive(b); err != nil {
		return compute.Hash{}, "", fmt.Errorf("%s: %w", path, err)
	}
	key, _, err := signer(from)
	if err != nil {
		return compute.Hash{}, "", err
	}
	cid, err := newClient().RegisterBlob(ctx, key, b)
	if err != nil {
		return compute.Hash{}, "", err
	}
	d, err := compute.DigestOfCID(cid)
	return d, cid, err
}

// outputArgs resolves --archive FILE or --output-cid CID (with --digest, or
// the digest the CID names) into the digest and CID a message carries.
func outputArgs(ctx context.Context, from, archive, output, digest string) (compute.Hash, string, error) {
	switch {
	case archive != "":
		return archiveArg(ctx, from, archive)
	case output == "":
		return compute.Hash{}, "", fmt.Errorf("give --archive FILE or --output-cid CID")
	case digest != "":
		d, err := chain.ParseHash(digest)
		return d, output, err
	}
	d, err := compute.DigestOfCID(output)
	return d, output, err
}

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
	fl.DurationVar(&wall, "wall", 5*time.Minute, "wall-time limit on each provider")
	fl.Uint64Var(&m.Spec.MaxOutputBytes, "max-output", 64<<20, "largest total size of the files in /out")
	fl.Uint32Var(&m.Spec.CPUCores, "cpus", 1, "cores the job occupies on a provider")
	fl.Uint32Var(&m.Spec.GPUs, "gpus", 0, "GPUs a provider must have")
	fl.Uint64Var(&m.Spec.Seed, "seed", 0, "seed of the job's deterministic random stream")
	return cmd
}

func newComputeQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Compute market state"}
	for _, q := range []struct{ use, short, path string }{
		{"job ID", "A job: spec, assignments, commitments, reveals, verdicts, result", "job/"},
		{"provider ADDRESS", "A provider: offer, stake, liveness, record", "provider/"},
	} {
		q := q
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				arg := args[0]
				if q.path == "provider/" {
					a, err := resolveAddress(arg)
					if err != nil {
						return err
					}
					arg = a.String()
				}
				if q.path == "provider/" {
					return queryJSON(cmd, "compute", q.path+arg, heightParam(cmd))
				}
				return queryJSON(cmd, "compute", q.path+arg, nil)
			}})
	}
	for _, q := range []struct{ use, short string }{
		{"providers", "Registered providers with stake, liveness and reputation"},
		{"params", "The market's rules"},
		{"pool", "The spot-check pool"},
	} {
		q := q
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var params map[string]string
				if q.use == "providers" {
					params = heightParam(cmd)
				}
				return queryJSON(cmd, "compute", q.use, params)
			}})
	}
	var provider, status, tenant, limit, after string
	jobs := &cobra.Command{
		Use: "jobs", Short: "Jobs, filtered by --provider (active assignments), --status or --tenant", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params := map[string]string{}
			for k, v := range map[string]string{"status": status, "limit": limit, "after": after} {
				if v != "" {
					params[k] = v
				}
			}
			for k, v := range map[string]string{"provider": provider, "tenant": tenant} {
				if v == "" {
					continue
				}
				a, err := resolveAddress(v)
				if err != nil {
					return err
				}
				params[k] = a.String()
			}
			return queryJSON(cmd, "compute", "jobs", params)
		},
	}
	jobs.Flags().StringVar(&provider, "provider", "", "jobs where this provider (address or key name) holds an active assignment")
	jobs.Flags().StringVar(&status, "status", "", "running, challenge, open (both), settled, expired or failed")
	jobs.Flags().StringVar(&tenant, "tenant", "", "jobs of this tenant (address or key name)")
	jobs.Flags().StringVar(&limit, "limit", "", "at most this many (default 100)")
	jobs.Flags().StringVar(&after, "after", "", "only jobs with a higher id (paging)")
	cmd.AddCommand(jobs)
	return cmd
}

// heightParam passes the chain's height to provider queries, which judge
// liveness against it (state alone does not know the current height).
func heightParam(cmd *cobra.Command) map[string]string {
	st, err := newClient().Status(cmd.Context())
	if err != nil {
		return nil // the query itself will report the node unreachable
	}
	return map[string]string{"height": fmt.Sprint(st.Height)}
}

// agentLogf prints agent log lines with a timestamp.
func agentLogf(w io.Writer) func(string, ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(w, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

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
			if err := requireFrom(key); err != nil {
				return err
			}
			if err := requireFrom(key); err != nil {
				return err
			}
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			if stateDir == "" {
				stateDir = filepath.Join(homeDir, "agent-state", "provider-"+key)
			}
			cfg := agent.Config{Client: newClient(), Key: k, Cheat: cheat, Poll: poll, Logf: agentLogf(cmd.ErrOrStderr()), StateDir: stateDir}
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
	amountFlag(run.Flags(), &price, "price", "10utnn", "price per unit of work (1e6 loop iterations)")
	amountFlag(run.Flags(), &stake, "stake", "1tnn", "total stake to keep bonded in the compute pool")
	run.Flags().StringVar(&cheat, "cheat", "", "misbehave, for tests and demos: wrong or silent")
	run.Flags().StringVar(&stateDir, "state-dir", "", "where commit salts and pending reveals are kept across restarts (default: <home>/agent-state/provider-<key>)")
	run.Flags().Uint32Var(&capa.CPUCores, "cpus", 0, "cores offered (default: this machine's)")
	run.Flags().Uint64Var(&capa.MemoryMB, "memory-mb", 0, "memory offered in MiB (default: this machine's)")
	run.Flags().Uint32Var(&capa.GPUs, "gpus", 0, "GPUs offered (default: found by nvidia-smi)")
	run.Flags().DurationVar(&poll, "poll", 200*time.Millisecond, "how often to look for assignments")
	cmd.AddCommand(run)
	return cmd
}

func newChallengerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "challenger", Short: "Compute market challenger agent"}
	var key string
	var always bool
	run := &cobra.Command{
		Use:   "run --from NAME",
		Short: "Re-run optimistic results in their challenge window and challenge those that differ",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFrom(key); err != nil {
				return err
			}
			if err := requireFrom(key); err != nil {
				return err
			}
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			mode := agent.ChallengeHonest
			if always {
				mode = agent.ChallengeAlways
			}
			c, err := agent.NewChallenger(agent.ChallengerConfig{Client: newClient(), Key: k, Mode: mode, Logf: agentLogf(cmd.ErrOrStderr())})
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
	run.Flags().BoolVar(&always, "always", false, "challenge every result with a made-up claim (demo of a failing challenge)")
	cmd.AddCommand(run)
	return cmd
}

func newComputeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Compute market client commands"}
	var out string
	fetch := &cobra.Command{
		Use:   "fetch JOB --out DIR",
		Short: "Download a job's accepted output archive and unpack its files into DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c := newClient()
			var j compute.Job
			if err := c.Query(ctx, "compute", "job/"+args[0], nil, &j); err != nil {
				return err
			}
			if j.Result == nil {
				return fmt.Errorf("job %d has no result yet (%s)", j.ID, j.Status)
			}
			archive, err := c.BlobGet(ctx, j.Result.Output)
			if err != nil {
				return err
			}
			files, err := sandbox.UnpackArchive(archive)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(files))
			for name, b := range files {
				p := filepath.Join(out, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					return err
				}
				names = append(names, name)
			}
			sort.Strings(names)
			return emit(cmd.OutOrStdout(), map[string]any{"job": j.ID, "status": j.Status, "digest": j.Result.Digest, "files": names}, func(w io.Writer) {
				fmt.Fprintf(w, "job %d (%s, %s): %d files into %s: %s\n", j.ID, j.Status, j.Result.By, len(names), out, strings.Join(names, ", "))
			})
		},
	}
	fetch.Flags().StringVar(&out, "out", ".", "directory to unpack the outputs into")
	cmd.AddCommand(fetch)
	return cmd
}

// benchComputeMarketRun is the market half of `tenun bench compute`: jobs
// settled per second on a fresh in-process devnet with simulated providers
// (real agents, a tiny module). Sizes come from --market-jobs and
// --market-providers where the command defines them.
func benchComputeMarketRun(cmd *cobra.Command) (any, func(io.Writer), error) {
	jobs, providers := 500, 4
	if v, err := cmd.Flags().GetInt("market-jobs"); err == nil && v > 0 {
		jobs = v
	}
	if v, err := cmd.Flags().GetInt("market-providers"); err == nil && v > 0 {
		providers = v
	}
	if !jsonOutput() {
		fmt.Fprintf(cmd.ErrOrStderr(), "compute market: %d jobs on a fresh devnet with %d providers...\n", jobs, providers)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := bench.ComputeMarket(ctx, jobs, providers)
	if err != nil {
		return nil, nil, err
	}
	return rep, func(w io.Writer) {
		fmt.Fprintf(w, "compute market: %d of %d jobs (redundancy %d, %d providers, %d ms blocks) settled in %.2f s: %.1f jobs/s, median %d blocks from post to settlement\n",
			rep.JobsSettled, rep.Jobs, rep.Redundancy, rep.Providers, rep.BlockTimeMS, rep.Seconds, rep.JobsPerSec, rep.MedianLatencyBlocks)
		fmt.Fprintf(w, "  baseline: the same job in the sandbox alone, no chain: %.0f jobs/s\n", rep.SandboxJobsPerSec)
	}, nil
}
