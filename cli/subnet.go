package cli

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/subnet/agent"
	"github.com/tenun-chain/tenun/zkml/model"
)

func init() {
	txCmd.AddCommand(newSubnetTxCmd())
	queryCmd.AddCommand(newSubnetQueryCmd())
	rootCmd.AddCommand(newMinerCmd(), newValidatorCmd())
}

// parseU16List reads "0,1,2" into uint16s.
func parseU16List(flag, s string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseUint(f, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a number from 0 to 65535", flag, f)
		}
		out = append(out, uint16(v))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s: give a comma-separated list", flag)
	}
	return out, nil
}

// weightFlags are the --uids and --values of the weights commands.
type weightFlags struct{ uids, values string }

func (w *weightFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.uids, "uids", "", "comma-separated miner uids (required)")
	cmd.Flags().StringVar(&w.values, "values", "", "comma-separated weights, one per uid, 0..65535 (scaled so the largest is 65535) (required)")
	cmd.MarkFlagRequired("uids")
	cmd.MarkFlagRequired("values")
}

func (w *weightFlags) parse() ([]uint16, []uint16, error) {
	uids, err := parseU16List("uids", w.uids)
	if err != nil {
		return nil, nil, err
	}
	values, err := parseU16List("values", w.values)
	if err != nil {
		return nil, nil, err
	}
	if len(uids) != len(values) {
		return nil, nil, fmt.Errorf("%d uids but %d values", len(uids), len(values))
	}
	return uids, values, nil
}

func newSubnetTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "subnet", Short: "Model subnet transactions: create, register, weights"}

	var cf txFlags
	var m subnet.MsgCreate
	hp := subnet.DefaultHyperparams()
	var datasetFile, regStake, valStake, bondsMode string
	create := &cobra.Command{
		Use:   "create --task TEXT (--dataset CID | --dataset-file FILE)",
		Short: "Create a subnet: a task, an evaluation data set (CSV: features then label per row), tempo and Yuma hyperparameters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (m.Dataset == "") == (datasetFile == "") {
				return fmt.Errorf("give exactly one of --dataset CID and --dataset-file FILE")
			}
			var err error
			if m.RegistrationMinStake, err = parseAmount(regStake); err != nil {
				return err
			}
			if m.ValidatorMinStake, err = parseAmount(valStake); err != nil {
				return err
			}
			if err := hp.BondsMode.UnmarshalText([]byte(bondsMode)); err != nil {
				return err
			}
			if datasetFile != "" {
				b, err := os.ReadFile(datasetFile)
				if err != nil {
					return fmt.Errorf("read data set: %w", err)
				}
				if _, err := agent.ParseEvalCSV(b); err != nil {
					return fmt.Errorf("%s: %w", datasetFile, err)
				}
				// One unlock of the key signs both transactions.
				key, _, err := signer(cf.from)
				if err != nil {
					return err
				}
				if m.Dataset, err = newClient().RegisterBlob(cmd.Context(), key, b); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "evaluation data set registered as %s\n", m.Dataset)
				m.Yuma = &hp
				return submitAs(cmd, &cf, key, &m)
			}
			m.Yuma = &hp
			return submit(cmd, &cf, &m)
		},
	}
	addTxFlags(create, &cf)
	f := create.Flags()
	f.StringVar(&m.Task, "task", "", "what miners serve, e.g. the predict API they answer (required)")
	f.StringVar(&m.Dataset, "dataset", "", "CID of a registered evaluation data set")
	f.StringVar(&datasetFile, "dataset-file", "", "upload and register this CSV file as the evaluation data set")
	blocksFlag(f, &m.Tempo, "tempo", 360, "length of an epoch")
	amountFlag(f, &regStake, "registration-min-stake", "1tnn", "stake every uid must bond in the subnet's pool")
	amountFlag(f, &valStake, "validator-min-stake", "100tnn", "stake a validator must bond in the subnet's pool")
	f.Uint16Var(&m.MaxUIDs, "max-uids", 256, "most uids the subnet holds")
	f.Uint64Var(&m.RevealPeriod, "reveal-period", 1, "epochs between a weights commit and its reveal (with --commit-reveal)")
	f.BoolVar(&hp.CommitReveal, "commit-reveal", false, "validators commit weight hashes and reveal them later")
	fractionFlag(f, &hp.Kappa, "kappa", 65535, false, "consensus majority")
	fractionFlag(f, &hp.BondsPenalty, "bonds-penalty", 65535, false, "bonds penalty")
	fractionFlag(f, &hp.BondsMovingAverage, "bonds-moving-average", 1_000_000, true, "EMA weight of the old bond")
	f.Uint64Var(&hp.ActivityCutoffFactorMilli, "activity-cutoff-factor", hp.ActivityCutoffFactorMilli, "activity cutoff in thousandths of a tempo (a factor, may exceed 1)")
	f.Uint16Var(&hp.MaxAllowedValidators, "max-validators", hp.MaxAllowedValidators, "validator permits (top stake)")
	f.Uint64Var(&hp.StakeThreshold, "stake-threshold", hp.StakeThreshold, "epoch stake below this (and below --validator-min-stake) counts as 0")
	f.StringVar(&bondsMode, "bonds-mode", hp.BondsMode.String(), "yuma3 or original")
	f.BoolVar(&hp.LiquidAlpha, "liquid-alpha", hp.LiquidAlpha, "per-bond liquid alpha (yuma3)")
	create.MarkFlagRequired("task")

	var rf txFlags
	var role, stake, endpoint string
	var serves uint64
	reg := &cobra.Command{
		Use:   "register SUBNET --role miner|validator [--stake AMOUNT] [--endpoint URL] [--serves MODEL]",
		Short: "Register in a subnet, bonding --stake into its pool subnet/SUBNET",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			var amt uint64
			if stake != "" {
				if amt, err = parseAmount(stake); err != nil {
					return err
				}
			}
			return submit(cmd, &rf, &subnet.MsgRegister{Subnet: id, Role: role, Stake: amt, Endpoint: endpoint, Model: serves})
		},
	}
	addTxFlags(reg, &rf)
	reg.Flags().StringVar(&role, "role", "", "miner or validator (required)")
	amountFlag(reg.Flags(), &stake, "stake", "", "stake to bond now (e.g. 100tnn); what is already bonded counts")
	reg.Flags().StringVar(&endpoint, "endpoint", "", "miners: http(s) URL of the predict API")
	reg.Flags().Uint64Var(&serves, "serves", 0, "miners: the entered model (its number in the subnet) served; its royalty share of the emission flows back to it")
	reg.MarkFlagRequired("role")

	var ef txFlags
	var enter subnet.MsgEnterModel
	enterCmd := &cobra.Command{
		Use:   "enter-model SUBNET --model ID --claim SEQ [--royalty 10%] [--data-share 50%]",
		Short: "Enter a verified model (a zkml registry model with a verified claim) into a subnet; miners serving it pay it --royalty of their emission, --data-share of that to the data it was trained on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			m := enter
			m.Subnet = id
			return submit(cmd, &ef, &m)
		},
	}
	addTxFlags(enterCmd, &ef)
	enterCmd.Flags().Uint64Var(&enter.Model, "model", 0, "zkml registry model id (required)")
	enterCmd.Flags().Uint64Var(&enter.Claim, "claim", 0, "the seq of its verified claim (required)")
	enter.RoyaltyBps, enter.DataBps = 1000, 5000
	fractionFlag(enterCmd.Flags(), &enter.RoyaltyBps, "royalty", 10_000, true, "share of each serving miner's emission paid to the model")
	fractionFlag(enterCmd.Flags(), &enter.DataBps, "data-share", 10_000, true, "share of the royalty paid to the model's training data, by the shares its dataset versions declared")
	for _, f := range []string{"model", "claim"} {
		enterCmd.MarkFlagRequired(f)
	}

	var sf txFlags
	var sw weightFlags
	set := &cobra.Command{
		Use: "set-weights SUBNET --uids 0,1 --values 100,50", Short: "Set weights on miners (subnets without commit-reveal)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			uids, values, err := sw.parse()
			if err != nil {
				return err
			}
			return submit(cmd, &sf, &subnet.MsgSetWeights{Subnet: id, UIDs: uids, Values: values})
		},
	}
	addTxFlags(set, &sf)
	sw.add(set)

	var kf txFlags
	var kw weightFlags
	var commitSalt string
	commit := &cobra.Command{
		Use:   "commit-weights SUBNET --uids 0,1 --values 100,50 [--salt HEX]",
		Short: "Commit to weights (commit-reveal subnets); prints the salt that reveal-weights needs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			uids, values, err := kw.parse()
			if err != nil {
				return err
			}
			salt, err := saltFlag(commitSalt, true)
			if err != nil {
				return err
			}
			// The address is enough to find the uid; only submit unlocks the key.
			addr, err := resolveAddress(kf.from)
			if err != nil {
				return err
			}
			mg, err := agent.Metagraph(cmd.Context(), newClient(), id)
			if err != nil {
				return err
			}
			me, ok := agent.FindUID(mg, addr)
			if !ok {
				return fmt.Errorf("key %s is not registered in subnet %d", kf.from, id)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "uid %d commits with salt %s: keep it for reveal-weights --salt\n", me.UID, salt)
			return submit(cmd, &kf, &subnet.MsgCommitWeights{Subnet: id, Hash: subnet.WeightsHash(id, me.UID, uids, values, salt)})
		},
	}
	addTxFlags(commit, &kf)
	kw.add(commit)
	commit.Flags().StringVar(&commitSalt, "salt", "", "salt, 32 bytes as 64 hex digits (default: 32 random bytes)")

	var vf txFlags
	var vw weightFlags
	var revealSalt string
	reveal := &cobra.Command{
		Use:   "reveal-weights SUBNET --uids 0,1 --values 100,50 --salt HEX",
		Short: "Reveal committed weights in their reveal epoch",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			uids, values, err := vw.parse()
			if err != nil {
				return err
			}
			salt, err := saltFlag(revealSalt, false)
			if err != nil {
				return err
			}
			return submit(cmd, &vf, &subnet.MsgRevealWeights{Subnet: id, UIDs: uids, Values: values, Salt: salt})
		},
	}
	addTxFlags(reveal, &vf)
	vw.add(reveal)
	reveal.Flags().StringVar(&revealSalt, "salt", "", "the salt of the commit, 64 hex digits (required)")
	reveal.MarkFlagRequired("salt")

	cmd.AddCommand(create, reg, enterCmd, set, commit, reveal)
	return cmd
}

// saltFlag reads a salt of 64 hex digits; an empty one is drawn at random
// when allowed. An all-zero salt is refused.
func saltFlag(s string, generate bool) (chain.Hash, error) {
	var salt chain.Hash
	if s == "" && generate {
		if _, err := rand.Read(salt[:]); err != nil {
			return salt, fmt.Errorf("generate salt: %w", err)
		}
		return salt, nil
	}
	salt, err := chain.ParseHash(s)
	if err != nil {
		return salt, fmt.Errorf("--salt: %w", err)
	}
	if salt.IsZero() {
		return salt, fmt.Errorf("--salt: all zeros; use a random salt")
	}
	return salt, nil
}

func newSubnetQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "subnet", Short: "Model subnet state"}
	cmd.AddCommand(&cobra.Command{Use: "subnets", Short: "All subnets", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return queryJSON(cmd, "subnet", "subnets", nil) }})
	for _, q := range []struct{ use, short, path string }{
		{"info ID", "A subnet: task, data set, tempo, hyperparameters, epoch schedule, accrued and minted emission", "info/"},
		{"epochs ID", "The recent epochs of a subnet: per uid stake, consensus, incentive, dividends and emission", "epochs/"},
		{"commits ID", "Pending weight commits of a subnet", "commits/"},
		{"models ID", "The verified models entered into a subnet: claim, royalty, serving miners, and what their revenue paid whom", "models/"},
	} {
		q := q
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return queryJSON(cmd, "subnet", q.path+args[0], nil) }})
	}
	cmd.AddCommand(&cobra.Command{Use: "epoch ID N", Short: "One epoch's record", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return queryJSON(cmd, "subnet", "epoch/"+args[0]+"/"+args[1], nil)
		}})
	cmd.AddCommand(&cobra.Command{Use: "model ID SEQ", Short: "One entered model and what its revenue paid whom", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return queryJSON(cmd, "subnet", "model/"+args[0]+"/"+args[1], nil)
		}})
	cmd.AddCommand(&cobra.Command{
		Use: "metagraph ID", Short: "Every uid: account, role, endpoint, stake, last consensus/incentive/dividends/emission, total earned", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			mg, err := agent.Metagraph(cmd.Context(), newClient(), id)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), mg, func(w io.Writer) {
				fmt.Fprintf(w, "%4s  %-9s  %-44s  %16s  %6s  %9s  %9s  %9s  %14s  %16s  %s\n",
					"uid", "role", "account", "stake", "permit", "consensus", "incentive", "dividends", "emission", "earned", "endpoint")
				for _, n := range mg {
					fmt.Fprintf(w, "%4d  %-9s  %-44s  %16s  %6v  %9d  %9d  %9d  %14d  %16s  %s\n",
						n.UID, n.Role, n.Account, formatAmount(n.Stake), n.ValidatorPermit, n.Consensus, n.Incentive, n.Dividends,
						n.Emission, formatAmount(n.Earned), n.Endpoint)
				}
			})
		}})
	return cmd
}

func newMinerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "miner", Short: "Subnet miner agent"}
	var key, modelFile, listen, endpoint, stake string
	var id, serves uint64
	run := &cobra.Command{
		Use:   "run --from NAME --model FILE --subnet ID [--listen ADDR] [--serves MODEL]",
		Short: "Serve a quantized model (tenun-zkml-mlp/v1) at POST /predict and register the endpoint in a subnet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			mdl, err := model.Load(modelFile)
			if err != nil {
				return err
			}
			var amt uint64
			if stake != "" {
				if amt, err = parseAmount(stake); err != nil {
					return err
				}
			}
			logf, err := agentLogf(cmd, "miner")
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			m := &agent.Miner{Client: newClient(), Key: k, Subnet: id, Model: mdl, Listen: listen, Endpoint: endpoint, Stake: amt, Serves: serves, Logf: logf}
			return m.Run(ctx)
		},
	}
	addFromFlag(run, &key, "miner key name")
	addLogFlags(run)
	run.Flags().StringVar(&modelFile, "model", "", "quantized model file (required)")
	run.Flags().Uint64Var(&id, "subnet", 0, "subnet id (required)")
	run.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "address to serve the predict API on")
	run.Flags().StringVar(&endpoint, "endpoint", "", "URL to register (default: http://<listen address>)")
	amountFlag(run.Flags(), &stake, "stake", "", "stake to bond at registration (default: the subnet's minimum)")
	run.Flags().Uint64Var(&serves, "serves", 0, "the entered model (its number in the subnet) this miner serves")
	for _, f := range []string{"model", "subnet"} {
		run.MarkFlagRequired(f)
	}
	cmd.AddCommand(run)
	return cmd
}

func newValidatorCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "validator", Short: "Subnet validator agent"}
	var key, strategy, stake string
	var id uint64
	var samples int
	run := &cobra.Command{
		Use:   "run --from NAME --subnet ID",
		Short: "Score a subnet's miners on its evaluation data set every epoch and set weights (commit-reveal when the subnet uses it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			if strategy != string(agent.Honest) && strategy != string(agent.Copier) {
				return fmt.Errorf("--strategy %q: want honest or copier", strategy)
			}
			var amt uint64
			if stake != "" {
				if amt, err = parseAmount(stake); err != nil {
					return err
				}
			}
			logf, err := agentLogf(cmd, "validator")
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			v := &agent.Validator{Client: newClient(), Key: k, Subnet: id, Strategy: agent.Strategy(strategy), Stake: amt, Samples: samples, Logf: logf}
			err = v.Run(ctx)
			st := v.Stats()
			fmt.Fprintf(cmd.ErrOrStderr(), "validator uid %d: %d evaluations, %d weight sets, %d commits, %d reveals, %d copies, %d errors\n",
				st.UID, st.Evaluations, st.WeightsSet, st.Commits, st.Reveals, st.Copies, st.Errors)
			return err
		},
	}
	addFromFlag(run, &key, "validator key name")
	addLogFlags(run)
	run.Flags().Uint64Var(&id, "subnet", 0, "subnet id (required)")
	run.Flags().StringVar(&strategy, "strategy", string(agent.Honest), "honest, or copier (copies other validators' weights; for experiments)")
	amountFlag(run.Flags(), &stake, "stake", "", "stake to bond at registration (default: the subnet's validator minimum)")
	run.Flags().IntVar(&samples, "samples", 64, "evaluation rows per miner per epoch")
	run.MarkFlagRequired("subnet")
	cmd.AddCommand(run)
	return cmd
}
