package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// runSplit is run with stdout and stderr apart, so that -o json output
// parses while progress lines go to stderr.
func runSplit(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errb)
	rootCmd.SetArgs(args)
	applyExamples(rootCmd)
	resetFlags(t, rootCmd)
	outputFormat = "text"
	err := rootCmd.Execute()
	return out.String(), errb.String(), err
}

// writeRows writes ds as a CSV of inputs then label.
func writeRows(t *testing.T, path string, ds *model.Dataset) {
	t.Helper()
	var b strings.Builder
	for r, x := range ds.X {
		for _, v := range x {
			fmt.Fprintf(&b, "%d,", v)
		}
		fmt.Fprintf(&b, "%d\n", ds.Y[r])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// randomRows draws n rows for a model: labels its prediction, every third
// one off by one (so that the count is not all rows).
func randomRows(t *testing.T, m func([]int) (int, error), inputs, inBits, classes, n int, seed uint64) *model.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	ds := &model.Dataset{}
	for r := range n {
		x := make([]int, inputs)
		for i := range x {
			x[i] = rng.IntN(1 << inBits)
		}
		y, err := m(x)
		if err != nil {
			t.Fatal(err)
		}
		if r%3 == 1 {
			y = (y + 1) % classes
		}
		ds.X, ds.Y = append(ds.X, x), append(ds.Y, y)
	}
	return ds
}

// A test set made of pieces through the CLI against a real node: 8 rows
// split into 2 pieces (registered with the set in one command), each piece
// proven with --piece under a 4-row accuracy circuit and submitted with
// --set; the query shows the progress and then the whole-set claim, whose
// count is the model's true count over the 8 rows. Bad splits, a set that
// is not one, a proof of rows outside the set and a set from unregistered
// pieces are refused with clear errors.
func TestZkmlPiecesCLI(t *testing.T) {
	start := time.Now()
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	arch := model.Arch{Sizes: []int{16, 8, 10}, InBits: 5, Shifts: []int{5}}
	arch.BiasBits = []int{model.DefaultBiasBits(16, 31), model.DefaultBiasBits(8, 255)}
	m, err := train.RandomModel(arch, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(p("model.json")); err != nil {
		t.Fatal(err)
	}
	ds := randomRows(t, m.Predict, 16, 5, 10, 8, 9)
	writeRows(t, p("rows.csv"), ds)
	other := randomRows(t, m.Predict, 16, 5, 10, 4, 10)
	writeRows(t, p("other.csv"), other)
	want, err := m.Accuracy(ds)
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := arch.TestSetHash(mustSlice(t, ds, 0, 4))
	h2, _ := arch.TestSetHash(mustSlice(t, ds, 4, 8))
	root, err := model.PiecesRoot([]model.Digest{h1, h2})
	if err != nil {
		t.Fatal(err)
	}

	net := testnode.Start(t, 2)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 2); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test"}
	must := func(args ...string) string {
		t.Helper()
		out, errs, err := runSplit(t, append(args, base...)...)
		if err != nil {
			t.Fatalf("tenun %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
		}
		return out
	}
	fails := func(substr string, args ...string) {
		t.Helper()
		out, errs, err := runSplit(t, append(args, base...)...)
		if err == nil || !strings.Contains(err.Error(), substr) {
			t.Fatalf("tenun %s: want an error with %q, got %v\n%s%s", strings.Join(args, " "), substr, err, out, errs)
		}
	}

	must("zk", "compile", "--kind", "accuracy", "--model", p("model.json"), "--rows", "4", "--out", p("keys/acc"))
	must("zk", "setup", "--keys", p("keys/acc.json"))
	must("tx", "zkml", "register-circuit", p("keys/acc.json"), "--from", "alice")
	must("tx", "zkml", "commit-model", p("model.json"), "--from", "alice")

	fails("do not split into 3 pieces", "tx", "zkml", "register-testset", "--csv", p("rows.csv"), "--arch-from", p("model.json"), "--split", "3", "--from", "alice")
	fails("2 to 64 pieces", "tx", "zkml", "register-testset", "--csv", p("rows.csv"), "--arch-from", p("model.json"), "--split", "1", "--from", "alice")
	fails("give --csv and --arch-from", "tx", "zkml", "register-testset", "--split", "2", "--from", "alice")
	fails("without --csv", "tx", "zkml", "register-testset", "--csv", p("rows.csv"), "--pieces", h1.String()+","+h2.String(), "--from", "alice")
	fails("is not registered", "tx", "zkml", "register-testset", "--pieces", h1.String()+","+h2.String(), "--from", "alice")

	var split splitResult
	out := must("tx", "zkml", "register-testset", "--csv", p("rows.csv"), "--arch-from", p("model.json"), "--split", "2", "--name", "eight", "--from", "alice", "-o", "json")
	if err := json.Unmarshal([]byte(out), &split); err != nil {
		t.Fatalf("register-testset --split -o json: %v\n%s", err, out)
	}
	if split.Set != root || len(split.Pieces) != 2 || split.Pieces[0].Hash != h1 || split.Pieces[1].Hash != h2 || split.PieceRows != 4 || split.Reused || split.Tx == "" {
		t.Fatalf("split result %+v, want set %s of pieces %s, %s", split, root, h1, h2)
	}
	// Run again: every piece and the set are already there.
	out = must("tx", "zkml", "register-testset", "--csv", p("rows.csv"), "--arch-from", p("model.json"), "--split", "2", "--name", "eight", "--from", "alice")
	if !strings.Contains(out, "already registered") || strings.Count(out, "already registered") != 3 {
		t.Fatalf("second split: want the set and both pieces already registered:\n%s", out)
	}

	var view piecesView
	query := func() {
		t.Helper()
		out := must("query", "zkml", "pieces", "1", root.String(), "-o", "json")
		view = piecesView{}
		if err := json.Unmarshal([]byte(out), &view); err != nil {
			t.Fatalf("query pieces: %v\n%s", err, out)
		}
	}
	query()
	if view.Name != "eight" || view.Rows != 8 || view.PieceRows != 4 || len(view.Circuits) != 0 {
		t.Fatalf("before any proof: %+v", view)
	}
	fails("not made of pieces", "query", "zkml", "pieces", "1", h1.String())

	must("zk", "prove", "--keys", p("keys/acc.json"), "--model", p("model.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "1/2", "--out", p("p1.json"))
	must("zk", "prove", "--keys", p("keys/acc.json"), "--model", p("model.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "2/2", "--out", p("p2.json"))
	must("zk", "prove", "--keys", p("keys/acc.json"), "--model", p("model.json"), "--data", p("other.csv"), "--data-rows", "0:4", "--out", p("other.json"))
	must("zk", "verify", "--keys", p("keys/acc.json"), "--proof", p("p2.json"), "--model", p("model.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "2/2")
	fails("proof names test set", "zk", "verify", "--keys", p("keys/acc.json"), "--proof", p("p2.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "1/2")
	fails("--piece checks the test set", "zk", "verify", "--keys", p("keys/acc.json"), "--proof", p("p2.json"), "--piece", "1/2")
	fails("do not split into 3 pieces", "zk", "prove", "--keys", p("keys/acc.json"), "--model", p("model.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "1/3", "--out", p("x.json"))
	fails("want I/P", "zk", "prove", "--keys", p("keys/acc.json"), "--model", p("model.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "2", "--out", p("x.json"))
	fails("want 1 <= I <= P", "zk", "prove", "--keys", p("keys/acc.json"), "--model", p("model.json"), "--data", p("rows.csv"), "--data-rows", "0:8", "--piece", "3/2", "--out", p("x.json"))

	submitArgs := func(proof string, extra ...string) []string {
		return append([]string{"tx", "zkml", "submit-proof", p(proof), "--model", "1", "--circuit", p("keys/acc.json"), "--from", "alice"}, extra...)
	}
	fails("not made of pieces", submitArgs("p1.json", "--set", h1.String())...)
	fails("not one of the 2 pieces", submitArgs("other.json", "--set", root.String())...)
	fails("is not registered", submitArgs("p1.json", "--set", "1234")...)

	must(submitArgs("p1.json", "--set", root.String())...)
	query()
	if len(view.Circuits) != 1 || view.Circuits[0].Proven != 1 || view.Circuits[0].Parts[0] == 0 || view.Circuits[0].Parts[1] != 0 || view.Circuits[0].Claim != 0 {
		t.Fatalf("after piece 1: %+v", view)
	}
	text := must("query", "zkml", "pieces", "1", root.String())
	if !strings.Contains(text, "1 of 2 pieces proven") || !strings.Contains(text, "missing") {
		t.Fatalf("query pieces in text after piece 1:\n%s", text)
	}

	must(submitArgs("p2.json", "--set", root.String())...)
	query()
	c := view.Circuits[0]
	if c.Proven != 2 || c.Claim == 0 || c.Accuracy == nil || c.Accuracy.N != 8 || int(c.Accuracy.K) != want || c.Accuracy.TestSet != root {
		t.Fatalf("after piece 2: %+v (accuracy %+v), want a claim of %d of 8 about %s", c, c.Accuracy, want, root)
	}
	var claims []registry.Claim
	if err := json.Unmarshal([]byte(must("query", "zkml", "claims", "1", "-o", "json")), &claims); err != nil {
		t.Fatal(err)
	}
	var whole *registry.Claim
	for i := range claims {
		if claims[i].Seq == c.Claim {
			whole = &claims[i]
		}
	}
	if whole == nil || len(whole.Parts) != 2 || whole.Parts[0] != c.Parts[0] || whole.Parts[1] != c.Parts[1] {
		t.Fatalf("whole-set claim %d among %+v: want parts %v", c.Claim, claims, c.Parts)
	}
	text = must("query", "zkml", "pieces", "1", root.String())
	if !strings.Contains(text, fmt.Sprintf("whole set: claim %d, at least %d of 8 rows right", c.Claim, want)) {
		t.Fatalf("query pieces in text after piece 2:\n%s", text)
	}

	// The same pieces in the other order are another set, registered from
	// their hashes.
	var res struct{ Height int64 }
	out = must("tx", "zkml", "register-testset", "--pieces", h2.String()+","+h1.String(), "--arch-from", p("model.json"), "--from", "alice", "-o", "json")
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Height == 0 {
		t.Fatalf("register-testset --pieces: %v\n%s", err, out)
	}
	root2, _ := model.PiecesRoot([]model.Digest{h2, h1})
	var ts registry.TestSet
	if err := json.Unmarshal([]byte(must("query", "zkml", "testset", root2.String(), "-o", "json")), &ts); err != nil || len(ts.Pieces) != 2 || ts.N != 8 || ts.Pieces[0] != h2 {
		t.Fatalf("set from --pieces: %+v %v", ts, err)
	}
	t.Logf("pieces through the CLI in %s", time.Since(start).Round(time.Millisecond))
}

func mustSlice(t *testing.T, ds *model.Dataset, from, to int) *model.Dataset {
	t.Helper()
	s, err := ds.Slice(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tinyCNN is a 5x5 4-bit image, one 2x2 channel, 2x2 pool, 4-3 head (as
// zkml/registry's tests use): its inference circuit is small.
func tinyCNN() model.ConvArch {
	return model.ConvArch{
		Height: 5, Width: 5, InBits: 4, Kernel: 2, Channels: 1, Shift: 2, BiasBits: 10, Pool: 2,
		Head: model.Arch{Sizes: []int{4, 3}, InBits: model.ActBits, Shifts: []int{}, BiasBits: []int{model.DefaultBiasBits(4, 255)}},
	}
}

// A CNN's key manifest registers the CNN circuit (the chain's spec with
// Conv set, the same circuit id as the chain computes for it), fixes the
// shape of a test set registered from it and of a ceremony spec; the
// commands that read MLP model files refuse CNN kinds and keys clearly;
// the ceremony's keys get the conv spec, not the head's MLP shape.
func TestZkmlCNNSpecsCLI(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	ca := tinyCNN()
	spec := prover.Spec{Kind: prover.KindConvInference, Conv: &ca}
	ccs, err := prover.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := prover.Setup(spec, ccs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prover.SaveKeys(dir, "cnn", keys, prover.SetupSingleParty); err != nil {
		t.Fatal(err)
	}
	regArch, err := registry.ConvArchOf(ca)
	if err != nil {
		t.Fatal(err)
	}

	// Chain spec <-> manifest spec, both ways, for a CNN and an MLP.
	for _, s := range []registry.Spec{
		{Kind: registry.KindInference, Arch: regArch},
		{Kind: registry.KindAccuracy, Arch: regArch, Rows: 3},
	} {
		ps, err := proverSpecOf(s)
		if err != nil {
			t.Fatal(err)
		}
		if ps.Conv == nil || (s.Kind == registry.KindAccuracy) != (ps.Kind == prover.KindConvAccuracy) || ps.Rows != int(s.Rows) {
			t.Fatalf("prover spec of %s %s: %+v", s.Kind, s.Arch, ps)
		}
		back, err := specOf(ps)
		if err != nil || back.Kind != s.Kind || !back.Arch.Equal(s.Arch) || back.Rows != s.Rows {
			t.Fatalf("round trip of %s %s: %+v, %v", s.Kind, s.Arch, back, err)
		}
		if _, err := ps.Circuit(); err != nil {
			t.Fatalf("the ceremony keys' spec has no circuit: %v", err)
		}
	}
	mlp, _ := registry.ArchOf(model.Arch{Sizes: []int{16, 8, 10}, InBits: 5, Shifts: []int{5}, BiasBits: []int{9, 12}})
	if ps, err := proverSpecOf(registry.Spec{Kind: registry.KindInference, Arch: mlp}); err != nil || ps.Conv != nil || ps.Kind != prover.KindInference || len(ps.Arch.Sizes) != 3 {
		t.Fatalf("mlp prover spec: %+v %v", ps, err)
	}
	if _, err := proverSpecOf(registry.Spec{Kind: "cnn-inference", Arch: regArch}); err == nil {
		t.Fatal("a chain spec of kind cnn-inference was taken")
	}

	msg, err := circuitMsg(p("cnn.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !msg.Spec.Arch.IsConv() || msg.Spec.Kind != registry.KindInference {
		t.Fatalf("cnn manifest registers spec %+v", msg.Spec)
	}

	net := testnode.Start(t, 2)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 2); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test"}
	cmdRun := func(args ...string) (string, error) {
		out, errs, err := runSplit(t, append(args, base...)...)
		return out + errs, err
	}
	out, err := cmdRun("tx", "zkml", "register-circuit", p("cnn.json"), "--from", "alice")
	if err != nil {
		t.Fatalf("register cnn circuit: %v\n%s", err, out)
	}
	id := registry.CircuitID(msg.Spec, msg.VerifyingKey)
	out, err = cmdRun("query", "zkml", "circuit", id.String(), "-o", "json")
	var circ registry.Circuit
	if err != nil || json.Unmarshal([]byte(out), &circ) != nil || !circ.Spec.Arch.IsConv() || !circ.Spec.Arch.Equal(regArch) {
		t.Fatalf("cnn circuit %s on chain: %v\n%s", id, err, out)
	}

	// A test set whose layout a CNN manifest fixes: 25 pixels of 4 bits, 3 classes.
	ds := &model.Dataset{}
	for r := range 3 {
		x := make([]int, 25)
		for i := range x {
			x[i] = (r*7 + i) % 16
		}
		ds.X, ds.Y = append(ds.X, x), append(ds.Y, r)
	}
	writeRows(t, p("cnn.csv"), ds)
	out, err = cmdRun("tx", "zkml", "register-testset", "--csv", p("cnn.csv"), "--arch-from", p("cnn.json"), "--name", "cnn-rows", "--from", "alice")
	if err != nil {
		t.Fatalf("cnn test set: %v\n%s", err, out)
	}
	h, _ := ca.InputArch().TestSetHash(ds)
	out, err = cmdRun("query", "zkml", "testset", h.String(), "-o", "json")
	var ts registry.TestSet
	if err != nil || json.Unmarshal([]byte(out), &ts) != nil || ts.Shape != (registry.Shape{Inputs: 25, InBits: 4, Classes: 3}) {
		t.Fatalf("cnn test set %s: %v\n%s", h, err, out)
	}

	// MLP-model-file commands refuse CNNs with the reason.
	if out, err := cmdRun("zk", "prove", "--keys", p("cnn.json"), "--model", p("none.json"), "--out", p("x.json")); err == nil || !strings.Contains(err.Error(), "CNN models have no model file format") {
		t.Fatalf("zk prove with cnn keys: %v\n%s", err, out)
	}
	if out, err := cmdRun("zk", "compile", "--kind", "cnn-accuracy", "--model", p("none.json"), "--out", p("k/x")); err == nil || !strings.Contains(err.Error(), "CNN models have no model file format") {
		t.Fatalf("zk compile --kind cnn-accuracy: %v\n%s", err, out)
	}
	if out, err := cmdRun("zk", "compile", "--kind", "bogus", "--out", p("k/x")); err == nil || !strings.Contains(err.Error(), "want inference or accuracy") {
		t.Fatalf("zk compile --kind bogus: %v\n%s", err, out)
	}
	// A CNN's JSON is refused by name wherever a model file is read.
	b, err := json.Marshal(randomConvModel(t, ca))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("cnn-model.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"tx", "zkml", "commit-model", p("cnn-model.json"), "--from", "alice"},
		{"tx", "zkml", "register-testset", "--csv", p("cnn.csv"), "--arch-from", p("cnn-model.json"), "--from", "alice"},
		{"zk", "compile", "--kind", "inference", "--model", p("cnn-model.json"), "--out", p("k/y")},
	} {
		if out, err := cmdRun(args...); err == nil || !strings.Contains(err.Error(), "CNN model files have no loader yet") {
			t.Fatalf("tenun %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// A CNN ceremony through the CLI: opened from a CNN key manifest, sealed
// with the validator's own contributions (the node's ceremony hook), and
// `tenun zk ceremony keys` writes key files whose spec is the CNN's
// (cnn-inference with its conv arch, not the head's MLP shape): they load,
// prove a CNN inference and the proof verifies under the ceremony's key.
func TestZkmlCNNCeremonyKeysCLI(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	ca := tinyCNN()
	spec := prover.Spec{Kind: prover.KindConvInference, Conv: &ca}
	ccs, err := prover.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	// The manifest only names the spec here: compiled, no keys needed.
	if _, err := prover.SaveCompiled(dir, "cnn", spec, ccs); err != nil {
		t.Fatal(err)
	}
	net := testnode.Start(t, 2)
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 2); err != nil {
		t.Fatal(err)
	}
	base := []string{"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test"}
	cmdRun := func(args ...string) (string, error) {
		out, errs, err := runSplit(t, append(args, base...)...)
		return out + errs, err
	}
	if out, err := cmdRun("zk", "ceremony", "open", "--kind", "inference", "--arch-from", p("cnn.json"), "--quorum", "1", "--phase-blocks", "2", "--from", "alice"); err != nil {
		t.Fatalf("open: %v\n%s", err, out)
	}
	var c registry.Ceremony
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, errs, err := runSplit(t, append([]string{"zk", "ceremony", "status", "1", "-o", "json"}, base...)...)
		if err != nil || json.Unmarshal([]byte(out), &c) != nil {
			t.Fatalf("status: %v\n%s%s", err, out, errs)
		}
		if !c.Spec.Arch.IsConv() {
			t.Fatalf("ceremony spec %s is not the CNN's", c.Spec.Arch)
		}
		if c.Phase == registry.PhaseSealed {
			break
		}
		if c.Phase != registry.PhaseOne && c.Phase != registry.PhaseTwo || time.Now().After(deadline) {
			t.Fatalf("ceremony in phase %d (%s) after waiting", c.Phase, c.Failure)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, err := cmdRun("zk", "ceremony", "keys", "1", "--out", p("cer")); err != nil {
		t.Fatalf("keys: %v\n%s", err, out)
	}
	keys, man, err := prover.LoadKeys(p("cer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if man.Spec.Kind != prover.KindConvInference || man.Spec.Conv == nil || !reflect.DeepEqual(*man.Spec.Conv, ca) {
		t.Fatalf("ceremony keys' spec %+v, want cnn-inference over %+v", man.Spec, ca)
	}
	m := randomConvModel(t, ca)
	x := make([]int, ca.NumInputs())
	for i := range x {
		x[i] = (i * 5) % 16
	}
	a, _, err := circuit.ConvInferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	proof, pub, err := keys.Prove(a)
	if err != nil {
		t.Fatalf("prove with the ceremony's keys: %v", err)
	}
	vk, _, err := prover.LoadVerifyingKey(p("cer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zkml.Verify(vk, proof, pub); err != nil {
		t.Fatalf("proof under the ceremony key: %v", err)
	}
	// `zk prove` reads MLP model files only: the CNN keys are refused.
	if out, err := cmdRun("zk", "prove", "--keys", p("cer.json"), "--model", p("none.json")); err == nil || !strings.Contains(err.Error(), "CNN") {
		t.Fatalf("zk prove with ceremony cnn keys: %v\n%s", err, out)
	}
}

// randomConvModel draws a valid CNN of arch a.
func randomConvModel(t *testing.T, a model.ConvArch) *model.ConvModel {
	t.Helper()
	m, err := train.RandomConv(a, 4)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
