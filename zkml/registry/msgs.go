package registry

import (
	"crypto/sha256"
	"fmt"
	"strconv"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/model"
)

// Statement kinds; the same strings as zkml/prover's Kind, which this
// consensus package does not import (it pulls in the circuit compiler).
const (
	KindInference = "inference"
	KindAccuracy  = "accuracy"
)

// Limits on registry messages. The proof and key bounds are zkml's, so a
// verification inside a handler has a bounded cost.
const (
	MaxNameLen  = 128
	MaxGnarkLen = 64
	MaxSetupLen = 512
	// MaxLayers bounds an arch before model.Arch.Validate walks it.
	MaxLayers = 16
	// MaxRows bounds the test rows of an accuracy circuit or test set.
	MaxRows = 1 << 20
	// MaxInlineCells bounds an inline test set (rows x (inputs+1)): its hash
	// is recomputed in consensus and its rows are kept in state.
	MaxInlineCells = 1 << 18
	// MaxPieces bounds a test set made of pieces (one lookup per piece at
	// registration, one claim read per piece when the last is proven).
	MaxPieces = 64
)

// Extra fees in utnn, on top of the chain's MinFee (chain.Coster). MinFee
// (10 utnn) pays for a transfer, ~33 us of a validator's time (chain's
// BenchmarkApplyBlock10k: 30k transfers/s on 2 cores). The prices below
// keep roughly that rate.
const (
	// VerifyFee pays for one Groth16 verification inside submit-proof. The
	// handler (zkml.Verify: decode the key with subgroup checks and its
	// pairing, check the BSB22 commitment, a small MSM, three Miller loops
	// and a final exponentiation; then record) measured 2.5 ms of CPU per
	// call (TestVerificationCost), 40 to 80 transfers; priced at 100 for
	// headroom.
	VerifyFee = 1000
	// VerifyFeePerInputElem is added per packed field element an inference
	// input can take (at most 16 bits a value): each is one more key point to
	// decompress and one more MSM term, ~50 us together (measured on 260
	// points: 6.5 ms decompression, 7.3 ms single-task MSM).
	VerifyFeePerInputElem = 20
	// CircuitFee pays for decoding a verifying key at registration (a
	// pairing and subgroup checks, ~2 ms for a 624-byte key), plus
	// CircuitFeePerKiB for each KiB of points to decompress (32 G1 points,
	// ~0.8 ms) and keep in state.
	CircuitFee       = 500
	CircuitFeePerKiB = 400
	// TestSetFeePerKCells pays for hashing an inline test set in consensus
	// and keeping its rows in state, per 1,000 values (rounded up).
	TestSetFeePerKCells = 20
)

// Arch is a model architecture (zkml/model.Arch) with integer CBOR keys, so
// that the chain's encoding does not shift when the model package changes.
//
// With Conv set it is a CNN (zkml/model.ConvArch): InBits is the image's
// pixel width, Conv the convolution and pool in front, and Sizes, Shifts and
// BiasBits the dense head (whose inputs are always model.ActBits wide).
type Arch struct {
	Sizes    []uint32 `json:"sizes" cbor:"1,keyasint"`
	InBits   uint32   `json:"in_bits" cbor:"2,keyasint"`
	Shifts   []uint32 `json:"shifts" cbor:"3,keyasint"`
	BiasBits []uint32 `json:"bias_bits" cbor:"4,keyasint"`
	Conv     *Conv    `json:"conv,omitempty" cbor:"5,keyasint,omitempty"`
}

// Conv is the convolutional front of a CNN arch: a Kernel x Kernel
// convolution of a Height x Width image into Channels maps, requantized by
// Shift with biases of BiasBits, then a Pool x Pool max pool.
type Conv struct {
	Height   uint32 `json:"height" cbor:"1,keyasint"`
	Width    uint32 `json:"width" cbor:"2,keyasint"`
	Kernel   uint32 `json:"kernel" cbor:"3,keyasint"`
	Channels uint32 `json:"channels" cbor:"4,keyasint"`
	Shift    uint32 `json:"shift" cbor:"5,keyasint"`
	BiasBits uint32 `json:"bias_bits" cbor:"6,keyasint"`
	Pool     uint32 `json:"pool" cbor:"7,keyasint"`
}

// CNN bounds, checked before model.ConvArch.Validate or any circuit sees
// the arch: a CNN circuit costs about a constraint per kernel tap and
// output (MaxConvTaps bounds Channels x outputs x Kernel^2 per image; the
// digits CNN has 5,184).
const (
	MaxConvSide     = 64
	MaxConvChannels = 64
	MaxConvTaps     = 1 << 16
)

// IsConv reports whether the arch is a CNN.
func (a Arch) IsConv() bool { return a.Conv != nil }

// ConvArchOf converts a CNN arch.
func ConvArchOf(c model.ConvArch) (Arch, error) {
	if err := c.Validate(); err != nil {
		return Arch{}, err
	}
	head, err := ArchOf(c.Head)
	if err != nil {
		return Arch{}, err
	}
	head.InBits = uint32(c.InBits)
	head.Conv = &Conv{Height: uint32(c.Height), Width: uint32(c.Width), Kernel: uint32(c.Kernel), Channels: uint32(c.Channels),
		Shift: uint32(c.Shift), BiasBits: uint32(c.BiasBits), Pool: uint32(c.Pool)}
	return head, nil
}

// ConvModel returns a CNN arch as zkml/model uses it (meaningful only when
// IsConv; Validate checks the bounds first).
func (a Arch) ConvModel() model.ConvArch {
	c := a.Conv
	if c == nil {
		c = &Conv{}
	}
	head := a.mlp().Model()
	head.InBits = model.ActBits
	return model.ConvArch{Height: int(c.Height), Width: int(c.Width), InBits: int(a.InBits), Kernel: int(c.Kernel),
		Channels: int(c.Channels), Shift: int(c.Shift), BiasBits: int(c.BiasBits), Pool: int(c.Pool), Head: head}
}

// mlp is the arch without its convolutional front.
func (a Arch) mlp() Arch { a.Conv = nil; return a }

// InputArch is the input-and-label shape as an MLP arch: how inputs are
// packed for an inference claim and which test sets fit. For an MLP it is
// the arch itself.
func (a Arch) InputArch() model.Arch {
	if a.IsConv() {
		return a.ConvModel().InputArch()
	}
	return a.Model()
}

// ArchOf converts a model arch.
func ArchOf(a model.Arch) (Arch, error) {
	conv := func(v []int) ([]uint32, error) {
		out := make([]uint32, len(v))
		for i, x := range v {
			if x < 0 || x > 1<<20 {
				return nil, fmt.Errorf("arch %s: value %d out of range", a, x)
			}
			out[i] = uint32(x)
		}
		return out, nil
	}
	var r Arch
	var err error
	if r.Sizes, err = conv(a.Sizes); err != nil {
		return Arch{}, err
	}
	if r.Shifts, err = conv(a.Shifts); err != nil {
		return Arch{}, err
	}
	if r.BiasBits, err = conv(a.BiasBits); err != nil {
		return Arch{}, err
	}
	if a.InBits < 0 || a.InBits > model.MaxInBits {
		return Arch{}, fmt.Errorf("arch %s: in_bits %d out of range", a, a.InBits)
	}
	r.InBits = uint32(a.InBits)
	return r, nil
}

// Model returns an MLP arch as zkml/model uses it (for a CNN see ConvModel).
func (a Arch) Model() model.Arch {
	conv := func(v []uint32) []int {
		out := make([]int, len(v))
		for i, x := range v {
			out[i] = int(x)
		}
		return out
	}
	return model.Arch{Sizes: conv(a.Sizes), InBits: int(a.InBits), Shifts: conv(a.Shifts), BiasBits: conv(a.BiasBits)}
}

// Validate bounds the slices, then checks every bound the circuits rely on.
func (a Arch) Validate() error {
	if len(a.Sizes) > MaxLayers+1 || len(a.Shifts) > MaxLayers || len(a.BiasBits) > MaxLayers {
		return chain.Wrap(chain.ErrInvalidRequest, "arch: more than %d layers", MaxLayers)
	}
	if c := a.Conv; c != nil {
		// Bounded before any product is formed, so nothing below can
		// overflow and no circuit the chain compiles can be huge.
		switch {
		case c.Height > MaxConvSide || c.Width > MaxConvSide:
			return chain.Wrap(chain.ErrInvalidRequest, "cnn arch: image %dx%d is over %dx%d", c.Height, c.Width, MaxConvSide, MaxConvSide)
		case c.Channels > MaxConvChannels || c.Kernel > MaxConvSide || c.Pool > MaxConvSide || c.Shift > 64 || c.BiasBits > 64:
			return chain.Wrap(chain.ErrInvalidRequest, "cnn arch: %d channels, kernel %d, pool %d, shift %d, bias_bits %d out of range",
				c.Channels, c.Kernel, c.Pool, c.Shift, c.BiasBits)
		case c.Kernel > c.Height || c.Kernel > c.Width:
			return chain.Wrap(chain.ErrInvalidRequest, "cnn arch: kernel %d does not fit a %dx%d image", c.Kernel, c.Height, c.Width)
		case a.InBits > model.ActBits:
			return chain.Wrap(chain.ErrInvalidRequest, "cnn arch: in_bits %d over %d", a.InBits, model.ActBits)
		}
		if t := a.ConvTaps(); t > MaxConvTaps {
			return chain.Wrap(chain.ErrInvalidRequest, "cnn arch: %d kernel taps per image, at most %d", t, MaxConvTaps)
		}
		if err := a.ConvModel().Validate(); err != nil {
			return chain.Wrap(chain.ErrInvalidRequest, "%v", err)
		}
		return nil
	}
	if err := a.Model().Validate(); err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "%v", err)
	}
	return nil
}

// ConvTaps is the convolution's multiplications per image (0 for an MLP):
// Channels x output positions x Kernel^2. Call it on bounded sides only
// (Validate does).
func (a Arch) ConvTaps() uint64 {
	c := a.Conv
	if c == nil || c.Kernel > c.Height || c.Kernel > c.Width {
		return 0
	}
	k := uint64(c.Kernel)
	return uint64(c.Channels) * uint64(c.Height-c.Kernel+1) * uint64(c.Width-c.Kernel+1) * k * k
}

// NumWeights counts the weights of the arch (kernel taps and head).
func (a Arch) NumWeights() int {
	n := a.mlp().Model().NumWeights()
	if c := a.Conv; c != nil {
		n += int(c.Channels) * int(c.Kernel) * int(c.Kernel)
	}
	return n
}

// Equal reports whether two archs are the same circuit shape.
func (a Arch) Equal(b Arch) bool {
	eq := func(x, y []uint32) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if (a.Conv == nil) != (b.Conv == nil) || (a.Conv != nil && *a.Conv != *b.Conv) {
		return false
	}
	return eq(a.Sizes, b.Sizes) && a.InBits == b.InBits && eq(a.Shifts, b.Shifts) && eq(a.BiasBits, b.BiasBits)
}

// String is a short human form: "64-32-10/in4" for an MLP, and for a CNN
// the image, convolution and pool before the head, e.g.
// "cnn 8x8/in4 16x3x3>>7 pool2 144-32-10".
func (a Arch) String() string {
	c := a.Conv
	if c == nil {
		return a.Model().String()
	}
	head := ""
	for i, n := range a.Sizes {
		if i > 0 {
			head += "-"
		}
		head += strconv.FormatUint(uint64(n), 10)
	}
	return fmt.Sprintf("cnn %dx%d/in%d %dx%dx%d>>%d pool%d %s", c.Height, c.Width, a.InBits, c.Channels, c.Kernel, c.Kernel, c.Shift, c.Pool, head)
}

// Spec identifies a circuit: the statement, the model arch and, for
// accuracy, the number of test rows (zkml/prover.Spec on chain).
type Spec struct {
	Kind string `json:"kind" cbor:"1,keyasint"`
	Arch Arch   `json:"arch" cbor:"2,keyasint"`
	Rows uint32 `json:"rows,omitempty" cbor:"3,keyasint,omitempty"`
}

// Validate checks the kind, arch and rows.
func (s Spec) Validate() error {
	switch s.Kind {
	case KindInference:
		if s.Rows != 0 {
			return chain.Wrap(chain.ErrInvalidRequest, "an inference circuit takes no rows")
		}
	case KindAccuracy:
		if s.Rows < 1 || s.Rows > MaxRows {
			return chain.Wrap(chain.ErrInvalidRequest, "an accuracy circuit needs 1 to %d rows, got %d", MaxRows, s.Rows)
		}
	default:
		return chain.Wrap(chain.ErrInvalidRequest, "circuit kind %q: want %q or %q", s.Kind, KindInference, KindAccuracy)
	}
	return s.Arch.Validate()
}

// publicInputs is how many public inputs the spec's circuit takes
// (zkml/circuit: commitment, packed input, class; or commitment, test-set
// hash, N, K).
func (s Spec) publicInputs() int {
	if s.Kind == KindInference {
		return s.Arch.InputArch().NumInputElems() + 2
	}
	return 4
}

// Hash is chain.Hash: circuit ids and model commitments' hashes.
type Hash = chain.Hash

// CircuitID is the id a circuit is registered under: sha256 over the
// canonical encoding of its spec, then the verifying key. The spec is part
// of it so that nobody can take a key's id by registering the key under a
// spec it was not made for.
func CircuitID(spec Spec, verifyingKey []byte) Hash {
	h := sha256.New()
	h.Write(chain.Marshal(spec))
	h.Write(verifyingKey)
	var id Hash
	copy(id[:], h.Sum(nil))
	return id
}

// MsgRegisterCircuit registers a Groth16 verifying key (gnark's compressed
// BN254 format, as zkml/prover writes N.vk) for a circuit spec. The key is
// decoded with subgroup checks at registration, so a malformed key never
// enters state. Anyone may register; a claim names its circuit, and a claim
// is only as good as the setup behind that circuit's key (see Setup).
type MsgRegisterCircuit struct {
	Spec         Spec   `json:"spec" cbor:"1,keyasint"`
	VerifyingKey []byte `json:"verifying_key" cbor:"2,keyasint"`
	// Gnark is the gnark version that made the key (the manifest's "gnark").
	// It is recorded, not compared with the validators' gnark: a verdict
	// must not depend on the binary that replays the block.
	Gnark string `json:"gnark" cbor:"3,keyasint"`
	// Setup says how the key was made (the manifest's "setup"): a
	// single-party devnet setup or a ceremony, for readers to judge.
	Setup string `json:"setup,omitempty" cbor:"4,keyasint,omitempty"`
}

func (*MsgRegisterCircuit) Type() string { return "zkml/register-circuit" }
func (m *MsgRegisterCircuit) ValidateBasic() error {
	switch {
	case len(m.VerifyingKey) == 0 || len(m.VerifyingKey) > zkml.MaxVerifyingKeyBytes:
		return chain.Wrap(chain.ErrInvalidRequest, "verifying key of %d bytes: want 1 to %d", len(m.VerifyingKey), zkml.MaxVerifyingKeyBytes)
	case m.Gnark == "" || len(m.Gnark) > MaxGnarkLen:
		return chain.Wrap(chain.ErrInvalidRequest, "gnark version must be 1 to %d characters", MaxGnarkLen)
	case len(m.Setup) > MaxSetupLen:
		return chain.Wrap(chain.ErrInvalidRequest, "setup note is over %d characters", MaxSetupLen)
	}
	return m.Spec.Validate()
}

// ExtraFee covers decoding the key and keeping it in state.
func (m *MsgRegisterCircuit) ExtraFee() uint64 {
	return CircuitFee + CircuitFeePerKiB*uint64((len(m.VerifyingKey)+1023)/1024)
}

// MsgCommitModel publishes a model's commitment (zkml/model's Poseidon2
// sponge over the arch and the packed weights): the sender owns the record.
// The weights stay private; proofs about the model name the commitment.
type MsgCommitModel struct {
	Commitment model.Digest `json:"commitment" cbor:"1,keyasint"`
	Arch       Arch         `json:"arch" cbor:"2,keyasint"`
	Name       string       `json:"name" cbor:"3,keyasint"`
	// Source, when set, names the compute job the model came out of; the
	// chain checks the commitment against the job's verified output.
	Source *ModelSource `json:"source,omitempty" cbor:"4,keyasint,omitempty"`
}

func (*MsgCommitModel) Type() string { return "zkml/commit-model" }

// ExtraFee covers checking a source: hashing the archive, decoding the
// model and recomputing its commitment.
func (m *MsgCommitModel) ExtraFee() uint64 {
	if m.Source == nil {
		return 0
	}
	return ModelCommitFee + ArchiveFeePerKiB*uint64((len(m.Source.Archive)+1023)/1024)
}

func (m *MsgCommitModel) ValidateBasic() error {
	if m.Name == "" || len(m.Name) > MaxNameLen {
		return chain.Wrap(chain.ErrInvalidRequest, "name must be 1 to %d characters", MaxNameLen)
	}
	if m.Source != nil {
		// A compute job's output is a quantized MLP file (source.go); CNNs
		// have no model file format yet, so the chain could not check one.
		if m.Arch.IsConv() {
			return chain.Wrap(chain.ErrInvalidRequest, "a cnn model cannot name a compute job source: only MLP model files are checked")
		}
		if err := m.Source.validate(); err != nil {
			return err
		}
	}
	if _, err := m.Commitment.Element(); err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "commitment: %v", err)
	}
	return m.Arch.Validate()
}

// Shape is what a test-set hash depends on besides the rows: the model's
// input width and value range and its number of classes.
type Shape struct {
	Inputs  uint32 `json:"inputs" cbor:"1,keyasint"`
	InBits  uint32 `json:"in_bits" cbor:"2,keyasint"`
	Classes uint32 `json:"classes" cbor:"3,keyasint"`
}

// ShapeOf is the test-set shape of an arch (for a CNN: its pixels in,
// the head's classes out).
func ShapeOf(a Arch) Shape {
	in := a.Sizes[0]
	if c := a.Conv; c != nil {
		in = c.Height * c.Width
	}
	return Shape{Inputs: in, InBits: a.InBits, Classes: a.Sizes[len(a.Sizes)-1]}
}

func (s Shape) validate() error {
	switch {
	case s.Inputs < 1 || s.Inputs > model.MaxLayerSize:
		return chain.Wrap(chain.ErrInvalidRequest, "test set: %d inputs, want 1 to %d", s.Inputs, model.MaxLayerSize)
	case s.InBits < 1 || s.InBits > model.MaxInBits:
		return chain.Wrap(chain.ErrInvalidRequest, "test set: in_bits %d, want 1 to %d", s.InBits, model.MaxInBits)
	case s.Classes < 2 || s.Classes > model.MaxLayerSize:
		return chain.Wrap(chain.ErrInvalidRequest, "test set: %d classes, want 2 to %d", s.Classes, model.MaxLayerSize)
	}
	return nil
}

// hashArch is the part of an arch that model.Arch.TestSetHash reads.
func (s Shape) hashArch() model.Arch {
	return model.Arch{Sizes: []int{int(s.Inputs), int(s.Classes)}, InBits: int(s.InBits)}
}

// TestSetHash computes the Poseidon2 test-set hash of rows (inputs, then the
// label) the way accuracy circuits take it as a public input.
func (s Shape) TestSetHash(rows [][]uint32) (model.Digest, error) {
	ds := &model.Dataset{X: make([][]int, len(rows)), Y: make([]int, len(rows))}
	for r, row := range rows {
		if len(row) != int(s.Inputs)+1 {
			return model.Digest{}, chain.Wrap(chain.ErrInvalidRequest, "test row %d has %d values, want %d inputs and a label", r, len(row), s.Inputs)
		}
		x := make([]int, s.Inputs)
		for i := range x {
			x[i] = int(row[i])
		}
		ds.X[r], ds.Y[r] = x, int(row[s.Inputs])
		if ds.Y[r] >= int(s.Classes) {
			return model.Digest{}, chain.Wrap(chain.ErrInvalidRequest, "test row %d: label %d out of [0, %d)", r, ds.Y[r], s.Classes)
		}
	}
	d, err := s.hashArch().TestSetHash(ds)
	if err != nil {
		return model.Digest{}, chain.Wrap(chain.ErrInvalidRequest, "test set: %v", err)
	}
	return d, nil
}

// MsgRegisterTestSet publishes a test set that accuracy claims can name by
// its hash. Given inline (Rows), the chain recomputes the hash and refuses a
// mismatch, and keeps the rows in state for anyone to read. Given as a
// registered blob (CID, N), the hash is recorded as declared (the chain
// cannot read blobs in consensus) and marked unverified; an inline
// registration of the same hash later replaces it.
type MsgRegisterTestSet struct {
	Hash  model.Digest `json:"hash" cbor:"1,keyasint"`
	Shape Shape        `json:"shape" cbor:"2,keyasint"`
	Name  string       `json:"name" cbor:"3,keyasint"`
	// Rows are the test rows, each the inputs then the label.
	Rows [][]uint32 `json:"rows,omitempty" cbor:"4,keyasint,omitempty"`
	// CID names a registered blob holding the rows (CSV, one row a line:
	// inputs then label), with N its number of rows; only without Rows.
	CID string `json:"cid,omitempty" cbor:"5,keyasint,omitempty"`
	N   uint32 `json:"n,omitempty" cbor:"6,keyasint,omitempty"`
	// Pieces registers a test set made of pieces instead (see
	// TestSet.Pieces): the hashes of registered test sets of Shape, each
	// with the same number of rows; Hash is their model.PiecesRoot.
	Pieces []model.Digest `json:"pieces,omitempty" cbor:"7,keyasint,omitempty"`
}

func (*MsgRegisterTestSet) Type() string { return "zkml/register-testset" }
func (m *MsgRegisterTestSet) ValidateBasic() error {
	if m.Name == "" || len(m.Name) > MaxNameLen {
		return chain.Wrap(chain.ErrInvalidRequest, "name must be 1 to %d characters", MaxNameLen)
	}
	if _, err := m.Hash.Element(); err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "test set hash: %v", err)
	}
	if err := m.Shape.validate(); err != nil {
		return err
	}
	if len(m.Pieces) > 0 {
		if len(m.Rows) > 0 || m.CID != "" {
			return chain.Wrap(chain.ErrInvalidRequest, "give the pieces, the rows inline or a CID: only one")
		}
		if len(m.Pieces) < 2 || len(m.Pieces) > MaxPieces {
			return chain.Wrap(chain.ErrInvalidRequest, "a test set of pieces needs 2 to %d pieces, got %d", MaxPieces, len(m.Pieces))
		}
		// Each piece counts once in the total (quadratic, over at most
		// MaxPieces hashes).
		for i := range m.Pieces {
			for j := range i {
				if m.Pieces[i] == m.Pieces[j] {
					return chain.Wrap(chain.ErrInvalidRequest, "pieces %d and %d are the same test set %s", j, i, m.Pieces[i])
				}
			}
		}
		return nil
	}
	switch {
	case len(m.Rows) > 0 && m.CID != "":
		return chain.Wrap(chain.ErrInvalidRequest, "give the rows inline or a CID, not both")
	case len(m.Rows) > 0:
		if m.N != 0 && int(m.N) != len(m.Rows) {
			return chain.Wrap(chain.ErrInvalidRequest, "n is %d but %d rows are given", m.N, len(m.Rows))
		}
		if cells := uint64(len(m.Rows)) * (uint64(m.Shape.Inputs) + 1); cells > MaxInlineCells {
			return chain.Wrap(chain.ErrInvalidRequest, "inline test set of %d values is over %d; register it as a blob", cells, MaxInlineCells)
		}
		return nil
	case m.CID != "":
		if m.N < 1 || m.N > MaxRows {
			return chain.Wrap(chain.ErrInvalidRequest, "a test set by CID needs n, 1 to %d rows", MaxRows)
		}
		_, err := chain.ParseBlobCID(m.CID)
		return err
	}
	return chain.Wrap(chain.ErrInvalidRequest, "give the rows inline or the CID of a registered blob")
}

// ExtraFee covers hashing inline rows in consensus and keeping them.
func (m *MsgRegisterTestSet) ExtraFee() uint64 {
	cells := uint64(len(m.Rows))*(uint64(m.Shape.Inputs)+1) + uint64(len(m.Pieces))
	return TestSetFeePerKCells * ((cells + 999) / 1000)
}

// InferenceClaim states that the model maps Input to Class.
type InferenceClaim struct {
	Input []uint32 `json:"input" cbor:"1,keyasint"`
	Class uint32   `json:"class" cbor:"2,keyasint"`
}

// AccuracyClaim states that the model classifies at least K of the N rows
// of the test set with hash TestSet correctly.
type AccuracyClaim struct {
	TestSet model.Digest `json:"test_set" cbor:"1,keyasint"`
	N       uint32       `json:"n" cbor:"2,keyasint"`
	K       uint32       `json:"k" cbor:"3,keyasint"`
}

// MsgSubmitProof submits a Groth16 proof (gnark compressed) of a claim about
// a committed model under a registered circuit. The chain takes the model
// commitment from the model's record, lays out the public inputs from the
// claim, verifies the proof inside the handler and records the claim; a
// proof that does not verify changes nothing. Exactly one claim is given,
// of the circuit's kind.
type MsgSubmitProof struct {
	Circuit   Hash            `json:"circuit" cbor:"1,keyasint"`
	Model     uint64          `json:"model" cbor:"2,keyasint"`
	Inference *InferenceClaim `json:"inference,omitempty" cbor:"3,keyasint,omitempty"`
	Accuracy  *AccuracyClaim  `json:"accuracy,omitempty" cbor:"4,keyasint,omitempty"`
	Proof     []byte          `json:"proof" cbor:"5,keyasint"`
	// ComputeJob and Output, when given, say which compute job's output the
	// claim is about; the chain refuses them unless the model came out of
	// exactly that job and output.
	ComputeJob uint64 `json:"compute_job,omitempty" cbor:"6,keyasint,omitempty"`
	Output     string `json:"output,omitempty" cbor:"7,keyasint,omitempty"`
	// Set, with an accuracy claim, names a test set given as pieces of
	// which the claim's test set is one: the verified claim also counts as
	// that piece's proof, and the proof of the last missing piece records
	// the claim about the whole set. A piece whose statement is already
	// recorded counts as it stands (the proof is not verified again).
	Set model.Digest `json:"set,omitempty" cbor:"8,keyasint,omitempty"`
}

func (*MsgSubmitProof) Type() string { return "zkml/submit-proof" }
func (m *MsgSubmitProof) ValidateBasic() error {
	if len(m.Proof) == 0 || len(m.Proof) > zkml.MaxProofBytes {
		return chain.Wrap(chain.ErrInvalidRequest, "proof of %d bytes: want 1 to %d", len(m.Proof), zkml.MaxProofBytes)
	}
	switch {
	case (m.Inference == nil) == (m.Accuracy == nil):
		return chain.Wrap(chain.ErrInvalidRequest, "give exactly one claim: inference or accuracy")
	case m.Inference != nil:
		if n := len(m.Inference.Input); n == 0 || n > model.MaxLayerSize {
			return chain.Wrap(chain.ErrInvalidRequest, "input of %d values: want 1 to %d", n, model.MaxLayerSize)
		}
	default:
		a := m.Accuracy
		if a.N < 1 || a.N > MaxRows || a.K > a.N {
			return chain.Wrap(chain.ErrInvalidRequest, "accuracy claim %d of %d: want 0 <= k <= n, 1 <= n <= %d", a.K, a.N, MaxRows)
		}
		if _, err := a.TestSet.Element(); err != nil {
			return chain.Wrap(chain.ErrInvalidRequest, "test set hash: %v", err)
		}
	}
	if m.Set != (model.Digest{}) {
		if m.Accuracy == nil {
			return chain.Wrap(chain.ErrInvalidRequest, "a set of pieces takes accuracy claims only")
		}
		if _, err := m.Set.Element(); err != nil {
			return chain.Wrap(chain.ErrInvalidRequest, "set hash: %v", err)
		}
	}
	return nil
}

// ExtraFee covers the proof verification: the fixed pairing work and, for
// an inference claim, the public inputs its input packs into at most.
func (m *MsgSubmitProof) ExtraFee() uint64 {
	if m.Inference == nil {
		return VerifyFee
	}
	elems := (uint64(len(m.Inference.Input))*model.MaxInBits + model.PackBits - 1) / model.PackBits
	return VerifyFee + VerifyFeePerInputElem*elems
}
