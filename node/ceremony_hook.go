package node

import (
	"context"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/privval"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/zkml/contributor"
)

// The ceremony hook: a validator node contributes to every open zkML setup
// ceremony with its validator key (the key of its funded genesis account),
// so ceremonies gather one contribution per validator unattended. It runs
// beside consensus, reading committed state and submitting through the
// node's own mempool. AppConfig.NoCeremonyHook turns it off.

// hookChain adapts the node to contributor.Chain.
type hookChain struct{ n *Node }

func (h hookChain) Snapshot() (store.KV, int64, error) { return h.n.ABCI.Snapshot() }
func (h hookChain) ChainID() string                    { return h.n.ChainID() }
func (h hookChain) Sequence(a chain.Address) uint64    { return h.n.ABCI.Sequence(a) }
func (h hookChain) Submit(ctx context.Context, tx []byte) (uint32, string, error) {
	res, err := h.n.Submit(ctx, tx, true)
	return res.Code, res.Log, err
}

// startCeremonyHook starts the contributor with the validator key and
// returns its stop function (nil when the hook is off or the key is not
// ed25519).
func (n *Node) startCeremonyHook(pv *privval.FilePV, logger cmtlog.Logger) context.CancelFunc {
	if n.Config.NoCeremonyHook {
		return nil
	}
	key, ok := pv.Key.PrivKey.(ed25519.PrivKey)
	if !ok {
		return nil
	}
	log := logger.With("module", "ceremony")
	c := contributor.New(hookChain{n}, key, func(msg string, kv ...any) { log.Info(msg, kv...) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	return func() { cancel(); <-done }
}
