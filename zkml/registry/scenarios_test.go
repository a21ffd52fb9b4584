package registry_test

// The zkml registry's stories, in testdata/*.txt, run by internal/scenario
// (see its package comment for the core commands). Regenerate the expected
// outputs after a deliberate change with
//
//	go test ./zkml/registry -run TestScenarios -rewrite
//
// and review the diff.
//
// Keys, proofs and contributions cannot be written in a file: the stories
// name the test fixtures (keys_test.go, ceremony_test.go) and the Go below
// builds the messages. Circuits: tiny-inference and tiny-accuracy (the
// 16-8-10 MLP's single-party keys), micro-inference (the 2-2-2 MLP's), and
// ceremony-<id> (the key a sealed ceremony derived). Models: tiny, other
// (same arch, other weights), wide (16-12-10), micro. Test sets: tiny-4,
// other-4. Proofs: tiny-inference, tiny-accuracy and micro-inference (each
// with the statement it proves), and those the prove command makes.
//
// A single-party setup runs afresh each time the tests run, and a ceremony's
// contributions are random, so circuit ids differ from run to run: the zk
// command sends a transaction as tx does and prints circuit ids (and the
// fixtures' commitments and test set hashes) by name, and for a tampered
// proof or contribution without the reason it was refused (it depends on
// the random bytes). Use it wherever an output may name a circuit.
//
// Market words (transaction lines, after tx or zk <sender>):
//
//	register-circuit <circuit> [setup=<text>] [gnark=<text>] [corrupt=truncate|trailing]
//	commit-model <model> name=<name>
//	register-testset <set> name=<name>
//	submit-proof <proof> circuit=<circuit> model=<id> [bytes=<proof>]
//	    [class=<n>] [flip=<i>] [testset=<set>] [k=<n>] [n=<n>] [tamper=<i>] [truncate]
//	    the proof's own statement unless changed: class=, flip= (the input's
//	    i-th value xor 1), testset=, k=, n=; bytes= sends another proof's
//	    bytes, tamper= flips bit 0 of byte i, truncate drops the last byte
//	open-ceremony <circuit> quorum=<n> blocks=<n>   for that circuit's spec
//	contribute <ceremony> [from=<name>] [tamper] [truncate] [phase=<n>]
//	    a fresh contribution on the current head, or a stored one
//
// Market commands:
//
//	zk <sender> <word> ...           a transaction, printed with names
//	blocks <n>                       advance, printed with names
//	contribution <name> <ceremony>   build a contribution on the head, keep it
//	prove <name> ceremony=<id>       derive the proving key from the chain's
//	                                 transcript and prove micro's statement
//	ceremony <id> | circuit <circuit> | claims <model>
//	trusted <model> <claim> min=<n>  RequireTrustedClaim

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
)

func TestScenarios(t *testing.T) {
	tiny, micro, cnn := getTiny(t), getMicro(t), getCNN(t)
	words := map[string]scenario.MsgWord{
		"register-circuit": registerCircuitWord,
		"commit-model":     commitModelWord,
		"register-testset": registerTestSetWord,
		"submit-proof":     submitProofWord,
		"open-ceremony":    openCeremonyWord,
		"contribute":       contributeWord,
	}
	scenario.RunFiles(t, "testdata/*.txt", scenario.Options{
		Domains: []chain.Domain{registry.Domain{}},
		Setup:   func(s *scenario.State) { s.Market = newZKStory(t, tiny, micro, cnn) },
		Words:   words,
		Commands: map[string]scenario.Command{
			"zk": func(s *scenario.State, d *datadriven.TestData) string {
				ws := argWords(d)
				if len(ws) < 2 {
					s.Fail("%s: zk <sender> <word> ...", d.Pos)
				}
				w, ok := words[ws[1]]
				if !ok {
					s.Fail("%s: unknown zk word %q", d.Pos, ws[1])
				}
				out := zkOf(s).named(s, s.Submit(ws[0], w(s, ws[2:])))
				for _, a := range ws[2:] {
					if a == "tamper" || strings.HasPrefix(a, "tamper=") {
						out = cutReason(out)
					}
				}
				return out
			},
			"blocks":       blocksCommand,
			"contribution": contributionCommand,
			"prove":        proveCommand,
			"ceremony":     ceremonyCommand,
			"circuit":      circuitCommand,
			"claims":       claimsCommand,
			"trusted":      trustedCommand,
		},
	})
}

type circuitFix struct {
	spec  registry.Spec
	vk    []byte
	gnark string
}

type modelFix struct {
	comm model.Digest
	arch registry.Arch
}

type setFix struct {
	hash   model.Digest
	shape  registry.Shape
	rows   [][]uint32
	pieces []model.Digest // a test set of pieces (rows nil)
}

// storedProof is a proof with the statement it proves.
type storedProof struct {
	proof     []byte
	inference *registry.InferenceClaim
	accuracy  *registry.AccuracyClaim
}

// zkStory is what the registry's words and commands keep between
// directives.
type zkStory struct {
	micro    *microFixture
	circuits map[string]circuitFix
	models   map[string]modelFix
	sets     map[string]setFix
	proofs   map[string]storedProof
	contribs map[string]*registry.MsgContribute
	names    map[string]string // fixture hash (hex) -> name
}

func newZKStory(t *testing.T, f *tinyFixture, m *microFixture, c *cnnFixture) *zkStory {
	st := &zkStory{
		micro: m,
		circuits: map[string]circuitFix{
			"tiny-inference":  {f.infSpec, f.infVK, f.infGnark},
			"tiny-accuracy":   {f.accSpec, f.accVK, f.infGnark},
			"micro-inference": {m.infSpec, m.infVK, m.infGnark},
		},
		models:   map[string]modelFix{"tiny": {f.comm, f.regArch}, "other": {f.comm2, f.regArch}, "micro": {m.comm, m.regArch}},
		sets:     map[string]setFix{},
		proofs:   map[string]storedProof{},
		contribs: map[string]*registry.MsgContribute{},
		names:    map[string]string{},
	}
	wide := f.arch.Clone()
	wide.Sizes[1] = 12
	wide.BiasBits[1] = model.DefaultBiasBits(12, 255)
	wa, err := registry.ArchOf(wide)
	if err != nil {
		t.Fatal(err)
	}
	st.models["wide"] = modelFix{f.comm2, wa}
	for name, ds := range map[string]*model.Dataset{"tiny-4": f.ds, "other-4": f.ds2} {
		h, err := f.arch.TestSetHash(ds)
		if err != nil {
			t.Fatal(err)
		}
		st.sets[name] = setFix{hash: h, shape: registry.ShapeOf(f.regArch), rows: rows(ds)}
		st.names[h.String()] = name
	}
	// tiny-8: the two 4-row sets as pieces of one.
	pieces := []model.Digest{st.sets["tiny-4"].hash, st.sets["other-4"].hash}
	root, err := model.PiecesRoot(pieces)
	if err != nil {
		t.Fatal(err)
	}
	st.sets["tiny-8"] = setFix{hash: root, shape: registry.ShapeOf(f.regArch), pieces: pieces}
	st.names[root.String()] = "tiny-8"
	st.proofs["other-accuracy"] = storedProof{proof: f.accProof2, accuracy: &registry.AccuracyClaim{TestSet: st.sets["other-4"].hash, N: 4, K: uint32(f.k2)}}
	st.proofs["tiny-inference"] = storedProof{proof: f.infProof, inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}}
	st.proofs["tiny-accuracy"] = storedProof{proof: f.accProof, accuracy: &registry.AccuracyClaim{TestSet: st.sets["tiny-4"].hash, N: 4, K: uint32(f.k)}}
	st.proofs["micro-inference"] = storedProof{proof: m.infProof, inference: &registry.InferenceClaim{Input: u32s(m.x), Class: uint32(m.class)}}
	// The tiny CNN: its circuits, model (and another of its arch), test set
	// and proofs.
	st.circuits["cnn-inference"] = circuitFix{c.infSpec, c.infVK, c.gnark}
	st.circuits["cnn-accuracy"] = circuitFix{c.accSpec, c.accVK, c.gnark}
	st.models["cnn"], st.models["cnn-other"] = modelFix{c.com, c.ra}, modelFix{c.com2, c.ra}
	st.sets["cnn-4"] = setFix{hash: c.tsh, shape: registry.ShapeOf(c.ra), rows: rows(c.ds)}
	st.names[c.tsh.String()] = "cnn-4"
	st.names[c.com.String()], st.names[c.com2.String()] = "commitment(cnn)", "commitment(cnn-other)"
	st.proofs["cnn-inference"] = storedProof{proof: c.infProof, inference: &registry.InferenceClaim{Input: u32s(c.x), Class: uint32(c.class)}}
	st.proofs["cnn-accuracy"] = storedProof{proof: c.accProof, accuracy: &registry.AccuracyClaim{TestSet: c.tsh, N: 4, K: uint32(c.k)}}
	for name, c := range st.circuits {
		st.names[registry.CircuitID(c.spec, c.vk).String()] = name
	}
	st.names[f.comm.String()] = "commitment(tiny)"
	st.names[f.comm2.String()] = "commitment(other)"
	st.names[m.comm.String()] = "commitment(micro)"
	return st
}

func zkOf(s *scenario.State) *zkStory { return s.Market.(*zkStory) }

// named replaces every circuit id and fixture hash in text by its name.
func (st *zkStory) named(s *scenario.State, text string) string {
	names := map[string]string{}
	for k, v := range st.names {
		names[k] = v
	}
	for id := uint64(1); ; id++ {
		c, err := registry.GetCeremony(s.Tree, id)
		if err != nil {
			break
		}
		if !c.Circuit.IsZero() {
			names[c.Circuit.String()] = fmt.Sprintf("ceremony-%d", id)
		}
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text = strings.ReplaceAll(text, k, names[k])
	}
	return text
}

// Why a tampered proof or contribution is refused depends on its random
// bytes (a flipped bit may leave a point off the curve, outside the
// subgroup, or on it and failing the pairing): cutReason drops the reason.
func cutReason(text string) string {
	for _, marker := range []string{"zkml: proof does not verify", "ceremony: invalid contribution"} {
		if i := strings.Index(text, marker); i >= 0 {
			return text[:i+len(marker)] + " (reason depends on the random bytes)"
		}
	}
	return text
}

// circuitID resolves a circuit name: a fixture, ceremony-<id>, or unknown.
func (st *zkStory) circuitID(s *scenario.State, name string) registry.Hash {
	if c, ok := st.circuits[name]; ok {
		return registry.CircuitID(c.spec, c.vk)
	}
	if id, ok := strings.CutPrefix(name, "ceremony-"); ok {
		c, err := registry.GetCeremony(s.Tree, s.U64(id))
		if err != nil || c.Circuit.IsZero() {
			s.Fail("ceremony %s has sealed no circuit", id)
		}
		return c.Circuit
	}
	if name == "unknown" {
		return registry.Hash{1}
	}
	s.Fail("unknown circuit %q", name)
	return registry.Hash{}
}

func argWords(d *datadriven.TestData) []string {
	out := make([]string, 0, len(d.CmdArgs))
	for _, a := range d.CmdArgs {
		out = append(out, a.String())
	}
	return out
}

// split parses a word's arguments: positional ones, key=value options
// among known, and flags among known.
func split(s *scenario.State, words []string, known ...string) ([]string, map[string]string) {
	var pos []string
	opts := map[string]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		isKnown := false
		for _, kn := range known {
			isKnown = isKnown || kn == k
		}
		switch {
		case isKnown:
			opts[k] = v
		case ok:
			s.Fail("unknown option %q in %q", k, words)
		default:
			pos = append(pos, w)
		}
	}
	return pos, opts
}

func one(s *scenario.State, pos []string, what string) string {
	if len(pos) != 1 {
		s.Fail("want one %s, got %q", what, pos)
	}
	return pos[0]
}

func registerCircuitWord(s *scenario.State, words []string) chain.Msg {
	st := zkOf(s)
	pos, o := split(s, words, "setup", "gnark", "corrupt")
	c, ok := st.circuits[one(s, pos, "circuit")]
	if !ok {
		s.Fail("unknown circuit %q", pos[0])
	}
	m := &registry.MsgRegisterCircuit{Spec: c.spec, VerifyingKey: c.vk, Gnark: c.gnark, Setup: o["setup"]}
	if g, ok := o["gnark"]; ok {
		m.Gnark = g
	}
	switch o["corrupt"] {
	case "":
	case "truncate":
		m.VerifyingKey = c.vk[:len(c.vk)-1]
	case "trailing":
		m.VerifyingKey = append(append([]byte{}, c.vk...), 0)
	default:
		s.Fail("corrupt=%s: want truncate or trailing", o["corrupt"])
	}
	return m
}

func commitModelWord(s *scenario.State, words []string) chain.Msg {
	pos, o := split(s, words, "name")
	m, ok := zkOf(s).models[one(s, pos, "model")]
	if !ok {
		s.Fail("unknown model %q", pos[0])
	}
	return &registry.MsgCommitModel{Commitment: m.comm, Arch: m.arch, Name: o["name"]}
}

func registerTestSetWord(s *scenario.State, words []string) chain.Msg {
	pos, o := split(s, words, "name")
	ts, ok := zkOf(s).sets[one(s, pos, "test set")]
	if !ok {
		s.Fail("unknown test set %q", pos[0])
	}
	return &registry.MsgRegisterTestSet{Hash: ts.hash, Shape: ts.shape, Name: o["name"], Rows: ts.rows, Pieces: ts.pieces}
}

func submitProofWord(s *scenario.State, words []string) chain.Msg {
	st := zkOf(s)
	pos, o := split(s, words, "circuit", "model", "bytes", "class", "flip", "testset", "k", "n", "tamper", "truncate", "set")
	p, ok := st.proofs[one(s, pos, "proof")]
	if !ok {
		s.Fail("unknown proof %q", pos[0])
	}
	m := &registry.MsgSubmitProof{Circuit: st.circuitID(s, o["circuit"]), Model: s.U64(o["model"]), Proof: p.proof}
	if b, ok := o["bytes"]; ok {
		other, ok := st.proofs[b]
		if !ok {
			s.Fail("unknown proof %q", b)
		}
		m.Proof = other.proof
	}
	m.Proof = append([]byte{}, m.Proof...)
	if i, ok := o["tamper"]; ok {
		m.Proof[s.U64(i)] ^= 1
	}
	if _, ok := o["truncate"]; ok {
		m.Proof = m.Proof[:len(m.Proof)-1]
	}
	if p.inference != nil {
		c := *p.inference
		c.Input = append([]uint32{}, c.Input...)
		if v, ok := o["class"]; ok {
			c.Class = uint32(s.U64(v))
		}
		if v, ok := o["flip"]; ok {
			c.Input[s.U64(v)] ^= 1
		}
		m.Inference = &c
	} else {
		c := *p.accuracy
		if v, ok := o["testset"]; ok {
			ts, ok := st.sets[v]
			if !ok {
				s.Fail("unknown test set %q", v)
			}
			c.TestSet = ts.hash
		}
		if v, ok := o["k"]; ok {
			c.K = uint32(s.U64(v))
		}
		if v, ok := o["n"]; ok {
			c.N = uint32(s.U64(v))
		}
		m.Accuracy = &c
	}
	if v, ok := o["set"]; ok {
		ts, ok := st.sets[v]
		if !ok {
			s.Fail("unknown test set %q", v)
		}
		m.Set = ts.hash
	}
	return m
}

func openCeremonyWord(s *scenario.State, words []string) chain.Msg {
	pos, o := split(s, words, "quorum", "blocks")
	c, ok := zkOf(s).circuits[one(s, pos, "circuit")]
	if !ok {
		s.Fail("unknown circuit %q", pos[0])
	}
	return &registry.MsgOpenCeremony{Spec: c.spec, Quorum: uint32(s.U64(o["quorum"])), PhaseBlocks: uint32(s.U64(o["blocks"]))}
}

// freshContribution extends ceremony id's current head, as a contributor
// reading the chain would.
func freshContribution(s *scenario.State, id uint64) *registry.MsgContribute {
	d, err := registry.GetCeremonyData(s.Tree, id)
	if err != nil {
		s.Fail("%v", err)
	}
	var next []byte
	if d.Ceremony.Phase == registry.PhaseOne {
		next, err = ceremony.ContributePhase1(d.State, d.Ceremony.Domain, len(d.Ceremony.Phase1) == 0)
	} else {
		next, err = ceremony.ContributePhase2(d.State)
	}
	if err != nil {
		s.Fail("contribution to ceremony %d: %v", id, err)
	}
	return &registry.MsgContribute{Ceremony: id, Phase: d.Ceremony.Phase, State: next}
}

func contributeWord(s *scenario.State, words []string) chain.Msg {
	pos, o := split(s, words, "from", "tamper", "truncate", "phase")
	id := s.U64(one(s, pos, "ceremony"))
	var m registry.MsgContribute
	if name, ok := o["from"]; ok {
		c, ok := zkOf(s).contribs[name]
		if !ok {
			s.Fail("no contribution %q", name)
		}
		m = *c
	} else {
		m = *freshContribution(s, id)
	}
	m.State = append([]byte{}, m.State...)
	if _, ok := o["tamper"]; ok {
		m.State[len(m.State)/2] ^= 0x10
	}
	if _, ok := o["truncate"]; ok {
		m.State = m.State[:len(m.State)-7]
	}
	if v, ok := o["phase"]; ok {
		m.Phase = uint32(s.U64(v))
	}
	return &m
}

func blocksCommand(s *scenario.State, d *datadriven.TestData) string {
	var lines []string
	for n := s.U64(one(s, argWords(d), "count")); n > 0; n-- {
		res := s.ApplyBlock(nil)
		for _, ev := range res.Events {
			var b strings.Builder
			fmt.Fprintf(&b, "height %d end-block: %s", s.Height, ev.Type)
			for _, a := range ev.Attrs {
				fmt.Fprintf(&b, " %s=%s", a.Key, a.Value)
			}
			lines = append(lines, b.String())
		}
	}
	lines = append(lines, fmt.Sprintf("height %d", s.Height))
	return zkOf(s).named(s, s.Readable(strings.Join(lines, "\n")))
}

func contributionCommand(s *scenario.State, d *datadriven.TestData) string {
	ws := argWords(d)
	if len(ws) != 2 {
		s.Fail("%s: contribution <name> <ceremony>", d.Pos)
	}
	c := freshContribution(s, s.U64(ws[1]))
	zkOf(s).contribs[ws[0]] = c
	return fmt.Sprintf("phase %d contribution of %d bytes", c.Phase, len(c.State))
}

// proveCommand derives the proving key of a sealed ceremony from the public
// transcript, checks that its verifying key is the one the chain derived,
// and proves the micro model's statement under it.
func proveCommand(s *scenario.State, d *datadriven.TestData) string {
	st := zkOf(s)
	pos, o := split(s, argWords(d), "ceremony")
	name := one(s, pos, "proof name")
	cd, err := registry.GetCeremonyData(s.Tree, s.U64(o["ceremony"]))
	if err != nil {
		return "error: " + err.Error()
	}
	r, _, err := registry.CompileSpec(cd.Ceremony.Spec)
	if err != nil {
		s.Fail("%v", err)
	}
	pk, vk, err := ceremony.Keys(cd.Commons, cd.Ceremony.Domain, cd.Evals, cd.State, cd.Ceremony.Beacon2[:])
	if err != nil {
		return "error: " + err.Error()
	}
	vkb, err := ceremony.VerifyingKeyBytes(vk)
	if err != nil {
		s.Fail("%v", err)
	}
	circ, err := registry.GetCircuit(s.Tree, cd.Ceremony.Circuit)
	if err != nil {
		return "error: " + st.named(s, err.Error())
	}
	if string(vkb) != string(circ.VerifyingKey) {
		return "the verifying key derived from the transcript differs from the chain's"
	}
	f := st.micro
	a, cls, err := circuit.InferenceAssignment(f.m, f.x)
	if err != nil {
		s.Fail("%v", err)
	}
	proof, _, err := (&prover.Keys{CCS: r, PK: pk, VK: vk}).Prove(a)
	if err != nil {
		s.Fail("%v", err)
	}
	offChain := "verifies off chain"
	if err := zkml.VerifyInference(circ.VerifyingKey, proof, f.arch, zkml.InferenceClaim{Model: f.comm, Input: f.x, Class: cls}); err != nil {
		offChain = "does not verify off chain: " + err.Error()
	}
	st.proofs[name] = storedProof{proof: proof, inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(cls)}}
	return fmt.Sprintf("keys derived from the transcript match %s; proof of class %d %s",
		st.named(s, circ.ID.String()), cls, offChain)
}

func ceremonyCommand(s *scenario.State, d *datadriven.TestData) string {
	c, err := registry.GetCeremony(s.Tree, s.U64(one(s, argWords(d), "ceremony id")))
	if err != nil {
		return "error: " + err.Error()
	}
	who := func(cs []registry.Contribution) string {
		var out []string
		for _, k := range cs {
			out = append(out, fmt.Sprintf("%s at %d", s.Readable(k.Contributor.String()), k.Height))
		}
		if len(out) == 0 {
			return "none"
		}
		return strings.Join(out, ", ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ceremony %d for %s %s, opened by %s at %d: %d constraints, domain %d, quorum %d, %d blocks a phase\n",
		c.ID, c.Spec.Kind, c.Spec.Arch, s.Readable(c.Opener.String()), c.Opened, c.Constraints, c.Domain, c.Quorum, c.PhaseBlocks)
	switch c.Phase {
	case registry.PhaseOne, registry.PhaseTwo:
		fmt.Fprintf(&b, "phase %d, closes at the end of %d or later with a quorum\n", c.Phase, c.Deadline)
	case registry.PhaseSealed:
		fmt.Fprintf(&b, "sealed at %d: circuit %s\n", c.Sealed, zkOf(s).named(s, c.Circuit.String()))
	case registry.PhaseFailed:
		fmt.Fprintf(&b, "failed: %s\n", c.Failure)
	}
	fmt.Fprintf(&b, "phase 1: %s\nphase 2: %s", who(c.Phase1), who(c.Phase2))
	return b.String()
}

func circuitCommand(s *scenario.State, d *datadriven.TestData) string {
	st := zkOf(s)
	c, err := registry.GetCircuit(s.Tree, st.circuitID(s, one(s, argWords(d), "circuit")))
	if err != nil {
		return "error: " + st.named(s, err.Error())
	}
	return fmt.Sprintf("%s: %s %s, %d public inputs, registered by %s at %d, gnark %q, setup %q, ceremony %d\ntrust: %s",
		st.named(s, c.ID.String()), c.Spec.Kind, c.Spec.Arch, c.PublicInputs, s.Readable(c.Registrant.String()), c.Height,
		c.Gnark, c.Setup, c.Ceremony, c.Trust)
}

func claimsCommand(s *scenario.State, d *datadriven.TestData) string {
	st := zkOf(s)
	id := s.U64(one(s, argWords(d), "model id"))
	m, err := registry.GetModel(s.Tree, id)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "model %d %q of %s, %s, arch %s: %d claims\n", m.ID, m.Name, s.Readable(m.Owner.String()), st.named(s, m.Commitment.String()), m.Arch, m.Claims)
	for _, c := range registry.Claims(s.Tree, id) {
		fmt.Fprintf(&b, "claim %d: %s", c.Seq, c.Kind)
		if c.Inference != nil {
			fmt.Fprintf(&b, " class %d", c.Inference.Class)
		}
		if a := c.Accuracy; a != nil {
			fmt.Fprintf(&b, " %d of %d on %s (%d bps)", a.K, a.N, st.named(s, a.TestSet.String()), *c.AccuracyBps)
		}
		if len(c.Parts) > 0 {
			fmt.Fprintf(&b, " from piece claims %v", c.Parts)
		}
		fmt.Fprintf(&b, " under %s, proved by %s at %d; trust: %s\n", st.named(s, c.Circuit.String()), s.Readable(c.Prover.String()), c.Height, c.Trust)
	}
	return b.String()
}

func trustedCommand(s *scenario.State, d *datadriven.TestData) string {
	pos, o := split(s, argWords(d), "min")
	if len(pos) != 2 {
		s.Fail("%s: trusted <model> <claim> min=<n>", d.Pos)
	}
	model, seq := s.U64(pos[0]), s.U64(pos[1])
	for _, c := range registry.Claims(s.Tree, model) {
		if c.Seq == seq {
			if err := registry.RequireTrustedClaim(s.Tree, c, int(s.U64(o["min"]))); err != nil {
				return "error: " + zkOf(s).named(s, s.Readable(err.Error()))
			}
			return "trusted"
		}
	}
	return fmt.Sprintf("model %d has no claim %d", model, seq)
}
