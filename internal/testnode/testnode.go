// Package testnode starts real single-validator Tenun nodes (CometBFT
// in-process, fast blocks, loopback ports) for tests of markets and agents.
package testnode

import (
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/node"
)

// Net is a running test node with a client and funded dev keys.
type Net struct {
	Node   *node.Node
	Client *client.Client
	Keys   []ed25519.PrivKey // alice, bob, carol, ... each with node.DevAccountBalance
}

// FreeBasePort finds a block of 3 free loopback ports (P2P, RPC, API).
func FreeBasePort(t testing.TB) int {
	p, err := node.FreeBasePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Start runs a fresh single-validator chain in a temp dir with devAccounts
// funded dev keys and stops it when the test ends.
func Start(t testing.TB, devAccounts int) *Net {
	t.Helper()
	n, err := node.StartFresh(t.TempDir(), node.InitOptions{
		ChainID: "tenun-test", DevAccounts: devAccounts,
		BasePort: FreeBasePort(t), BlockTime: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	net := &Net{Node: n, Client: client.New(n.APIAddr())}
	for i := 0; i < devAccounts; i++ {
		net.Keys = append(net.Keys, keys.DevPrivKey(i))
	}
	return net
}

// Addr is the address of dev key i.
func (n *Net) Addr(i int) chain.Address {
	return chain.AddressFromPubKey(n.Keys[i].PubKey().Bytes())
}
