package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// A setup ceremony on four validators in four processes: a user opens it,
// each validator's node contributes on its own (the ceremony hook), an
// outside contributor adds a fifth contribution to each phase, the chain
// seals it and derives the verifying key; every node agrees on the state; a
// proof from the keys derived off the public transcript is accepted, and an
// uploaded single-party key for the same spec is refused.
func TestCeremonyFourValidatorsAndAnOutsider(t *testing.T) {
	needBinary(t)
	began := time.Now()
	dir := workDir(t)
	base := freeBase(t, 4)
	runTenun(t, "testnet", "--validators", "4", "--dir", filepath.Join(dir, "net"),
		"--base-port", strconv.Itoa(base), "--block-time", "200ms")
	nodes := make([]*tnode, 4)
	for i := range nodes {
		home := filepath.Join(dir, "net", fmt.Sprintf("node%d", i))
		nodes[i] = newNode(t, dir, fmt.Sprintf("node%d", i), home, base+10*i, "start", "--home", home)
		nodes[i].p.start()
	}
	waitHeight(t, 60*time.Second, 2, nodes...)
	n0 := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// The smallest MLP the circuits take: 903 constraints, domain 1024.
	a := model.Arch{Sizes: []int{2, 2, 2}, InBits: 2, Shifts: []int{1}}
	a.BiasBits = []int{model.DefaultBiasBits(2, 3), model.DefaultBiasBits(2, 255)}
	ra, err := registry.ArchOf(a)
	if err != nil {
		t.Fatal(err)
	}
	spec := registry.Spec{Kind: registry.KindInference, Arch: ra}
	if _, err := n0.c.Submit(ctx, devKey(0), &registry.MsgOpenCeremony{Spec: spec, Quorum: 5, PhaseBlocks: 5}, client.Options{}); err != nil {
		t.Fatal(err)
	}

	// The outsider contributes once to each phase, through node1's API.
	outsider := devKey(4)
	for phase := uint32(1); phase <= 2; phase++ {
		waitFor(t, 5*time.Minute, fmt.Sprintf("the outsider's phase-%d contribution", phase), nodes, func() error {
			return outsiderStep(ctx, nodes[1].c, outsider, phase)
		})
	}
	var c registry.Ceremony
	waitFor(t, 5*time.Minute, "the seal", nodes, func() error {
		if err := n0.c.Query(ctx, "zkml", "ceremony/1", nil, &c); err != nil {
			return err
		}
		if c.Phase != registry.PhaseSealed {
			return fmt.Errorf("phase %d, %d+%d contributions %s", c.Phase, len(c.Phase1), len(c.Phase2), c.Failure)
		}
		return nil
	})
	for i, list := range [][]registry.Contribution{c.Phase1, c.Phase2} {
		seen := map[chain.Address]bool{}
		for _, k := range list {
			seen[k.Contributor] = true
		}
		if len(seen) < 5 || !seen[devAddr(4)] {
			t.Fatalf("phase %d: %d distinct contributors %+v, want the 4 validators and the outsider", i+1, len(seen), list)
		}
	}
	t.Logf("ceremony sealed with %d+%d contributions after %s", len(c.Phase1), len(c.Phase2), time.Since(began).Round(time.Millisecond))
	checkSameState(t, n0, nodes...)

	// The CLI shows it, as JSON too.
	out := runTenun(t, "zk", "ceremony", "status", "1", "--node", nodes[2].api, "-o", "json")
	var shown registry.Ceremony
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.Circuit != c.Circuit {
		t.Fatalf("tenun zk ceremony status: %v\n%s", err, out)
	}

	// A prover derives the keys from the transcript and proves; the chain accepts.
	var d registry.CeremonyData
	if err := n0.c.Query(ctx, "zkml", "ceremony-data/1", nil, &d); err != nil {
		t.Fatal(err)
	}
	r, _, err := registry.CompileSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := ceremony.Keys(d.Commons, c.Domain, d.Evals, d.State, c.Beacon2[:])
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.RandomModel(a, 5)
	if err != nil {
		t.Fatal(err)
	}
	comm, _ := m.ComputeCommitment()
	if _, err := n0.c.Submit(ctx, devKey(1), &registry.MsgCommitModel{Commitment: comm, Arch: ra, Name: "micro"}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	x := []int{3, 1}
	asg, cls, err := circuit.InferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	keys := &prover.Keys{CCS: r, PK: pk, VK: vk}
	proof, _, err := keys.Prove(asg)
	if err != nil {
		t.Fatal(err)
	}
	inf := &registry.InferenceClaim{Input: []uint32{3, 1}, Class: uint32(cls)}
	if _, err := nodes[3].c.Submit(ctx, devKey(1), &registry.MsgSubmitProof{Circuit: c.Circuit, Model: 1, Inference: inf, Proof: proof}, client.Options{}); err != nil {
		t.Fatalf("ceremony-key proof refused: %v", err)
	}
	// A single-party key for the same spec is refused now.
	single, err := prover.Setup(prover.Spec{Kind: prover.KindInference, Arch: a}, r)
	if err != nil {
		t.Fatal(err)
	}
	svk, _ := single.VerifyingKeyBytes()
	_, err = n0.c.Submit(ctx, devKey(2), &registry.MsgRegisterCircuit{Spec: spec, VerifyingKey: svk, Gnark: "test"}, client.Options{})
	var txErr *client.TxError
	if !errors.As(err, &txErr) {
		t.Fatalf("single-party key after the seal: %v, want a rejection", err)
	}
	checkSameState(t, n0, nodes...)
	t.Logf("total %s", time.Since(began).Round(time.Millisecond))
}

// outsiderStep contributes to phase of ceremony 1 unless key already did;
// it returns nil once key's contribution is in, an error to be retried
// otherwise (the phase has not begun, or a validator's contribution reached
// the same head first).
func outsiderStep(ctx context.Context, c *client.Client, key ed25519.PrivKey, phase uint32) error {
	var d registry.CeremonyData
	if err := c.Query(ctx, "zkml", "ceremony-data/1", nil, &d); err != nil {
		return err
	}
	cer := d.Ceremony
	me := chain.AddressFromPubKey(key.PubKey().Bytes())
	list := cer.Phase1
	if phase == registry.PhaseTwo {
		list = cer.Phase2
	}
	for _, k := range list {
		if k.Contributor == me {
			return nil
		}
	}
	if cer.Phase != phase {
		return fmt.Errorf("ceremony in phase %d", cer.Phase)
	}
	var next []byte
	var err error
	if phase == registry.PhaseOne {
		next, err = ceremony.ContributePhase1(d.State, cer.Domain, len(cer.Phase1) == 0)
	} else {
		next, err = ceremony.ContributePhase2(d.State)
	}
	if err != nil {
		return err
	}
	if _, err := c.Submit(ctx, key, &registry.MsgContribute{Ceremony: 1, Phase: phase, State: next}, client.Options{}); err != nil {
		return err
	}
	return errors.New("submitted; checking it is in")
}
