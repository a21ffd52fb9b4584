package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/internal/progress"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

func init() { rootCmd.AddCommand(newZkCmd()) }

// zkQuiet silences gnark's own logging so command output stays readable.
func zkQuiet() { logger.Disable() }

func newZkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zk",
		Short: "Zero-knowledge proofs about quantized MLPs: train, quantize, compile, setup, prove, verify",
		Long: `Quantized MLPs with Groth16 (BN254, gnark) proofs about them.

A typical flow on the digits data:

  tenun zk train    --out float.json
  tenun zk quantize --float float.json --out model.json
  tenun zk compile  --kind accuracy --model model.json --rows 360 --out keys/digits-acc
  tenun zk setup    --keys keys/digits-acc.json
  tenun zk prove    --keys keys/digits-acc.json --model model.json --data-rows 1437:1797 --out acc.proof.json
  tenun zk verify   --keys keys/digits-acc.json --proof acc.proof.json --data-rows 1437:1797

Setup here is single-party (devnets only: whoever runs it can forge proofs).
On a public network run "tenun zk ceremony": a multi-party setup on chain, whose
verifying key the chain derives itself.`,
	}
	cmd.AddCommand(newZkTrainCmd(), newZkQuantizeCmd(), newZkCompileCmd(), newZkSetupCmd(), newZkProveCmd(), newZkVerifyCmd())
	for _, c := range cmd.Commands() {
		run := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			zkQuiet()
			return run(cmd, args)
		}
	}
	cmd.AddCommand(newZkCeremonyCmd())
	return cmd
}

// zkLoadRows loads a data file and slices rows "from:to" (either side may be empty).
func zkLoadRows(path, rows string) (*model.Dataset, error) {
	path, err := dataFile(path)
	if err != nil {
		return nil, err
	}
	ds, err := model.LoadCSV(path)
	if err != nil {
		return nil, err
	}
	from, to := 0, ds.Len()
	if rows != "" {
		a, b, ok := strings.Cut(rows, ":")
		if !ok {
			return nil, fmt.Errorf("rows %q: want from:to", rows)
		}
		if a != "" {
			if from, err = strconv.Atoi(a); err != nil {
				return nil, fmt.Errorf("rows %q: want FROM:TO, 0-based row numbers, either end optional (e.g. 0:1437 or 1437:)", rows)
			}
		}
		if b != "" {
			if to, err = strconv.Atoi(b); err != nil {
				return nil, fmt.Errorf("rows %q: want FROM:TO, 0-based row numbers, either end optional (e.g. 0:1437 or 1437:)", rows)
			}
		}
	}
	return ds.Slice(from, to)
}

type zkTrainResult struct {
	Out           string  `json:"out"`
	Sizes         []int   `json:"sizes"`
	TrainRows     int     `json:"train_rows"`
	TestRows      int     `json:"test_rows,omitempty"`
	FloatAccuracy float64 `json:"float_test_accuracy,omitempty"`
	Seconds       float64 `json:"seconds"`
}

func newZkTrainCmd() *cobra.Command {
	var data, rows, testRows, out, hidden string
	cfg := train.DigitsTrainConfig()
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a float MLP (Adam, seeded) on integer feature rows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			trainSet, err := zkLoadRows(data, rows)
			if err != nil {
				return err
			}
			cfg.Hidden = nil
			for _, h := range strings.Split(hidden, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(h))
				if err != nil || n < 1 {
					return fmt.Errorf("--hidden %q: want comma-separated widths", hidden)
				}
				cfg.Hidden = append(cfg.Hidden, n)
			}
			classes := 0
			for _, y := range trainSet.Y {
				classes = max(classes, y+1)
			}
			start := time.Now()
			bar := progress.New(cmd.ErrOrStderr(), int64(cfg.Epochs), "zk train", "epochs")
			cfg.OnEpoch = func(int) { bar.Add(1) }
			f, err := train.Train(trainSet, classes, cfg)
			bar.Finish()
			if err != nil {
				return err
			}
			res := zkTrainResult{Out: out, Sizes: f.Sizes, TrainRows: trainSet.Len(), Seconds: time.Since(start).Seconds()}
			if testRows != "" {
				test, err := zkLoadRows(data, testRows)
				if err != nil {
					return err
				}
				res.TestRows = test.Len()
				res.FloatAccuracy = float64(f.FloatAccuracy(test, cfg.InScale)) / float64(test.Len())
			}
			if err := train.SaveFloat(out, f, cfg.InScale); err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "trained %v on %d rows in %.1fs -> %s\n", res.Sizes, res.TrainRows, res.Seconds, out)
				if res.TestRows > 0 {
					fmt.Fprintf(w, "float accuracy on %d test rows: %.2f%%\n", res.TestRows, 100*res.FloatAccuracy)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", digitsDefault, "CSV(.gz) of integer features followed by a label (default: the digits set embedded in tenun)")
	f.StringVar(&rows, "rows", fmt.Sprintf("0:%d", model.DigitsTrainRows), "training rows from:to")
	f.StringVar(&testRows, "test-rows", fmt.Sprintf("%d:", model.DigitsTrainRows), "rows to report accuracy on (empty: none)")
	f.StringVar(&hidden, "hidden", "32", "hidden layer widths, comma-separated")
	f.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "training epochs")
	f.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "minibatch size")
	f.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam step size")
	f.Float64Var(&cfg.L2, "l2", cfg.L2, "weight decay")
	f.Float64Var(&cfg.Noise, "noise", cfg.Noise, "stddev of Gaussian input noise while training")
	f.Float64Var(&cfg.InScale, "in-scale", cfg.InScale, "float input = integer input / in-scale")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	f.StringVar(&out, "out", "float.json", "float model file to write")
	return cmd
}

type zkQuantizeResult struct {
	Out        string       `json:"out"`
	Arch       model.Arch   `json:"arch"`
	Commitment model.Digest `json:"commitment"`
	TestRows   int          `json:"test_rows,omitempty"`
	Correct    int          `json:"correct,omitempty"`
	Accuracy   float64      `json:"test_accuracy,omitempty"`
}

func newZkQuantizeCmd() *cobra.Command {
	var floatPath, data, rows, testRows, out string
	var qc train.QuantizeConfig
	cmd := &cobra.Command{
		Use:   "quantize",
		Short: "Convert a float MLP into an int8 model file and print its commitment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, inScale, err := train.LoadFloat(floatPath)
			if err != nil {
				return err
			}
			if qc.InScale == 0 {
				qc.InScale = inScale
			}
			bar := progress.Phases(cmd.ErrOrStderr(), "zk quantize", 2)
			defer bar.Finish()
			bar.Phase("load the calibration rows")
			calib, err := zkLoadRows(data, rows)
			if err != nil {
				return err
			}
			bar.Phase("calibrate and quantize")
			m, err := train.Quantize(f, calib, qc)
			if err != nil {
				return err
			}
			bar.Finish()
			m.Meta = map[string]any{"source": filepath.Base(floatPath), "in_scale": qc.InScale}
			res := zkQuantizeResult{Out: out, Arch: m.Arch}
			if testRows != "" {
				test, err := zkLoadRows(data, testRows)
				if err != nil {
					return err
				}
				if res.Correct, err = m.Accuracy(test); err != nil {
					return err
				}
				res.TestRows = test.Len()
				res.Accuracy = float64(res.Correct) / float64(test.Len())
				m.Meta["test_correct"], m.Meta["test_rows"] = res.Correct, res.TestRows
			}
			if err := m.Save(out); err != nil {
				return err
			}
			res.Commitment = *m.Commitment
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "model %s shifts %v bias bits %v -> %s\n", m.Arch, m.Arch.Shifts, m.Arch.BiasBits, out)
				fmt.Fprintf(w, "commitment %s\n", res.Commitment)
				if res.TestRows > 0 {
					fmt.Fprintf(w, "integer accuracy on %d test rows: %d (%.2f%%)\n", res.TestRows, res.Correct, 100*res.Accuracy)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&floatPath, "float", "float.json", "float model written by tenun zk train")
	f.StringVar(&data, "data", digitsDefault, "CSV(.gz) with calibration rows (default: the digits set embedded in tenun)")
	f.StringVar(&rows, "rows", fmt.Sprintf("0:%d", model.DigitsTrainRows), "calibration rows from:to (the training rows)")
	f.StringVar(&testRows, "test-rows", fmt.Sprintf("%d:", model.DigitsTrainRows), "rows to report integer accuracy on (empty: none)")
	f.IntVar(&qc.InBits, "in-bits", 5, "input width: integer inputs are in [0, 2^in-bits)")
	f.Float64Var(&qc.InScale, "in-scale", 0, "integer input = float input * in-scale (default: the float model's)")
	fractionFloatFlag(f, &qc.Percentile, "percentile", 0.999, "activation percentile mapped to the top of the 8-bit range")
	f.StringVar(&out, "out", "model.json", "model file to write")
	return cmd
}

// zkSpec builds a circuit spec from flags; embed compiles the test rows
// into an accuracy circuit.
func zkSpec(kind, modelPath string, rows int, embed bool, data, dataRows string) (prover.Spec, error) {
	switch prover.Kind(kind) {
	case prover.KindInference, prover.KindAccuracy:
	case prover.KindConvInference, prover.KindConvAccuracy:
		return prover.Spec{}, fmt.Errorf("--kind %s: CNN circuits are compiled from a CNN arch, and CNN models have no model file format yet (tenun zk compile reads MLP model files); build CNN keys with zkml/prover (Spec.Conv) or a ceremony (tenun zk ceremony keys)", kind)
	default:
		return prover.Spec{}, fmt.Errorf("--kind %q: want %s or %s", kind, prover.KindInference, prover.KindAccuracy)
	}
	m, err := zkLoadModel(modelPath)
	if err != nil {
		return prover.Spec{}, err
	}
	spec := prover.Spec{Kind: prover.Kind(kind), Arch: m.Arch}
	if spec.Kind == prover.KindAccuracy {
		spec.Rows = rows
		if embed {
			if spec.TestSet, err = zkLoadRows(data, dataRows); err != nil {
				return prover.Spec{}, err
			}
			spec.Rows = spec.TestSet.Len()
		}
	}
	_, err = spec.Circuit()
	return spec, err
}

type zkCompileResult struct {
	Manifest     string      `json:"manifest"`
	Spec         prover.Spec `json:"spec"`
	Constraints  int         `json:"constraints"`
	PublicInputs int         `json:"public_inputs"`
	Seconds      float64     `json:"seconds"`
}

func newZkCompileCmd() *cobra.Command {
	var kind, modelPath, out, data, dataRows string
	var rows int
	var embed bool
	cmd := &cobra.Command{
		Use:   "compile",
		Short: "Compile the inference or accuracy circuit for a model's arch (writes OUT.ccs and OUT.json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bar := progress.Phases(cmd.ErrOrStderr(), "zk compile", 3)
			defer bar.Finish()
			bar.Phase("read the model")
			spec, err := zkSpec(kind, modelPath, rows, embed, data, dataRows)
			if err != nil {
				return err
			}
			bar.Phase("compile the constraints")
			start := time.Now()
			ccs, err := prover.Compile(spec)
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			bar.Phase("write the circuit")
			m, err := prover.SaveCompiled(filepath.Dir(out), filepath.Base(out), spec, ccs)
			if err != nil {
				return err
			}
			bar.Finish()
			res := zkCompileResult{Manifest: out + ".json", Spec: spec, Constraints: m.Constraints, PublicInputs: m.PublicInputs, Seconds: secs}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "%s circuit for %s: %d constraints, %d public inputs, compiled in %.1fs -> %s\n",
					spec.Kind, spec.Arch, res.Constraints, res.PublicInputs, secs, res.Manifest)
				if spec.TestSet != nil {
					fmt.Fprintf(w, "test set of %d rows compiled in: these keys accept no other\n", spec.Rows)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "inference", "statement: inference or accuracy")
	f.StringVar(&modelPath, "model", "model.json", "model file (its arch fixes the circuit; the weights stay out of it)")
	f.IntVar(&rows, "rows", model.DigitsRows-model.DigitsTrainRows, "test rows of the accuracy statement")
	f.BoolVar(&embed, "embed", false, "accuracy: compile the test rows (--data, --data-rows) into the circuit: keys then accept only that test set, proving is about twice as fast")
	f.StringVar(&data, "data", digitsDefault, "accuracy with --embed: CSV(.gz) holding the test rows (default: the digits set embedded in tenun)")
	f.StringVar(&dataRows, "data-rows", fmt.Sprintf("%d:", model.DigitsTrainRows), "accuracy with --embed: test rows from:to")
	f.StringVar(&out, "out", "keys/circuit", "output path prefix")
	return cmd
}

type zkSetupResult struct {
	Manifest     string  `json:"manifest"`
	Seconds      float64 `json:"seconds"`
	VKBytes      int64   `json:"vk_bytes"`
	PKBytes      int64   `json:"pk_bytes"`
	Setup        string  `json:"setup"`
	Gnark        string  `json:"gnark"`
	PublicInputs int     `json:"public_inputs"`
}

func newZkSetupCmd() *cobra.Command {
	var manifest string
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Single-party Groth16 setup for a compiled circuit (devnets only)",
		Long: `Runs gnark's single-party Groth16 setup and writes the proving and verifying
keys beside the compiled circuit, recording the gnark version in the manifest.
Whoever runs it can forge proofs: for a public network run gnark's multi-party
ceremony (backend/groth16/bn254/mpcsetup) on the same .ccs instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bar := progress.Phases(cmd.ErrOrStderr(), "zk setup", 3)
			defer bar.Finish()
			bar.Phase("load the compiled circuit")
			spec, ccs, _, err := prover.LoadCompiled(manifest)
			if err != nil {
				return err
			}
			bar.Phase("Groth16 setup")
			start := time.Now()
			keys, err := prover.Setup(spec, ccs)
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			bar.Phase("write the keys")
			name := strings.TrimSuffix(filepath.Base(manifest), ".json")
			m, err := prover.SaveKeys(filepath.Dir(manifest), name, keys, prover.SetupSingleParty)
			if err != nil {
				return err
			}
			bar.Finish()
			res := zkSetupResult{Manifest: manifest, Seconds: secs, VKBytes: m.VK.Bytes, PKBytes: m.PK.Bytes, Setup: m.Setup, Gnark: m.Gnark, PublicInputs: m.PublicInputs}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "setup in %.1fs: proving key %d bytes, verifying key %d bytes (gnark %s)\n", secs, m.PK.Bytes, m.VK.Bytes, m.Gnark)
				fmt.Fprintf(w, "note: %s\n", m.Setup)
			})
		},
	}
	cmd.Flags().StringVar(&manifest, "keys", "keys/circuit.json", "manifest written by tenun zk compile")
	return cmd
}

type zkProveResult struct {
	Out        string               `json:"out"`
	Kind       prover.Kind          `json:"kind"`
	Inference  *zkml.InferenceClaim `json:"inference,omitempty"`
	Accuracy   *zkml.AccuracyClaim  `json:"accuracy,omitempty"`
	Seconds    float64              `json:"seconds"`
	ProofBytes int                  `json:"proof_bytes"`
}

func newZkProveCmd() *cobra.Command {
	var manifest, modelPath, data, dataRows, input, out, piece string
	var row, atLeast int
	cmd := &cobra.Command{
		Use:   "prove",
		Short: "Prove an inference (--input or --row) or an accuracy claim (--data-rows, or one --piece of them) about a model",
		Long: `Proves an inference (--input or --row) or an accuracy claim (--data-rows) about a model file.

A test set registered as pieces (tenun tx zkml register-testset --split P over the same rows)
is proven piece by piece: --piece I/P proves the I-th of P equal pieces of --data-rows under
keys for rows/P rows, and tenun tx zkml submit-proof --set submits it for the set.
CNN keys are refused: CNN models have no model file format yet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A CNN's keys need a CNN model, which has no file format yet:
			// refuse before the slow key load.
			man, err := prover.ReadManifest(manifest)
			if err != nil {
				return err
			}
			switch k := man.Spec.Kind; k {
			case prover.KindInference, prover.KindAccuracy:
			case prover.KindConvInference, prover.KindConvAccuracy:
				return fmt.Errorf("keys %s are for %s proofs about a CNN; CNN models have no model file format yet, so tenun zk prove cannot read one (prove with zkml/prover and circuit.ConvInferenceAssignment or ConvAccuracyAssignment)", manifest, k)
			default:
				return fmt.Errorf("keys %s: unknown statement kind %q", manifest, k)
			}
			if piece != "" && man.Spec.Kind != prover.KindAccuracy {
				return fmt.Errorf("--piece: keys %s are for %s proofs; pieces of a test set take accuracy proofs", manifest, man.Spec.Kind)
			}
			keys, _, err := prover.LoadKeys(manifest)
			if err != nil {
				return err
			}
			m, err := zkLoadModel(modelPath)
			if err != nil {
				return err
			}
			bar := progress.Phases(cmd.ErrOrStderr(), "zk prove", 2)
			defer bar.Finish()
			bar.Phase("witness and Groth16 proof")
			start := time.Now()
			var pf *prover.ProofFile
			switch keys.Spec.Kind {
			case prover.KindInference:
				x, err := zkInput(input, data, row)
				if err != nil {
					return err
				}
				if pf, err = keys.ProveInference(m, x); err != nil {
					return err
				}
			case prover.KindAccuracy:
				ds, err := zkLoadRows(data, dataRows)
				if err != nil {
					return err
				}
				if piece != "" {
					if ds, err = zkPiece(ds, piece); err != nil {
						return err
					}
				}
				if pf, err = keys.ProveAccuracy(m, ds, atLeast); err != nil {
					return err
				}
			}
			secs := time.Since(start).Seconds()
			bar.Phase("write the proof")
			if err := pf.Save(out); err != nil {
				return err
			}
			bar.Finish()
			res := zkProveResult{Out: out, Kind: pf.Kind, Inference: pf.Inference, Accuracy: pf.Accuracy, Seconds: secs, ProofBytes: len(pf.Proof)}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "proved in %.2fs (%d-byte proof) -> %s\n", secs, len(pf.Proof), out)
				zkPrintClaim(w, pf)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&manifest, "keys", "keys/circuit.json", "key manifest")
	f.StringVar(&modelPath, "model", "model.json", "model file")
	f.StringVar(&input, "input", "", "inference: comma-separated integer inputs")
	f.StringVar(&data, "data", digitsDefault, "CSV(.gz) for --row or --data-rows (default: the digits set embedded in tenun)")
	f.IntVar(&row, "row", model.DigitsTrainRows, "inference: row of --data to use as input (when --input is empty)")
	f.StringVar(&dataRows, "data-rows", fmt.Sprintf("%d:", model.DigitsTrainRows), "accuracy: test rows from:to")
	f.IntVar(&atLeast, "at-least", -1, "accuracy: claim at least this many correct (default: the true count)")
	f.StringVar(&piece, "piece", "", "accuracy: prove piece I/P of --data-rows, the I-th (1-based) of P pieces of equal size (as register-testset --split P cuts them)")
	f.StringVar(&out, "out", "proof.json", "proof file to write")
	return cmd
}

// zkPiece is piece "I/P" of ds: the I-th (1-based) of P pieces of equal
// size, as tenun tx zkml register-testset --split P cuts the same rows.
func zkPiece(ds *model.Dataset, piece string) (*model.Dataset, error) {
	a, b, ok := strings.Cut(piece, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	p, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("--piece %q: want I/P, piece I of P (e.g. 2/4)", piece)
	}
	if p < 2 || p > registry.MaxPieces || i < 1 || i > p {
		return nil, fmt.Errorf("--piece %q: want 1 <= I <= P and 2 <= P <= %d", piece, registry.MaxPieces)
	}
	n := ds.Len()
	if n < p || n%p != 0 {
		return nil, fmt.Errorf("--piece %s: %d rows do not split into %d pieces of equal size (the set's rows are --data-rows)", piece, n, p)
	}
	size := n / p
	return ds.Slice((i-1)*size, i*size)
}

func zkInput(input, data string, row int) ([]int, error) {
	if input == "" {
		ds, err := zkLoadRows(data, fmt.Sprintf("%d:%d", row, row+1))
		if err != nil {
			return nil, err
		}
		return ds.X[0], nil
	}
	var x []int
	for _, s := range strings.Split(input, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--input: %q is not an integer; want comma-separated integers", strings.TrimSpace(s))
		}
		x = append(x, v)
	}
	return x, nil
}

func zkPrintClaim(w io.Writer, pf *prover.ProofFile) {
	switch {
	case pf.Inference != nil:
		fmt.Fprintf(w, "claim: model %s classifies the %d-value input as class %d\n", pf.Inference.Model, len(pf.Inference.Input), pf.Inference.Class)
	case pf.Accuracy != nil:
		c := pf.Accuracy
		fmt.Fprintf(w, "claim: model %s gets at least %d of %d rows of test set %s right (%.2f%%)\n", c.Model, c.K, c.N, c.TestSet, 100*float64(c.K)/float64(c.N))
	}
}

type zkVerifyResult struct {
	Valid     bool                 `json:"valid"`
	Kind      prover.Kind          `json:"kind"`
	Inference *zkml.InferenceClaim `json:"inference,omitempty"`
	Accuracy  *zkml.AccuracyClaim  `json:"accuracy,omitempty"`
	Millis    float64              `json:"ms"`
	Gnark     string               `json:"gnark"`
}

func newZkVerifyCmd() *cobra.Command {
	var manifest, vkPath, proofPath, modelPath, data, dataRows, piece string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a proof file against a verifying key; optionally check the model and test set it names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pf, err := prover.LoadProofFile(proofPath)
			if err != nil {
				return err
			}
			var vk []byte
			if vkPath != "" {
				if vk, err = os.ReadFile(vkPath); err != nil {
					return fmt.Errorf("read verifying key: %w", err)
				}
			} else {
				var m *prover.Manifest
				if vk, m, err = prover.LoadVerifyingKey(manifest); err != nil {
					return err
				}
				// The manifest, not the proof file, says which circuit the key is for.
				if m.Spec.Kind != pf.Kind || !m.Spec.Arch.Equal(pf.Arch) {
					return fmt.Errorf("proof is a %s proof for %s, keys are for %s %s (proof vs keys: %s)", pf.Kind, pf.Arch, m.Spec.Kind, m.Spec.Arch, pf.Arch.Diff(m.Spec.Arch))
				}
			}
			if modelPath != "" {
				mm, err := zkLoadModel(modelPath)
				if err != nil {
					return err
				}
				if c := zkClaimedModel(pf); c != *mm.Commitment {
					return fmt.Errorf("proof names model %s, %s commits to %s", c, modelPath, mm.Commitment)
				}
			}
			if piece != "" && (pf.Accuracy == nil || dataRows == "") {
				return fmt.Errorf("--piece checks the test set of an accuracy proof: give it with --data-rows (the set's rows)")
			}
			if pf.Accuracy != nil && dataRows != "" {
				ds, err := zkLoadRows(data, dataRows)
				if err != nil {
					return err
				}
				if piece != "" {
					if ds, err = zkPiece(ds, piece); err != nil {
						return err
					}
				}
				h, err := pf.Arch.TestSetHash(ds)
				if err != nil {
					return err
				}
				if h != pf.Accuracy.TestSet {
					return fmt.Errorf("proof names test set %s, rows %s of %s hash to %s", pf.Accuracy.TestSet, dataRows, data, h)
				}
			}
			pub, err := pf.PublicElements()
			if err != nil {
				return err
			}
			start := time.Now()
			err = zkml.Verify(vk, pf.Proof, pub)
			ms := float64(time.Since(start).Microseconds()) / 1000
			if err != nil {
				if errors.Is(err, zkml.ErrInvalidProof) {
					_ = emit(cmd.OutOrStdout(), zkVerifyResult{Valid: false, Kind: pf.Kind, Millis: ms}, func(w io.Writer) {})
				}
				return err
			}
			gv, _ := prover.Versions()
			res := zkVerifyResult{Valid: true, Kind: pf.Kind, Inference: pf.Inference, Accuracy: pf.Accuracy, Millis: ms, Gnark: gv}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "valid %s proof (verified in %.2f ms)\n", pf.Kind, ms)
				zkPrintClaim(w, pf)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&manifest, "keys", "keys/circuit.json", "key manifest (its verifying key and spec are used)")
	f.StringVar(&vkPath, "vk", "", "verifying key file (instead of --keys; the proof file's arch is then trusted)")
	f.StringVar(&proofPath, "proof", "proof.json", "proof file")
	f.StringVar(&modelPath, "model", "", "also check that the proof names this model file's commitment")
	f.StringVar(&data, "data", digitsDefault, "CSV(.gz) holding the test rows (default: the digits set embedded in tenun)")
	f.StringVar(&dataRows, "data-rows", "", "accuracy: recompute the test-set hash from these rows and check it")
	f.StringVar(&piece, "piece", "", "accuracy: with --data-rows, check against piece I/P of those rows (as zk prove --piece)")
	return cmd
}

// zkLoadModel loads an MLP model file. A CNN's JSON (format
// tenun-zkml-cnn/v1) is refused by name: CNN model files have no loader
// yet (no commitment check, no CLI path to prove about one).
func zkLoadModel(path string) (*model.Model, error) {
	m, err := model.Load(path)
	if err == nil {
		return m, nil
	}
	if b, rerr := os.ReadFile(path); rerr == nil {
		var head struct {
			Format string `json:"format"`
		}
		if json.Unmarshal(b, &head) == nil && head.Format == model.ConvFormatName {
			return nil, fmt.Errorf("%s is a CNN (%s): CNN model files have no loader yet, so this command cannot read it (the registry takes a CNN as MsgCommitModel with Arch.Conv, built in Go)", path, head.Format)
		}
	}
	return nil, err
}

func zkClaimedModel(pf *prover.ProofFile) model.Digest {
	if pf.Inference != nil {
		return pf.Inference.Model
	}
	if pf.Accuracy != nil {
		return pf.Accuracy.Model
	}
	return model.Digest{}
}
