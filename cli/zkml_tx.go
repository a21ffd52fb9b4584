package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/progress"
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
			m, err := zkLoadModel(args[0]) // recomputes the commitment from the weights
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
	var csvFile, rowRange, archFrom, tsName, pieceList string
	var asBlob bool
	var split int
	testset := &cobra.Command{
		Use:   "register-testset --csv FILE --arch-from MODEL.json|MANIFEST.json --name NAME [--split P] | --pieces HASH,HASH,... --name NAME",
		Short: "Register a public test set that accuracy claims name by its hash (inline: the chain recomputes the hash), or a test set made of pieces",
		Long: `Registers a public test set that accuracy claims name by its hash. Given inline the
chain recomputes the hash; rows too many to hash in consensus go up as a blob.

A test set made of pieces (2 to 64 registered test sets of one shape and size) is proven
piece by piece under one n-row accuracy circuit (tenun tx zkml submit-proof --set), and the
chain records one claim about the whole set when the last piece verifies:

  --split P   cuts the rows of --csv into P pieces of equal size, registers each piece
              (pieces already on chain are reused) and then the set: P+1 transactions
  --pieces    registers the set from pieces already registered, by their hashes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pieceList != "" {
				if csvFile != "" || split != 0 || rowRange != "" || asBlob {
					return fmt.Errorf("--pieces registers a set from registered test sets: give it without --csv, --rows, --split or --blob")
				}
				msg, err := piecesSetMsg(cmd.Context(), cmd.ErrOrStderr(), pieceList, archFrom, tsName)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "test set hash %s (%d pieces)\n", msg.Hash, len(msg.Pieces))
				return submit(cmd, &tf, msg)
			}
			if csvFile == "" || archFrom == "" {
				return fmt.Errorf("give --csv and --arch-from (the rows and the arch that fixes their hash), or --pieces HASH,HASH,... for a set of registered pieces")
			}
			if split != 0 {
				return registerSplit(cmd, &tf, csvFile, rowRange, archFrom, tsName, split, asBlob)
			}
			msg, err := testSetMsg(csvFile, rowRange, archFrom, tsName)
			if err != nil {
				return err
			}
			key, _, err := signer(tf.from)
			if err != nil {
				return err
			}
			if err := maybeBlob(cmd, key, msg, asBlob); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "test set hash %s (%d rows)\n", msg.Hash, max(len(msg.Rows), int(msg.N)))
			return submitAs(cmd, &tf, key, msg)
		},
	}
	addTxFlags(testset, &tf)
	testset.Flags().StringVar(&csvFile, "csv", "", "CSV of integer rows, inputs then label, optionally gzipped (required unless --pieces)")
	testset.Flags().StringVar(&rowRange, "rows", "", "rows FROM:TO of the file, 0-based, either end optional (digits test split: 1437:)")
	testset.Flags().StringVar(&archFrom, "arch-from", "", "model file or key manifest whose arch fixes the hash layout (required unless --pieces; with --pieces: also check the pieces' shape)")
	testset.Flags().StringVar(&tsName, "name", "", "name of the test set (default: the file name and rows)")
	testset.Flags().BoolVar(&asBlob, "blob", false, "upload the rows as a blob and register the hash as declared, even if they fit inline")
	testset.Flags().IntVar(&split, "split", 0, fmt.Sprintf("register the rows as a set of this many pieces of equal size (2 to %d), each piece a test set of its own", registry.MaxPieces))
	testset.Flags().StringVar(&pieceList, "pieces", "", "register a set made of these registered test sets (comma-separated hashes, in order; 2 to 64 of one shape and size)")

	var pf txFlags
	var modelID uint64
	var circuit, setHash string
	proof := &cobra.Command{
		Use:   "submit-proof PROOF.json --model ID --circuit MANIFEST.json|ID [--set HASH]",
		Short: "Submit a `tenun zk prove` proof of a claim about a committed model; the chain verifies it and records the claim",
		Long: `Submits a proof of a claim about a committed model; the chain verifies it and records the claim.

With --set, the proof is an accuracy proof of one piece of a test set made of pieces
(tenun tx zkml register-testset --split or --pieces): the chain records the piece's claim
and, when the last piece of the set is proven for the model under this circuit, one claim
about the whole set (tenun query zkml pieces MODEL SET shows how far it has got).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg, err := proofMsg(cmd.Context(), args[0], modelID, circuit)
			if err != nil {
				return err
			}
			if setHash != "" {
				if err := setPiece(cmd.Context(), msg, setHash, args[0]); err != nil {
					return err
				}
			}
			return submit(cmd, &pf, msg)
		},
	}
	addTxFlags(proof, &pf)
	proof.Flags().Uint64Var(&modelID, "model", 0, "id of the committed model the proof is about (required)")
	proof.Flags().StringVar(&circuit, "circuit", "", "the circuit's key manifest, or its registered id (required)")
	proof.Flags().StringVar(&setHash, "set", "", "hash of a test set made of pieces: the proof is an accuracy proof of one of its pieces")
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

// specOf is the chain's spec of a key manifest's spec. A CNN spec
// (cnn-inference, cnn-accuracy, with its conv arch) is the chain's
// inference or accuracy spec of an arch with Conv set.
func specOf(s prover.Spec) (registry.Spec, error) {
	if s.Rows < 0 || s.Rows > registry.MaxRows {
		return registry.Spec{}, fmt.Errorf("spec rows %d out of range", s.Rows)
	}
	kind := string(s.Kind)
	var arch registry.Arch
	var err error
	switch s.Kind {
	case prover.KindConvInference, prover.KindConvAccuracy:
		if s.Conv == nil {
			return registry.Spec{}, fmt.Errorf("a %s spec without its conv arch", s.Kind)
		}
		if arch, err = registry.ConvArchOf(*s.Conv); err != nil {
			return registry.Spec{}, fmt.Errorf("cnn arch: %w", err)
		}
		kind = registry.KindInference
		if s.Kind == prover.KindConvAccuracy {
			kind = registry.KindAccuracy
		}
	default:
		if arch, err = registry.ArchOf(s.Arch); err != nil {
			return registry.Spec{}, err
		}
	}
	return registry.Spec{Kind: kind, Arch: arch, Rows: uint32(s.Rows)}, nil
}

// proverSpecOf is the key manifest's spec of a chain spec: for a CNN arch
// the conv kinds with the conv arch (Arch.Model() is only the dense head's
// shape and would name another circuit).
func proverSpecOf(s registry.Spec) (prover.Spec, error) {
	if err := s.Validate(); err != nil {
		return prover.Spec{}, fmt.Errorf("spec %s %s: %w", s.Kind, s.Arch, err)
	}
	if !s.Arch.IsConv() {
		return prover.Spec{Kind: prover.Kind(s.Kind), Arch: s.Arch.Model(), Rows: int(s.Rows)}, nil
	}
	ca := s.Arch.ConvModel()
	kind := prover.KindConvInference
	if s.Kind == registry.KindAccuracy {
		kind = prover.KindConvAccuracy
	}
	return prover.Spec{Kind: kind, Conv: &ca, Rows: int(s.Rows)}, nil
}

// archFromFile reads the chain arch of a model file or of a key manifest
// (a CNN manifest gives a CNN arch; CNN model files have no format yet).
func archFromFile(path string) (registry.Arch, error) {
	if man, err := prover.ReadManifest(path); err == nil {
		spec, err := specOf(man.Spec)
		if err != nil {
			return registry.Arch{}, fmt.Errorf("manifest %s: %w", path, err)
		}
		return spec.Arch, nil
	}
	m, err := zkLoadModel(path)
	if err != nil {
		return registry.Arch{}, fmt.Errorf("%s is neither a key manifest nor a model file: %w", path, err)
	}
	a, err := registry.ArchOf(m.Arch)
	if err != nil {
		return registry.Arch{}, fmt.Errorf("model %s: %w", path, err)
	}
	return a, nil
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

// loadTestRows reads the arch that fixes the hash layout and rows
// FROM:TO of a CSV.
func loadTestRows(csvFile, rowRange, archFrom string) (registry.Arch, *model.Dataset, int, int, error) {
	arch, err := archFromFile(archFrom)
	if err != nil {
		return registry.Arch{}, nil, 0, 0, err
	}
	all, err := model.LoadCSV(csvFile)
	if err != nil {
		return registry.Arch{}, nil, 0, 0, err
	}
	from, to, err := parseRowRange(rowRange, all.Len())
	if err != nil {
		return registry.Arch{}, nil, 0, 0, err
	}
	ds, err := all.Slice(from, to)
	if err != nil {
		return registry.Arch{}, nil, 0, 0, fmt.Errorf("%s: %w", csvFile, err)
	}
	return arch, ds, from, to, nil
}

func testSetMsg(csvFile, rowRange, archFrom, name string) (*registry.MsgRegisterTestSet, error) {
	arch, ds, from, to, err := loadTestRows(csvFile, rowRange, archFrom)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = fmt.Sprintf("%s[%d:%d]", filepath.Base(csvFile), from, to)
	}
	msg, err := testSetMsgOf(arch, ds, name)
	if err != nil {
		return nil, fmt.Errorf("test set %s: %w", csvFile, err)
	}
	return msg, nil
}

// testSetMsgOf is the inline registration of ds, hashed as for arch (a
// CNN's test set as its input arch's).
func testSetMsgOf(arch registry.Arch, ds *model.Dataset, name string) (*registry.MsgRegisterTestSet, error) {
	hash, err := arch.InputArch().TestSetHash(ds)
	if err != nil {
		return nil, err
	}
	rows := make([][]uint32, ds.Len())
	for r, x := range ds.X {
		row := make([]uint32, 0, len(x)+1)
		for _, v := range x {
			row = append(row, uint32(v)) // TestSetHash checked the ranges
		}
		rows[r] = append(row, uint32(ds.Y[r]))
	}
	return &registry.MsgRegisterTestSet{Hash: hash, Shape: registry.ShapeOf(arch), Name: name, Rows: rows}, nil
}

// maybeBlob turns an inline registration too large to hash in consensus
// (or any, with asBlob) into one by blob: the rows are uploaded and the
// hash registered as declared.
func maybeBlob(cmd *cobra.Command, key ed25519.PrivKey, msg *registry.MsgRegisterTestSet, asBlob bool) error {
	cells := uint64(len(msg.Rows)) * (uint64(msg.Shape.Inputs) + 1)
	if !asBlob && cells <= registry.MaxInlineCells {
		return nil
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 90*time.Second)
	defer cancel()
	cid, err := newClient().RegisterBlob(ctx, key, rowsCSV(msg.Rows))
	if err != nil {
		return fmt.Errorf("upload test set %s as a blob: %w", msg.Hash, err)
	}
	msg.CID, msg.N, msg.Rows = cid, uint32(len(msg.Rows)), nil
	return nil
}

// registeredTestSet reads a registered test set; ok is false when the
// chain has none of that hash.
func registeredTestSet(ctx context.Context, h model.Digest) (registry.TestSet, bool, error) {
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var t registry.TestSet
	err := newClient().Query(qctx, "zkml", "testset/"+h.String(), nil, &t)
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("test set %s: %w", h, err)
	}
	return t, true, nil
}

// submitQuiet submits msg and keeps its output to itself: for commands
// that sign several transactions and print one summary.
func submitQuiet(cmd *cobra.Command, f *txFlags, key ed25519.PrivKey, msg chain.Msg) (api.TxResponse, error) {
	cmd.SetOut(io.Discard)
	defer cmd.SetOut(nil)
	return submitFor(cmd, f, key, msg)
}

type splitPiece struct {
	Hash   model.Digest `json:"hash"`
	Name   string       `json:"name"`
	Tx     string       `json:"tx,omitempty"`
	Reused bool         `json:"already_registered,omitempty"`
}

type splitResult struct {
	Set       model.Digest `json:"set"`
	Name      string       `json:"name"`
	Rows      int          `json:"rows"`
	PieceRows int          `json:"piece_rows"`
	Pieces    []splitPiece `json:"pieces"`
	Tx        string       `json:"tx,omitempty"`
	Height    int64        `json:"height,omitempty"`
	Reused    bool         `json:"already_registered,omitempty"`
}

// registerSplit cuts rows FROM:TO of csvFile into p pieces of equal size,
// registers each piece not yet on chain and then the set of them.
func registerSplit(cmd *cobra.Command, tf *txFlags, csvFile, rowRange, archFrom, name string, p int, asBlob bool) error {
	if p < 2 || p > registry.MaxPieces {
		return fmt.Errorf("--split %d: a test set of pieces has 2 to %d pieces", p, registry.MaxPieces)
	}
	if tf.dryRun || tf.noWait {
		return fmt.Errorf("--split registers the pieces before the set that names them: it cannot run with --dry-run or --no-wait (try one piece with --rows)")
	}
	arch, ds, from, to, err := loadTestRows(csvFile, rowRange, archFrom)
	if err != nil {
		return err
	}
	n := ds.Len()
	if n < p || n%p != 0 {
		return fmt.Errorf("%d rows (%s rows %d:%d) do not split into %d pieces of equal size: every piece of a set needs the same number of rows (trim with --rows)",
			n, filepath.Base(csvFile), from, to, p)
	}
	if name == "" {
		name = fmt.Sprintf("%s[%d:%d]", filepath.Base(csvFile), from, to)
	}
	size := n / p
	msgs := make([]*registry.MsgRegisterTestSet, p)
	res := splitResult{Name: name, Rows: n, PieceRows: size}
	pieces := make([]model.Digest, p)
	for i := range p {
		part, err := ds.Slice(i*size, (i+1)*size)
		if err != nil {
			return fmt.Errorf("piece %d: %w", i+1, err)
		}
		pname := fmt.Sprintf("%s piece %d/%d", name, i+1, p)
		if len(pname) > registry.MaxNameLen {
			return fmt.Errorf("--name %q: the pieces' names (%q) would be over %d characters", name, pname, registry.MaxNameLen)
		}
		if msgs[i], err = testSetMsgOf(arch, part, pname); err != nil {
			return fmt.Errorf("piece %d of %s: %w", i+1, csvFile, err)
		}
		pieces[i] = msgs[i].Hash
	}
	root, err := model.PiecesRoot(pieces)
	if err != nil {
		return fmt.Errorf("set of pieces: %w", err)
	}
	set := &registry.MsgRegisterTestSet{Hash: root, Shape: registry.ShapeOf(arch), Name: name, Pieces: pieces}
	if err := set.ValidateBasic(); err != nil {
		return fmt.Errorf("set of pieces: %w", err)
	}
	res.Set = root
	key, _, err := signer(tf.from)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "test set hash %s (%d pieces of %d rows)\n", root, p, size)
	bar := progress.New(cmd.ErrOrStderr(), int64(p+1), "register test set", "transactions")
	defer bar.Finish()
	for i, msg := range msgs {
		sp := splitPiece{Hash: msg.Hash, Name: msg.Name}
		_, ok, err := registeredTestSet(cmd.Context(), msg.Hash)
		if err != nil {
			return err
		}
		if ok {
			sp.Reused = true
		} else {
			if err := maybeBlob(cmd, key, msg, asBlob); err != nil {
				return fmt.Errorf("piece %d of %d: %w", i+1, p, err)
			}
			r, err := submitQuiet(cmd, tf, key, msg)
			if err != nil {
				return fmt.Errorf("register piece %d of %d (%s): %w", i+1, p, msg.Hash, err)
			}
			sp.Tx = r.Hash
		}
		res.Pieces = append(res.Pieces, sp)
		bar.Add(1)
	}
	if _, ok, err := registeredTestSet(cmd.Context(), root); err != nil {
		return err
	} else if ok {
		res.Reused = true
	} else {
		r, err := submitQuiet(cmd, tf, key, set)
		if err != nil {
			return fmt.Errorf("register the set %s of %d pieces: %w", root, p, err)
		}
		res.Tx, res.Height = r.Hash, r.Height
	}
	bar.Add(1)
	bar.Finish()
	return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
		state := "registered in block " + strconv.FormatInt(res.Height, 10)
		if res.Reused {
			state = "already registered"
		}
		fmt.Fprintf(w, "test set %s (%q): %d pieces of %d rows, %s\n", root, name, p, size, state)
		for i, sp := range res.Pieces {
			note := "tx " + sp.Tx
			if sp.Reused {
				note = "already registered"
			}
			fmt.Fprintf(w, "  piece %d %s  %s\n", i+1, sp.Hash, note)
		}
		fmt.Fprintf(w, "prove each piece under a %d-row accuracy circuit and submit it with --set %s\n", size, root)
	})
}

// piecesSetMsg builds the registration of a set made of registered test
// sets, checked against their records (a courtesy: the chain checks it).
func piecesSetMsg(ctx context.Context, progressTo io.Writer, list, archFrom, name string) (*registry.MsgRegisterTestSet, error) {
	var pieces []model.Digest
	for _, f := range strings.Split(list, ",") {
		d, err := model.ParseDigest(f)
		if err != nil {
			return nil, fmt.Errorf("--pieces: %q is not a test set hash: %w", strings.TrimSpace(f), err)
		}
		pieces = append(pieces, d)
	}
	if len(pieces) < 2 || len(pieces) > registry.MaxPieces {
		return nil, fmt.Errorf("--pieces: a test set of pieces has 2 to %d pieces, got %d", registry.MaxPieces, len(pieces))
	}
	var shape registry.Shape
	var n uint32
	bar := progress.New(progressTo, int64(len(pieces)), "read the pieces", "test sets")
	defer bar.Finish()
	for i, h := range pieces {
		t, ok, err := registeredTestSet(ctx, h)
		bar.Add(1)
		if err != nil {
			return nil, fmt.Errorf("piece %d: %w", i+1, err)
		}
		switch {
		case !ok:
			return nil, fmt.Errorf("piece %d: test set %s is not registered (register it first: tenun tx zkml register-testset --csv ...)", i+1, h)
		case len(t.Pieces) > 0:
			return nil, fmt.Errorf("piece %d: test set %s (%q) is itself made of pieces", i+1, h, t.Name)
		case i == 0:
			shape, n = t.Shape, t.N
		case t.Shape != shape:
			return nil, fmt.Errorf("piece %d (%s) has shape %+v, piece 1 %+v: the pieces of a set share one shape", i+1, h, t.Shape, shape)
		case t.N != n:
			return nil, fmt.Errorf("piece %d (%s) has %d rows, piece 1 has %d: the pieces of a set have the same number of rows", i+1, h, t.N, n)
		}
	}
	bar.Finish()
	if archFrom != "" {
		a, err := archFromFile(archFrom)
		if err != nil {
			return nil, err
		}
		if s := registry.ShapeOf(a); s != shape {
			return nil, fmt.Errorf("the pieces have shape %+v, %s's arch %s takes %+v", shape, archFrom, a, s)
		}
	}
	root, err := model.PiecesRoot(pieces)
	if err != nil {
		return nil, fmt.Errorf("--pieces: %w", err)
	}
	if name == "" {
		name = fmt.Sprintf("set of %d pieces of %d rows", len(pieces), n)
	}
	msg := &registry.MsgRegisterTestSet{Hash: root, Shape: shape, Name: name, Pieces: pieces}
	if err := msg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("set of pieces: %w", err)
	}
	return msg, nil
}

// setPiece names the set of pieces the proof's test set is a piece of.
func setPiece(ctx context.Context, msg *registry.MsgSubmitProof, set, path string) error {
	h, err := model.ParseDigest(set)
	if err != nil {
		return fmt.Errorf("--set %q: %w", set, err)
	}
	if msg.Accuracy == nil {
		return fmt.Errorf("--set: proof %s is an inference proof; a set of pieces takes accuracy proofs of its pieces", path)
	}
	t, ok, err := registeredTestSet(ctx, h)
	if err != nil {
		return fmt.Errorf("--set: %w", err)
	}
	if !ok {
		return fmt.Errorf("--set: test set %s is not registered", h)
	}
	if len(t.Pieces) == 0 {
		return fmt.Errorf("--set: test set %s (%q) is not made of pieces; submit its proof without --set", h, t.Name)
	}
	for _, p := range t.Pieces {
		if p == msg.Accuracy.TestSet {
			msg.Set = h
			return nil
		}
	}
	return fmt.Errorf("proof %s is about test set %s, which is not one of the %d pieces of set %s (%q)", path, msg.Accuracy.TestSet, len(t.Pieces), h, t.Name)
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
	cmd.AddCommand(&cobra.Command{
		Use:     "pieces MODEL SET",
		Short:   "A model's progress over a test set made of pieces: the claim proving each piece, per circuit, and the claim about the whole set",
		Example: "  tenun query zkml pieces 1 1F0C...9A\n  tenun query zkml pieces 1 1F0C...9A -o json",
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return queryPieces(cmd, args[0], args[1]) },
	})
	return cmd
}

type piecesCircuit struct {
	Circuit registry.Hash `json:"circuit"`
	Proven  int           `json:"proven"`
	// Parts is the claim seq proving each piece, 0 while missing.
	Parts []uint64 `json:"parts"`
	// Claim is the seq of the claim about the whole set, once recorded.
	Claim       uint64                  `json:"claim,omitempty"`
	Accuracy    *registry.AccuracyClaim `json:"accuracy,omitempty"`
	AccuracyBps *uint32                 `json:"accuracy_bps,omitempty"`
}

type piecesView struct {
	Model     uint64          `json:"model"`
	Set       model.Digest    `json:"set"`
	Name      string          `json:"name"`
	Rows      uint32          `json:"rows"`
	Pieces    []model.Digest  `json:"pieces"`
	PieceRows uint32          `json:"piece_rows"`
	Circuits  []piecesCircuit `json:"circuits"`
}

// queryPieces shows pieces/<model>/<set> with the set's record and, once
// a circuit has proven every piece, the whole-set claim.
func queryPieces(cmd *cobra.Command, modelArg, setArg string) error {
	id, err := strconv.ParseUint(modelArg, 10, 64)
	if err != nil {
		return fmt.Errorf("model id %q: want a number", modelArg)
	}
	set, err := model.ParseDigest(setArg)
	if err != nil {
		return fmt.Errorf("test set hash %q: %w", setArg, err)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	c := newClient()
	var t registry.TestSet
	if err := c.Query(ctx, "zkml", "testset/"+set.String(), nil, &t); err != nil {
		return fmt.Errorf("test set %s: %w", set, err)
	}
	if len(t.Pieces) == 0 {
		return fmt.Errorf("test set %s (%q) is not made of pieces: its claims are in tenun query zkml claims %d", set, t.Name, id)
	}
	var prog []registry.PieceProgress
	if err := c.Query(ctx, "zkml", "pieces/"+strconv.FormatUint(id, 10)+"/"+set.String(), nil, &prog); err != nil {
		return fmt.Errorf("pieces of %s for model %d: %w", set, id, err)
	}
	v := piecesView{Model: id, Set: set, Name: t.Name, Rows: t.N, Pieces: t.Pieces, PieceRows: t.N / uint32(len(t.Pieces)), Circuits: []piecesCircuit{}}
	var claims []registry.Claim
	for _, p := range prog {
		pc := piecesCircuit{Circuit: p.Circuit, Parts: p.Parts, Claim: p.Claim}
		for _, s := range p.Parts {
			if s != 0 {
				pc.Proven++
			}
		}
		if p.Claim != 0 {
			if claims == nil {
				if err := c.Query(ctx, "zkml", "claims/"+strconv.FormatUint(id, 10), nil, &claims); err != nil {
					return fmt.Errorf("claims of model %d: %w", id, err)
				}
			}
			for _, cl := range claims {
				if cl.Seq == p.Claim {
					pc.Accuracy, pc.AccuracyBps = cl.Accuracy, cl.AccuracyBps
				}
			}
		}
		v.Circuits = append(v.Circuits, pc)
	}
	return emit(cmd.OutOrStdout(), v, func(w io.Writer) {
		fmt.Fprintf(w, "test set %s (%q): %d pieces of %d rows\n", set, t.Name, len(t.Pieces), v.PieceRows)
		if len(v.Circuits) == 0 {
			fmt.Fprintf(w, "model %d: no piece proven yet (tenun tx zkml submit-proof PIECE.proof.json --model %d --circuit ID --set %s)\n", id, id, set)
		}
		for _, pc := range v.Circuits {
			fmt.Fprintf(w, "model %d under circuit %s: %d of %d pieces proven\n", id, pc.Circuit, pc.Proven, len(pc.Parts))
			for i, s := range pc.Parts {
				state := "missing"
				if s != 0 {
					state = "claim " + strconv.FormatUint(s, 10)
				}
				fmt.Fprintf(w, "  piece %d %s  %s\n", i+1, t.Pieces[i], state)
			}
			if pc.Claim != 0 {
				line := fmt.Sprintf("  whole set: claim %d", pc.Claim)
				if a := pc.Accuracy; a != nil {
					line += fmt.Sprintf(", at least %d of %d rows right", a.K, a.N)
					if pc.AccuracyBps != nil {
						line += fmt.Sprintf(" (%.2f%%)", float64(*pc.AccuracyBps)/100)
					}
				}
				fmt.Fprintln(w, line)
			}
		}
	})
}
