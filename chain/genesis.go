package chain

import (
	"encoding/json"
	"fmt"
)

// Genesis is the app state of the chain's first block: parameters, funded
// accounts, initial stake, and each domain's own section.
type Genesis struct {
	Params   Params                     `json:"params"`
	Accounts []GenesisAccount           `json:"accounts"`
	Stakes   []GenesisStake             `json:"stakes,omitempty"`
	Domains  map[string]json.RawMessage `json:"domains,omitempty"`
}

// GenesisAccount funds one account.
type GenesisAccount struct {
	Address Address `json:"address"`
	Balance uint64  `json:"balance"`
}

// GenesisStake bonds part of a genesis account's balance into a pool.
type GenesisStake struct {
	Address Address `json:"address"`
	Pool    string  `json:"pool"`
	Amount  uint64  `json:"amount"`
}

var keyParams = []byte("params")

// LoadParams reads the chain parameters from state.
func LoadParams(kv interface{ Get([]byte) []byte }) Params {
	var p Params
	if !Get(kv, keyParams, &p) {
		return DefaultParams()
	}
	return p
}

// InitGenesis writes the genesis state. Domains read their sections in the
// router's order, so the result never depends on map order.
func (a *App) InitGenesis(ctx *Context, g Genesis) error {
	if g.Params.MaxTxBytes <= 0 || g.Params.UnbondingBlocks < 0 || g.Params.MaxBlobBytes == 0 {
		return fmt.Errorf("genesis params out of range: %+v", g.Params)
	}
	Put(ctx.KV, keyParams, g.Params)
	ctx.Params = g.Params
	for _, acc := range g.Accounts {
		if err := Mint(ctx, acc.Address, acc.Balance); err != nil {
			return fmt.Errorf("genesis account %s: %w", acc.Address, err)
		}
	}
	for _, s := range g.Stakes {
		if err := Bond(ctx, s.Address, s.Pool, s.Amount); err != nil {
			return fmt.Errorf("genesis stake %s in %s: %w", s.Address, s.Pool, err)
		}
	}
	for _, d := range a.router.Domains() {
		gd, ok := d.(GenesisDomain)
		if !ok {
			continue
		}
		if err := gd.InitGenesis(ctx, g.Domains[d.Name()]); err != nil {
			return fmt.Errorf("genesis of %s: %w", d.Name(), err)
		}
	}
	return nil
}
