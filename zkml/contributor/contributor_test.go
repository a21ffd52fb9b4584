package contributor_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
	"github.com/tenun-chain/tenun/zkml/contributor"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// nodeChain is contributor.Chain over a node in this process.
type nodeChain struct{ n *node.Node }

func (c nodeChain) Snapshot() (store.KV, int64, error) { return c.n.ABCI.Snapshot() }
func (c nodeChain) ChainID() string                    { return c.n.ChainID() }
func (c nodeChain) Sequence(a chain.Address) uint64    { return c.n.ABCI.Sequence(a) }
func (c nodeChain) Submit(ctx context.Context, tx []byte) (uint32, string, error) {
	r, err := c.n.Submit(ctx, tx, true)
	return r.Code, r.Log, err
}

// TestValidatorHookContributes: on a real node, a ceremony opened by a
// user is contributed to by the validator's hook without being asked, and
// by an outside contributor; it seals with both in each phase.
func TestValidatorHookContributes(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := model.Arch{Sizes: []int{2, 2, 2}, InBits: 2, Shifts: []int{1}}
	a.BiasBits = []int{model.DefaultBiasBits(2, 3), model.DefaultBiasBits(2, 255)}
	ra, err := registry.ArchOf(a)
	if err != nil {
		t.Fatal(err)
	}
	open := &registry.MsgOpenCeremony{Spec: registry.Spec{Kind: registry.KindInference, Arch: ra}, Quorum: 2, PhaseBlocks: 2}
	if _, err := net.Client.Submit(ctx, net.Keys[0], open, client.Options{}); err != nil {
		t.Fatal(err)
	}
	outsider := contributor.New(nodeChain{net.Node}, net.Keys[1], func(msg string, kv ...any) { t.Log(append([]any{msg}, kv...)...) })
	outsider.Every = 100 * time.Millisecond
	go outsider.Run(ctx)

	var c registry.Ceremony
	for {
		if err := net.Client.Query(ctx, "zkml", "ceremony/1", nil, &c); err != nil {
			t.Fatal(err)
		}
		if c.Phase >= registry.PhaseSealed {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ceremony not sealed: %+v", c)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if c.Phase != registry.PhaseSealed {
		t.Fatalf("ceremony failed: %s", c.Failure)
	}
	validator := validatorAddr(t, net)
	for i, phase := range [][]registry.Contribution{c.Phase1, c.Phase2} {
		seen := map[chain.Address]bool{}
		for _, k := range phase {
			seen[k.Contributor] = true
		}
		if !seen[validator] || !seen[net.Addr(1)] {
			t.Fatalf("phase %d contributors %+v: want the validator %s and the outsider %s", i+1, phase, validator, net.Addr(1))
		}
	}
	var circ registry.Circuit
	if err := net.Client.Query(ctx, "zkml", "circuit/"+c.Circuit.String(), nil, &circ); err != nil {
		t.Fatal(err)
	}
	if circ.Ceremony != 1 || circ.Trust != registry.TrustCeremony {
		t.Fatalf("sealed circuit %+v", circ)
	}
}

// validatorAddr is the account of the node's validator key.
func validatorAddr(t *testing.T, net *testnode.Net) chain.Address {
	t.Helper()
	vals, err := net.Node.RPC.Validators(context.Background(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return chain.AddressFromBytes(vals.Validators[0].Address)
}
