package chain

import (
	"github.com/tenun-chain/tenun/chain/store"
)

// MsgSend moves tokens between accounts.
type MsgSend struct {
	To     Address `json:"to" cbor:"1,keyasint"`
	Amount uint64  `json:"amount" cbor:"2,keyasint"`
}

func (*MsgSend) Type() string { return "bank/send" }
func (m *MsgSend) ValidateBasic() error {
	if m.Amount == 0 {
		return Wrap(ErrInvalidRequest, "amount must be positive")
	}
	if m.To.IsZero() {
		return Wrap(ErrInvalidRequest, "recipient is the zero address")
	}
	return nil
}

// MsgBond bonds the sender's tokens into a stake pool.
type MsgBond struct {
	Pool   string `json:"pool" cbor:"1,keyasint"`
	Amount uint64 `json:"amount" cbor:"2,keyasint"`
}

func (*MsgBond) Type() string { return "stake/bond" }
func (m *MsgBond) ValidateBasic() error {
	if m.Amount == 0 {
		return Wrap(ErrInvalidRequest, "amount must be positive")
	}
	return ValidatePool(m.Pool)
}

// MsgUnbond starts unbonding the sender's stake from a pool.
type MsgUnbond struct {
	Pool   string `json:"pool" cbor:"1,keyasint"`
	Amount uint64 `json:"amount" cbor:"2,keyasint"`
}

func (*MsgUnbond) Type() string { return "stake/unbond" }
func (m *MsgUnbond) ValidateBasic() error {
	if m.Amount == 0 {
		return Wrap(ErrInvalidRequest, "amount must be positive")
	}
	return ValidatePool(m.Pool)
}

// MsgRegisterBlob records a blob the sender uploaded to a node.
type MsgRegisterBlob struct {
	CID  string `json:"cid" cbor:"1,keyasint"`
	Size uint64 `json:"size" cbor:"2,keyasint"`
}

func (*MsgRegisterBlob) Type() string { return "blob/register" }
func (m *MsgRegisterBlob) ValidateBasic() error {
	_, err := ParseBlobCID(m.CID)
	return err
}

// Core is the domain of the chain's own messages: bank, stake and blobs.
type Core struct{}

func (Core) Name() string { return "core" }

func (Core) Register(r *Router) {
	Handle(r, func(ctx *Context, m *MsgSend) error { return Send(ctx, ctx.Sender, m.To, m.Amount) })
	Handle(r, func(ctx *Context, m *MsgBond) error { return Bond(ctx, ctx.Sender, m.Pool, m.Amount) })
	Handle(r, func(ctx *Context, m *MsgUnbond) error { return Unbond(ctx, ctx.Sender, m.Pool, m.Amount) })
	Handle(r, func(ctx *Context, m *MsgRegisterBlob) error {
		if m.Size == 0 || m.Size > ctx.Params.MaxBlobBytes {
			return Wrap(ErrInvalidRequest, "blob size %d: must be 1 to %d bytes", m.Size, ctx.Params.MaxBlobBytes)
		}
		if old, ok := GetBlob(ctx, m.CID); ok {
			if old.Size != m.Size {
				return Wrap(ErrConflict, "blob %s is registered with size %d", m.CID, old.Size)
			}
			return nil // registering known content again is harmless
		}
		return registerPaidBlob(ctx, m.CID, m.Size)
	})
}

// ValidatorPool is the stake pool that backs validators.
const ValidatorPool = "validator"

// DoubleSignSlashPercent of a validator's stake is slashed (burned) for
// each double-sign CometBFT reports.
const DoubleSignSlashPercent = 5

func (Core) EndBlock(ctx *Context) error {
	for _, v := range ctx.Block.Misbehaving {
		amount := MulDiv(Bonded(ctx, v, ValidatorPool), DoubleSignSlashPercent, 100)
		if _, err := Slash(ctx, v, ValidatorPool, "double-sign", amount, Address{}); err != nil {
			return err
		}
	}
	return matureUnbondings(ctx)
}

// AccountInfo is what the API shows of an account.
type AccountInfo struct {
	Address    Address       `json:"address"`
	Balance    uint64        `json:"balance"`
	Sequence   uint64        `json:"sequence"`
	Stakes     []Stake       `json:"stakes"`
	Unbondings []Unbonding   `json:"unbondings"`
	Slashes    []SlashRecord `json:"slashes"`
}

// Account gathers an account's balance, sequence and stake.
func Account(kv store.KV, a Address) AccountInfo {
	ctx := &Context{KV: kv}
	// Empty lists, not nulls, so API clients can iterate without checks.
	return AccountInfo{
		Address:    a,
		Balance:    Balance(kv, a),
		Sequence:   Sequence(kv, a),
		Stakes:     append([]Stake{}, AccountStakes(ctx, a)...),
		Unbondings: append([]Unbonding{}, Unbondings(ctx, a)...),
		Slashes:    append([]SlashRecord{}, Slashes(ctx, a)...),
	}
}

// Query answers core queries: supply, escrow/<id>, pool/<name>, slashes, blob/<cid>.
func (Core) Query(kv store.KV, path string, _ map[string]string) (any, error) {
	ctx := &Context{KV: kv}
	switch {
	case path == "supply":
		return map[string]uint64{"supply": Supply(kv)}, nil
	case path == "params":
		return LoadParams(kv), nil
	case path == "slashes":
		return Slashes(ctx, Address{}), nil
	case len(path) > 7 && path[:7] == "escrow/":
		id := path[7:]
		var e Escrow
		if !Get(kv, escrowKey(id), &e) {
			return nil, Wrap(ErrNotFound, "escrow %s", id)
		}
		return map[string]any{"id": id, "owner": e.Owner, "locked": e.Locked, "balance": EscrowBalance(ctx, id)}, nil
	case len(path) > 5 && path[:5] == "pool/":
		return PoolStakes(ctx, path[5:]), nil
	case len(path) > 5 && path[:5] == "blob/":
		r, ok := GetBlob(ctx, path[5:])
		if !ok {
			return nil, Wrap(ErrNotFound, "blob %s", path[5:])
		}
		return r, nil
	}
	return nil, Wrap(ErrNotFound, "no core query %q", path)
}
