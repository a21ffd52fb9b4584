package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// The chain side of zkml: these commands read the files `tenun zk` writes
// (zkml/prover's key manifests N.json with N.vk, proof files, and
// tenun-zkml-mlp/v1 model files) and submit them as zkml registry messages.

func init() {
	txCmd.AddCommand(newZkmlTxCmd())
	queryCmd.AddCommand(newZkmlQueryCmd())
}

func newZkmlTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "zkml", Short: "zkML registry transactions: circuits, model commitments, test sets, proofs"}

	var rf txFlags
	register := &cobra.Command{
		Use:   "register-circuit MANIFEST.json",
		Short: "Register the verifying key of a circuit from a `tenun zk setup` manifest (the key file beside it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg, err := circuitMsg(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "circuit id %s\n", registry.CircuitID(msg.Spec, msg.VerifyingKey))
			return submit(cmd, &rf, msg)
		},
	}
	addTxFlags(register, &rf)

	var cf txFlags
	var name string
	commit := &cobra.Command{
		Use:   "commit-model MODEL.json",
		Short: "Publish a model's commitment and arch (the weights stay local); the sender owns the record",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := model.Load(args[0]) // recomputes the commitment from the weights
			if err != nil {
				return err
			}
			arch, err := registry.ArchOf(m.Arch)
			if err != nil {
				return err
			}
			n := name
			if n == "" {
				n = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
			}
			return submit(cmd, &cf, &registry.MsgCommitModel{Commitment: *m.Commitment, Arch: arch, Name: n})
		},
	}
	addTxFlags(commit, &cf)
	commit.Flags().StringVar(&name, "name", "", "name of the model (default: the file name)")

	var tf txFlags
	var csvFile, rowRange, archFrom, tsName string
	var asBlob bool
	testset := &cobra.Command{
		Use:   "register-testset --csv FILE --arch-from MODEL.json|MANIFEST.json --name NAME",
		Short: "Register a public test set that accuracy claims name by its hash (inline: the chain recomputes the hash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msg, err := testSetMsg(csvFile, rowRange, archFrom, tsName)
			if err != nil {
				return err
			}
			cells := uint64(len(msg.Rows)) * (uint64(msg.Shape.Inputs) + 1)
			if asBlob || cells > registry.MaxInlineCells {
				// Too large to hash in consensus: upload the rows as a blob
				// and register the hash as declared.
				key, _, err := signer(tf.from)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 90*time.Second)
				defer cancel()
				cid, err := newClient().RegisterBlob(ctx, key, rowsCSV(msg.Rows))
				if err != nil {
					return err
				}
				msg.CID, msg.N, msg.Rows = cid, uint32(len(msg.Rows)), nil
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "test set hash %s (%d rows)\n", msg.Hash, max(len(msg.Rows), int(msg.N)))
			return submit(cmd, &tf, msg)
		},
	}
	addTxFlags(testset, &tf)
	testset.Flags().StringVar(&csvFile, "csv", "", "CSV of integer rows, inputs then label, optionally gzipped (required)")
	testset.Flags().StringVar(&rowRange, "rows", "", "rows FROM:TO of the file, 0-based, either end optional (digits test split: 1437:)")
	testset.Flags().StringVar(&archFrom, "arch-from", "", "model file or key manifest whose arch fixes the hash layout (required)")
	testset.Flags().StringVar(&tsName, "name", "", "name of the test set (default: the file name and rows)")
	testset.Flags().BoolVar(&asBlob, "blob", false, "upload the rows as a blob and register the hash as declared, even if they fit inline")
	testset.MarkFlagRequired("csv")
	testset.MarkFlagRequired("arch-from")

	var pf txFlags
	var modelID uint64
	var circuit string
	proof := &cobra.Command{
		Use:   "submit-proof PROOF.json --model ID --circuit MANIFEST.json|ID",
		Short: "Submit a `tenun zk prove` proof of a claim about a committed model; the chain verifies it and records the claim",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg, err := proofMsg(cmd.Context(), args[0], modelID, circuit)
			if err != nil {
				return err
			}
			return submit(cmd, &pf, msg)
		},
	}
	addTxFlags(proof, &pf)
	proof.Flags().Uint64Var(&modelID, "model", 0, "id of the committed model the proof is about (required)")
	proof.Flags().StringVar(&circuit, "circuit", "", "the circuit's key manifest, or its registered id (required)")
	proof.MarkFlagRequired("model")
	proof.MarkFlagRequired("circuit")

	cmd.AddCommand(register, commit, testset, proof)
	return cmd
}

// circuitMsg reads a key manifest and its verifying key (hash-checked, and
// refused if made with another gnark than this binary's).
func circuitMsg(manifest string) (*registry.MsgRegisterCircuit, error) {
	man, err := prover.ReadManifest(manifest)
	if err != nil {
		return nil, err
	}
	if man.VK.File == "" {
		return nil, fmt.Errorf("manifest %s has no verifying key: run `tenun zk setup` first", manifest)
	}
	vk, man, err := prover.LoadVerifyingKey(manifest)
	if err != nil {
		return nil, err
	}
	spec, err := specOf(man.Spec)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", manifest, err)
	}
	setup := man.Setup
	if len(setup) > registry.MaxSetupLen {
		setup = setup[:registry.MaxSetupLen]
	}
	return &registry.MsgRegisterCircuit{Spec: spec, VerifyingKey: vk, Gnark: man.Gnark, Setup: setup}, nil
}

func specOf(s prover.Spec) (registry.Spec, error) {
	arch, err := registry.ArchOf(s.Arch)
	if err != nil {
		return registry.Spec{}, err
	}
	if s.Rows < 0 || s.Rows > registry.MaxRows {
		return registry.Spec{}, fmt.Errorf("spec rows %d out of range", s.Rows)
	}
	return registry.Spec{Kind: string(s.Kind), Arch: arch, Rows: uint32(s.Rows)}, nil
}

// archFromFile reads the arch of a model file or of a key manifest.
func archFromFile(path string) (model.Arch, error) {
	if man, err := prover.ReadManifest(path); err == nil {
		return man.Spec.Arch, nil
	}
	m, err := model.Load(path)
	if err != nil {
		return model.Arch{}, fmt.Errorf("%s is neither a key manifest nor a model file: %w", path, err)
	}
	return m.Arch, nil
}

// parseRowRange reads "FROM:TO" (either end optional) against n rows.
func parseRowRange(s string, n int) (int, int, error) {
	if s == "" {
		return 0, n, nil
	}
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("rows %q: want FROM:TO", s)
	}
	from, to := 0, n
	var err error
	if a != "" {
		if from, err = strconv.Atoi(a); err != nil {
			return 0, 0, fmt.Errorf("rows %q: want FROM:TO, 0-based row numbers, either end optional (e.g. 1437:)", s)
		}
	}
	if b != "" {
		if to, err = strconv.Atoi(b); err != nil {
			return 0, 0, fmt.Errorf("rows %q: want FROM:TO, 0-based row numbers, either end optional (e.g. 1437:)", s)
		}
	}
	return from, to, nil
}

func testSetMsg(csvFile, rowRange, archFrom, name string) (*registry.MsgRegisterTestSet, error) {
	arch, err := archFromFile(archFrom)
	if err != nil {
		return nil, err
	}
	regArch, err := registry.ArchOf(arch)
	if err != nil {
		return nil, err
	}
	all, err := model.LoadCSV(csvFile)
	if err != nil {
		return nil, err
	}
	from, to, err := parseRowRange(rowRange, all.Len())
	if err != nil {
		return nil, err
	}
	ds, err := all.Slice(from, to)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", csvFile, err)
	}
	hash, err := arch.TestSetHash(ds)
	if err != nil {
		return nil, fmt.Errorf("test set %s: %w", csvFile, err)
	}
	rows := make([][]uint32, ds.Len())
	for r, x := range ds.X {
		row := make([]uint32, 0, len(x)+1)
		for _, v := range x {
			row = append(row, uint32(v)) // TestSetHash checked the ranges
		}
		rows[r] = append(row, uint32(ds.Y[r]))
	}
	if name == "" {
		name = fmt.Sprintf("%s[%d:%d]", filepath.Base(csvFile), from, to)
	}
	return &registry.MsgRegisterTestSet{Hash: hash, Shape: registry.ShapeOf(regArch), Name: name, Rows: rows}, nil
}

// rowsCSV is the blob form of a test set: one line a row, inputs then label.
func rowsCSV(rows [][]uint32) []byte {
	var b bytes.Buffer
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// proofMsg reads a proof file, checks it against the model's on-chain
// record, and builds the message. The checks are a courtesy (the chain
// verifies everything itself): they turn a certain rejection into a clear
// local error that costs no fee.
func proofMsg(ctx context.Context, path string, modelID uint64, circuit string) (*registry.MsgSubmitProof, error) {
	p, err := prover.LoadProofFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := p.PublicElements(); err != nil {
		return nil, fmt.Errorf("proof %s: %w", path, err)
	}
	id, err := chain.ParseHash(circuit)
	if err != nil {
		msg, merr := circuitMsg(circuit)
		if merr != nil {
			return nil, fmt.Errorf("--circuit %q is neither a circuit id nor a key manifest: %w", circuit, merr)
		}
		id = registry.CircuitID(msg.Spec, msg.VerifyingKey)
	}
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rec registry.Model
	if err := newClient().Query(qctx, "zkml", "model/"+strconv.FormatUint(modelID, 10), nil, &rec); err != nil {
		return nil, fmt.Errorf("model %d: %w", modelID, err)
	}
	msg := &registry.MsgSubmitProof{Circuit: id, Model: modelID, Proof: p.Proof}
	var claimed model.Digest
	switch {
	case p.Kind == prover.KindInference && p.Inference != nil:
		in := make([]uint32, len(p.Inference.Input))
		for i, v := range p.Inference.Input {
			if v < 0 || v >= 1<<model.MaxInBits {
				return nil, fmt.Errorf("proof %s: input %d = %d out of range", path, i, v)
			}
			in[i] = uint32(v)
		}
		msg.Inference = &registry.InferenceClaim{Input: in, Class: uint32(p.Inference.Class)}
		claimed = p.Inference.Model
	case p.Kind == prover.KindAccuracy && p.Accuracy != nil:
		a := p.Accuracy
		if a.N < 1 || a.N > registry.MaxRows || a.K < 0 || a.K > a.N {
			return nil, fmt.Errorf("proof %s: accuracy %d of %d is not a count", path, a.K, a.N)
		}
		msg.Accuracy = &registry.AccuracyClaim{TestSet: a.TestSet, N: uint32(a.N), K: uint32(a.K)}
		claimed = a.Model
	default:
		return nil, fmt.Errorf("proof %s: kind %q without its claim", path, p.Kind)
	}
	if claimed != rec.Commitment {
		return nil, fmt.Errorf("proof %s is about the model with commitment %s; model %d on chain is %s", path, claimed, modelID, rec.Commitment)
	}
	return msg, nil
}

func newZkmlQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "zkml", Short: "zkML registry state: models, verified claims, circuits, test sets"}
	for _, q := range []struct{ use, short, path string }{
		{"model ID", "A committed model", "model/"},
		{"claims ID", "The verified claims about a model (accuracy as k of n and in basis points)", "claims/"},
		{"circuit ID", "A registered circuit: spec, verifying key, who registered it, its setup", "circuit/"},
		{"testset HASH", "A registered test set (with its rows when given inline)", "testset/"},
		{"ceremony ID", "A setup ceremony: phase, deadline, contributors, sealed circuit", "ceremony/"},
	} {
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return queryJSON(cmd, "zkml", q.path+args[0], nil) }})
	}
	for _, q := range []struct{ use, short string }{
		{"models", "All committed models"},
		{"circuits", "All registered circuits (trust: single-party devnet key or ceremony)"},
		{"ceremonies", "All setup ceremonies"},
	} {
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return queryJSON(cmd, "zkml", q.use, nil) }})
	}
	return cmd
}
