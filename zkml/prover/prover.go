// Package prover compiles the zkml circuits, runs the Groth16 setup, writes
// and reads key files, and proves. Verification is in package zkml.
//
// # Keys and the ceremony
//
// Setup here is gnark's single-party groth16.Setup: whoever runs it knows the
// toxic waste and could forge proofs, so it is for devnets and tests only.
// For a public network run gnark's multi-party ceremony
// (github.com/consensys/gnark/backend/groth16/bn254/mpcsetup): phase 1
// (powers of tau, circuit independent: NewPhase1, Contribute, Verify, Seal)
// then phase 2 for each compiled circuit (InitializePhase2 / Phase2.Initialize
// with the .ccs written here, Contribute, Verify, Seal), which outputs the
// same ProvingKey/VerifyingKey types this package saves. Key files are
// independent of how they were produced; the manifest records which path
// was used.
//
// # Files
//
// SaveKeys writes, for a name N in a directory:
//
//	N.ccs   the compiled constraint system (gnark binary)
//	N.pk    the proving key (gnark raw, uncompressed: fast to load; trusted local file)
//	N.vk    the verifying key (gnark compressed: what a chain registers)
//	N.json  the manifest: spec, gnark version, sizes, SHA-256 of each file
package prover

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/consensys/gnark"
	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
)

// Kind names a statement.
type Kind string

// The two statements.
const (
	KindInference Kind = "inference"
	KindAccuracy  Kind = "accuracy"
	// KindConvInference is inference of a CNN (Spec.Conv; Spec.Arch unused).
	KindConvInference Kind = "cnn-inference"
	// KindConvAccuracy is accuracy of a CNN over Rows test rows (Spec.Conv).
	KindConvAccuracy Kind = "cnn-accuracy"
)

// Spec identifies a circuit: the statement, the model arch and, for accuracy,
// the number of test rows. One set of keys serves every model of the arch.
// An accuracy spec may embed its test set (TestSet): the circuit then only
// accepts that test set, and proves about twice as fast (see
// circuit.Accuracy).
type Spec struct {
	Kind    Kind           `json:"kind"`
	Arch    model.Arch     `json:"arch"`
	Rows    int            `json:"rows,omitempty"`
	TestSet *model.Dataset `json:"test_set,omitempty"`
	// Conv is the CNN arch of a KindConvInference or KindConvAccuracy spec.
	Conv *model.ConvArch `json:"conv,omitempty"`
}

// Circuit returns the (unassigned) circuit of the spec.
func (s Spec) Circuit() (frontend.Circuit, error) {
	switch s.Kind {
	case KindInference:
		if s.Rows != 0 {
			return nil, errors.New("spec: inference takes no rows")
		}
		return circuit.NewInference(s.Arch)
	case KindAccuracy:
		if s.TestSet != nil {
			if s.TestSet.Len() != s.Rows {
				return nil, fmt.Errorf("spec: embedded test set has %d rows, spec says %d", s.TestSet.Len(), s.Rows)
			}
			return circuit.NewFixedAccuracy(s.Arch, s.TestSet)
		}
		return circuit.NewAccuracy(s.Arch, s.Rows)
	case KindConvInference:
		if s.Conv == nil || s.Rows != 0 {
			return nil, errors.New("spec: cnn inference needs a conv arch and takes no rows")
		}
		return circuit.NewConvInference(*s.Conv)
	case KindConvAccuracy:
		if s.Conv == nil || s.Rows < 1 || s.TestSet != nil {
			return nil, errors.New("spec: cnn accuracy needs a conv arch and rows, and embeds no test set")
		}
		return circuit.NewConvAccuracy(*s.Conv, s.Rows)
	default:
		return nil, fmt.Errorf("spec: unknown kind %q (want %q, %q, %q or %q)", s.Kind, KindInference, KindAccuracy, KindConvInference, KindConvAccuracy)
	}
}

// Compile compiles the spec's circuit to R1CS over BN254.
func Compile(s Spec) (constraint.ConstraintSystem, error) {
	c, err := s.Circuit()
	if err != nil {
		return nil, err
	}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		return nil, fmt.Errorf("compile %s %s: %w", s.Kind, s.Arch, err)
	}
	return ccs, nil
}

// Keys is everything needed to prove (and verify) for one spec.
type Keys struct {
	Spec Spec
	CCS  constraint.ConstraintSystem
	PK   groth16.ProvingKey
	VK   groth16.VerifyingKey
}

// Setup runs gnark's single-party Groth16 setup (devnets only; see the
// package documentation for the ceremony).
func Setup(s Spec, ccs constraint.ConstraintSystem) (*Keys, error) {
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		return nil, fmt.Errorf("groth16 setup: %w", err)
	}
	return &Keys{Spec: s, CCS: ccs, PK: pk, VK: vk}, nil
}

// VerifyingKeyBytes is the verifying key in gnark's compressed format.
func (k *Keys) VerifyingKeyBytes() ([]byte, error) {
	return encode(k.VK)
}

// Prove solves the circuit for the assignment and returns the proof in
// gnark's compressed format with the public inputs it proves.
func (k *Keys) Prove(assignment frontend.Circuit) ([]byte, []fr.Element, error) {
	w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, nil, fmt.Errorf("witness: %w", err)
	}
	proof, err := groth16.Prove(k.CCS, k.PK, w)
	if err != nil {
		return nil, nil, fmt.Errorf("prove: %w", err)
	}
	pw, err := w.Public()
	if err != nil {
		return nil, nil, fmt.Errorf("public witness: %w", err)
	}
	vec, ok := pw.Vector().(fr.Vector)
	if !ok {
		return nil, nil, errors.New("public witness is not a BN254 vector")
	}
	b, err := encode(proof)
	if err != nil {
		return nil, nil, err
	}
	return b, []fr.Element(vec), nil
}

func encode(w io.WriterTo) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

// ManifestFormat is the "format" of key manifests.
const ManifestFormat = "tenun-zkml-keys/v1"

// SetupSingleParty describes keys made by Setup.
const SetupSingleParty = "single-party groth16.Setup (devnet only: the party that ran it can forge proofs); use gnark backend/groth16/bn254/mpcsetup for a real ceremony"

// FileInfo records one key file.
type FileInfo struct {
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Manifest describes a set of key files; it is written beside them.
type Manifest struct {
	Format       string    `json:"format"`
	Spec         Spec      `json:"spec"`
	Curve        string    `json:"curve"`
	Backend      string    `json:"backend"`
	Gnark        string    `json:"gnark"`
	GnarkCrypto  string    `json:"gnark_crypto"`
	Constraints  int       `json:"constraints"`
	PublicInputs int       `json:"public_inputs"`
	Setup        string    `json:"setup,omitempty"`
	Created      time.Time `json:"created"`
	CCS          FileInfo  `json:"ccs"`
	PK           FileInfo  `json:"pk,omitzero"`
	VK           FileInfo  `json:"vk,omitzero"`
}

// Versions returns the gnark and gnark-crypto module versions linked in.
func Versions() (gnarkVersion, gnarkCryptoVersion string) {
	gnarkVersion, gnarkCryptoVersion = "v"+gnark.Version.String(), "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/consensys/gnark-crypto" {
				gnarkCryptoVersion = d.Version
			}
		}
	}
	return gnarkVersion, gnarkCryptoVersion
}

// SaveCompiled writes name.ccs and a manifest without keys (the output of
// `tenun zk compile`; `tenun zk setup` completes it).
func SaveCompiled(dir, name string, spec Spec, ccs constraint.ConstraintSystem) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("key dir: %w", err)
	}
	m := newManifest(spec, ccs)
	var err error
	if m.CCS, err = writeFile(dir, name+".ccs", ccs.WriteTo); err != nil {
		return nil, err
	}
	return m, writeManifest(filepath.Join(dir, name+".json"), m)
}

// SaveKeys writes name.ccs, name.pk, name.vk and name.json into dir.
func SaveKeys(dir, name string, k *Keys, setup string) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("key dir: %w", err)
	}
	m := newManifest(k.Spec, k.CCS)
	m.Setup = setup
	var err error
	if m.CCS, err = writeFile(dir, name+".ccs", k.CCS.WriteTo); err != nil {
		return nil, err
	}
	if m.PK, err = writeFile(dir, name+".pk", k.PK.WriteRawTo); err != nil {
		return nil, err
	}
	if m.VK, err = writeFile(dir, name+".vk", k.VK.WriteTo); err != nil {
		return nil, err
	}
	return m, writeManifest(filepath.Join(dir, name+".json"), m)
}

func newManifest(spec Spec, ccs constraint.ConstraintSystem) *Manifest {
	gv, gcv := Versions()
	return &Manifest{
		Format: ManifestFormat, Spec: spec, Curve: "bn254", Backend: "groth16",
		Gnark: gv, GnarkCrypto: gcv,
		Constraints:  ccs.GetNbConstraints(),
		PublicInputs: ccs.GetNbPublicVariables() - 1, // minus the constant-one wire
		Created:      time.Now().UTC().Truncate(time.Second),
	}
}

func writeManifest(path string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

func writeFile(dir, name string, write func(io.Writer) (int64, error)) (FileInfo, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return FileInfo{}, fmt.Errorf("create %s: %w", name, err)
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("write %s: %w", name, err)
	}
	return FileInfo{File: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ReadManifest reads a manifest and checks its format and gnark version.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("manifest %s: format %q, want %q", path, m.Format, ManifestFormat)
	}
	if gv, _ := Versions(); m.Gnark != gv {
		return nil, fmt.Errorf("manifest %s: keys made with gnark %s, this binary has %s; serialized formats may differ", path, m.Gnark, gv)
	}
	return &m, nil
}

// readChecked reads a key file named in a manifest and checks its hash.
func readChecked(dir string, fi FileInfo) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, fi.File))
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != fi.SHA256 {
		return nil, fmt.Errorf("key file %s: SHA-256 does not match the manifest", fi.File)
	}
	return b, nil
}

// LoadVerifyingKey returns the compressed verifying key bytes named by a
// manifest, checked against its hash.
func LoadVerifyingKey(manifestPath string) ([]byte, *Manifest, error) {
	m, err := ReadManifest(manifestPath)
	if err != nil {
		return nil, nil, err
	}
	if m.VK.File == "" {
		return nil, nil, fmt.Errorf("%s: no verifying key yet; run setup", manifestPath)
	}
	b, err := readChecked(filepath.Dir(manifestPath), m.VK)
	return b, m, err
}

// LoadCompiled reads the constraint system named by a manifest.
func LoadCompiled(manifestPath string) (Spec, constraint.ConstraintSystem, *Manifest, error) {
	m, err := ReadManifest(manifestPath)
	if err != nil {
		return Spec{}, nil, nil, err
	}
	ccs := groth16.NewCS(ecc.BN254)
	b, err := readChecked(filepath.Dir(manifestPath), m.CCS)
	if err != nil {
		return Spec{}, nil, nil, err
	}
	if _, err := ccs.ReadFrom(bytes.NewReader(b)); err != nil {
		return Spec{}, nil, nil, fmt.Errorf("read %s: %w", m.CCS.File, err)
	}
	return m.Spec, ccs, m, nil
}

// LoadKeys reads the constraint system and keys named by a manifest. The
// proving key is read without subgroup checks (it is the prover's own,
// hash-checked file, and checks on millions of points take long).
func LoadKeys(manifestPath string) (*Keys, *Manifest, error) {
	m, err := ReadManifest(manifestPath)
	if err != nil {
		return nil, nil, err
	}
	if m.PK.File == "" || m.VK.File == "" {
		return nil, nil, fmt.Errorf("%s: no keys yet; run setup", manifestPath)
	}
	dir := filepath.Dir(manifestPath)
	k := &Keys{Spec: m.Spec, CCS: groth16.NewCS(ecc.BN254), PK: groth16.NewProvingKey(ecc.BN254), VK: groth16.NewVerifyingKey(ecc.BN254)}
	b, err := readChecked(dir, m.CCS)
	if err != nil {
		return nil, nil, err
	}
	if _, err := k.CCS.ReadFrom(bytes.NewReader(b)); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", m.CCS.File, err)
	}
	if b, err = readChecked(dir, m.PK); err != nil {
		return nil, nil, err
	}
	if _, err := k.PK.UnsafeReadFrom(bytes.NewReader(b)); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", m.PK.File, err)
	}
	if b, err = readChecked(dir, m.VK); err != nil {
		return nil, nil, err
	}
	if _, err := k.VK.ReadFrom(bytes.NewReader(b)); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", m.VK.File, err)
	}
	return k, m, nil
}

// ElementsToHex renders public inputs for files and logs.
func ElementsToHex(v []fr.Element) []string {
	out := make([]string, len(v))
	for i := range v {
		out[i] = "0x" + v[i].Text(16)
	}
	return out
}

// ElementsFromHex parses the output of ElementsToHex.
func ElementsFromHex(s []string) ([]fr.Element, error) {
	out := make([]fr.Element, len(s))
	for i, h := range s {
		v, ok := new(big.Int).SetString(h, 0)
		if !ok || v.Sign() < 0 || v.Cmp(fr.Modulus()) >= 0 {
			return nil, fmt.Errorf("public input %d: %q is not a field element", i, h)
		}
		out[i].SetBigInt(v)
	}
	return out, nil
}
