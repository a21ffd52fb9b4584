// Package contributor takes part in the chain's setup ceremonies
// (zkml/registry's ceremonies, zkml/ceremony's transcripts) from a node: it
// watches the committed state, and for every open ceremony phase its key has
// not contributed to yet it mixes in a fresh secret (crypto/rand, dropped
// once the contribution is made) and submits the contribution.
//
// Validators run it from their node (node's ceremony hook), so a ceremony
// collects one contribution per validator without anyone's attention. It
// runs outside consensus: goroutines and timers are fine here.
package contributor

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// Chain is what the contributor needs from a node.
type Chain interface {
	// Snapshot is the last committed state.
	Snapshot() (store.KV, int64, error)
	ChainID() string
	// Sequence is the account's next sequence, counting the mempool.
	Sequence(a chain.Address) uint64
	// Submit broadcasts a signed transaction and waits for its block; it
	// returns the result code (0: accepted) and log.
	Submit(ctx context.Context, tx []byte) (uint32, string, error)
}

// Logger receives one line per action.
type Logger func(msg string, keyvals ...any)

// Contributor contributes to ceremonies with one key.
type Contributor struct {
	chain Chain
	key   ed25519.PrivKey
	addr  chain.Address
	log   Logger
	// tried is the head each ceremony had when this contributor last
	// submitted to it: a contribution that lost the race to another one on
	// the same head is rebuilt on the new head, never resent.
	tried map[uint64][32]byte
	// Every is the polling interval (default 500 ms).
	Every time.Duration
}

// New returns a contributor for key on c.
func New(c Chain, key ed25519.PrivKey, log Logger) *Contributor {
	if log == nil {
		log = func(string, ...any) {}
	}
	return &Contributor{chain: c, key: key, addr: chain.AddressFromPubKey(key.PubKey().Bytes()), log: log,
		tried: map[uint64][32]byte{}, Every: 500 * time.Millisecond}
}

// Run polls until ctx ends.
func (c *Contributor) Run(ctx context.Context) {
	for {
		if _, err := c.Step(ctx); err != nil && ctx.Err() == nil {
			c.log("ceremony contribution failed", "err", err)
		}
		// Jitter keeps validators that see the same head from all building
		// on it at once (only one contribution per head can be accepted).
		wait := c.Every + time.Duration(rand.Int64N(int64(c.Every)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Step makes at most one contribution and reports whether it made one.
func (c *Contributor) Step(ctx context.Context) (bool, error) {
	kv, _, err := c.chain.Snapshot()
	if err != nil {
		return false, fmt.Errorf("state: %w", err)
	}
	for _, cer := range registry.OpenCeremonies(kv) {
		if contributed(cer, c.addr) {
			continue
		}
		d, err := registry.GetCeremonyData(kv, cer.ID)
		if err != nil {
			return false, err
		}
		head := sha256.Sum256(d.State)
		if c.tried[cer.ID] == head {
			continue
		}
		c.tried[cer.ID] = head
		t0 := time.Now()
		var next []byte
		if cer.Phase == registry.PhaseOne {
			next, err = ceremony.ContributePhase1(d.State, cer.Domain, len(cer.Phase1) == 0)
		} else {
			next, err = ceremony.ContributePhase2(d.State)
		}
		if err != nil {
			return false, fmt.Errorf("ceremony %d phase %d: %w", cer.ID, cer.Phase, err)
		}
		msg := &registry.MsgContribute{Ceremony: cer.ID, Phase: cer.Phase, State: next}
		fee := chain.DefaultParams().MinFee + msg.ExtraFee()
		tx, err := chain.SignTx(c.key, c.chain.ChainID(), c.chain.Sequence(c.addr), fee, msg, "")
		if err != nil {
			return false, err
		}
		code, log, err := c.chain.Submit(ctx, tx)
		if err != nil {
			return false, fmt.Errorf("submit contribution to ceremony %d: %w", cer.ID, err)
		}
		if code != 0 {
			// Most often another contribution reached the same head first.
			c.log("ceremony contribution not accepted", "ceremony", cer.ID, "phase", cer.Phase, "log", log)
			return false, nil
		}
		c.log("contributed to ceremony", "ceremony", cer.ID, "phase", cer.Phase, "bytes", len(next), "took", time.Since(t0).String())
		return true, nil
	}
	return false, nil
}

func contributed(c registry.Ceremony, a chain.Address) bool {
	list := c.Phase1
	if c.Phase == registry.PhaseTwo {
		list = c.Phase2
	}
	for _, k := range list {
		if k.Contributor == a {
			return true
		}
	}
	return false
}
