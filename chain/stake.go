package chain

import (
	"encoding/binary"
	"fmt"
)

// Stake is bonded per (account, pool). A pool names what the stake backs:
// "validator", "label", "compute", "subnet/3". Markets check an account's
// bonded stake in their pool and slash it, with a recorded reason, when the
// account cheats. Unbonded stake waits UnbondingBlocks before it is liquid,
// and stays slashable while it waits, so a cheat cannot unbond and run.
// A pool's tokens sit in the balance of its module address.

// Unbonding is stake on its way out of a pool.
type Unbonding struct {
	Owner    Address `json:"owner" cbor:"1,keyasint"`
	Pool     string  `json:"pool" cbor:"2,keyasint"`
	Amount   uint64  `json:"amount" cbor:"3,keyasint"`
	Maturity int64   `json:"maturity" cbor:"4,keyasint"` // height at which it is paid out
}

// SlashRecord is the permanent record of one slashing.
type SlashRecord struct {
	Account     Address `json:"account" cbor:"1,keyasint"`
	Pool        string  `json:"pool" cbor:"2,keyasint"`
	Amount      uint64  `json:"amount" cbor:"3,keyasint"`
	Reason      string  `json:"reason" cbor:"4,keyasint"`
	Height      int64   `json:"height" cbor:"5,keyasint"`
	Beneficiary Address `json:"beneficiary" cbor:"6,keyasint"` // zero: burned
}

const maxPoolLen = 48

var (
	prefixBond      = []byte("stake/bond/")
	prefixUnbonding = []byte("stake/unbonding/")
	prefixSlash     = []byte("stake/slash/")
	keySlashSeq     = []byte("stake/slashseq")
	keyUnbondSeq    = []byte("stake/unbondseq")
)

// StakePoolAddress holds a pool's bonded and unbonding tokens.
func StakePoolAddress(pool string) Address { return ModuleAddress("stake/" + pool) }

// The pool is length-prefixed so that "subnet" never shares a key prefix
// with "subnet/1".
func bondPrefix(pool string) []byte {
	return append(append(append([]byte{}, prefixBond...), byte(len(pool))), pool...)
}

func bondKey(pool string, a Address) []byte { return append(bondPrefix(pool), a[:]...) }

// ValidatePool checks a pool name: 1 to 48 of [a-z0-9_/-].
func ValidatePool(pool string) error {
	if len(pool) == 0 || len(pool) > maxPoolLen {
		return Wrap(ErrInvalidRequest, "pool name must be 1 to %d characters", maxPoolLen)
	}
	for _, c := range pool {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '/' || c == '-') {
			return Wrap(ErrInvalidRequest, "pool name %q: only a-z, 0-9, _, / and - are allowed", pool)
		}
	}
	return nil
}

// Bonded returns a's bonded stake in pool.
func Bonded(ctx *Context, a Address, pool string) uint64 { return GetUint64(ctx.KV, bondKey(pool, a)) }

// Bond moves amount from a's balance into pool.
func Bond(ctx *Context, a Address, pool string, amount uint64) error {
	if err := ValidatePool(pool); err != nil {
		return err
	}
	if amount == 0 {
		return Wrap(ErrInvalidRequest, "bond amount must be positive")
	}
	total, err := AddU64(Bonded(ctx, a, pool), amount)
	if err != nil {
		return err
	}
	if err := move(ctx, a, StakePoolAddress(pool), amount); err != nil {
		return err
	}
	SetUint64(ctx.module("stake/"), bondKey(pool, a), total)
	ctx.Emit("bond", "account", a.String(), "pool", pool, "amount", U64(amount))
	return nil
}

// Unbond starts the unbonding of amount of a's stake in pool.
func Unbond(ctx *Context, a Address, pool string, amount uint64) error {
	have := Bonded(ctx, a, pool)
	if amount == 0 || amount > have {
		return Wrap(ErrInsufficientFunds, "unbond %d from pool %s: %d bonded", amount, pool, have)
	}
	SetUint64(ctx.module("stake/"), bondKey(pool, a), have-amount)
	seq := NextSeq(ctx.module("stake/"), keyUnbondSeq)
	u := Unbonding{Owner: a, Pool: pool, Amount: amount, Maturity: ctx.Block.Height + ctx.Params.UnbondingBlocks}
	Put(ctx.module("stake/"), unbondingKey(u.Maturity, seq), u)
	ctx.Emit("unbond", "account", a.String(), "pool", pool, "amount", U64(amount), "maturity", I64(u.Maturity))
	return nil
}

// Keys sort by maturity height, then by creation, so end-block pays the
// matured ones by walking a prefix in order.
func unbondingKey(maturity int64, seq uint64) []byte {
	k := append([]byte{}, prefixUnbonding...)
	k = binary.BigEndian.AppendUint64(k, uint64(maturity))
	return binary.BigEndian.AppendUint64(k, seq)
}

// matureUnbondings pays out every unbonding whose maturity has come.
func matureUnbondings(ctx *Context) error {
	type entry struct {
		key []byte
		u   Unbonding
	}
	var due []entry
	ctx.KV.Iterate(prefixUnbonding, func(k, v []byte) bool {
		var u Unbonding
		mustUnmarshal(v, &u)
		if u.Maturity > ctx.Block.Height {
			return false
		}
		due = append(due, entry{append([]byte{}, k...), u})
		return true
	})
	for _, e := range due {
		if err := move(ctx, StakePoolAddress(e.u.Pool), e.u.Owner, e.u.Amount); err != nil {
			return fmt.Errorf("pay matured unbonding: %w", err)
		}
		ctx.module("stake/").Delete(e.key)
		ctx.Emit("unbond_complete", "account", e.u.Owner.String(), "pool", e.u.Pool, "amount", U64(e.u.Amount))
	}
	return nil
}

// Unbondings lists a's pending unbondings.
func Unbondings(ctx *Context, a Address) []Unbonding {
	var out []Unbonding
	ctx.KV.Iterate(prefixUnbonding, func(_, v []byte) bool {
		var u Unbonding
		mustUnmarshal(v, &u)
		if u.Owner == a {
			out = append(out, u)
		}
		return true
	})
	return out
}

// Slash takes up to amount of a's stake in pool, bonded first and then
// unbonding, gives it to beneficiary (or burns it when beneficiary is zero),
// records why, and returns how much it took.
func Slash(ctx *Context, a Address, pool, reason string, amount uint64, beneficiary Address) (uint64, error) {
	if reason == "" {
		return 0, Wrap(ErrInvalidRequest, "a slash needs a reason")
	}
	taken := min(amount, Bonded(ctx, a, pool))
	SetUint64(ctx.module("stake/"), bondKey(pool, a), Bonded(ctx, a, pool)-taken)
	if taken < amount {
		type entry struct {
			key []byte
			u   Unbonding
		}
		var mine []entry
		ctx.KV.Iterate(prefixUnbonding, func(k, v []byte) bool {
			var u Unbonding
			mustUnmarshal(v, &u)
			if u.Owner == a && u.Pool == pool {
				mine = append(mine, entry{append([]byte{}, k...), u})
			}
			return true
		})
		for _, e := range mine {
			if taken == amount {
				break
			}
			cut := min(amount-taken, e.u.Amount)
			taken += cut
			e.u.Amount -= cut
			if e.u.Amount == 0 {
				ctx.module("stake/").Delete(e.key)
			} else {
				Put(ctx.module("stake/"), e.key, e.u)
			}
		}
	}
	if taken == 0 {
		return 0, nil
	}
	poolAddr := StakePoolAddress(pool)
	if beneficiary.IsZero() {
		if err := Burn(ctx, poolAddr, taken); err != nil {
			return 0, err
		}
	} else if err := move(ctx, poolAddr, beneficiary, taken); err != nil {
		return 0, err
	}
	seq := NextSeq(ctx.module("stake/"), keySlashSeq)
	rec := SlashRecord{Account: a, Pool: pool, Amount: taken, Reason: reason, Height: ctx.Block.Height, Beneficiary: beneficiary}
	Put(ctx.module("stake/"), binary.BigEndian.AppendUint64(append([]byte{}, prefixSlash...), seq), rec)
	ctx.Emit("slash", "account", a.String(), "pool", pool, "amount", U64(taken), "reason", reason)
	return taken, nil
}

// Slashes lists the slash records of a (every account when a is zero).
func Slashes(ctx *Context, a Address) []SlashRecord {
	var out []SlashRecord
	ctx.KV.Iterate(prefixSlash, func(_, v []byte) bool {
		var r SlashRecord
		mustUnmarshal(v, &r)
		if a.IsZero() || r.Account == a {
			out = append(out, r)
		}
		return true
	})
	return out
}

// Stake is one bonded position, for queries.
type Stake struct {
	Account Address `json:"account"`
	Pool    string  `json:"pool"`
	Amount  uint64  `json:"amount"`
}

// PoolStakes lists the bonded stakes in pool, in address order.
func PoolStakes(ctx *Context, pool string) []Stake {
	var out []Stake
	p := bondPrefix(pool)
	ctx.KV.Iterate(p, func(k, v []byte) bool {
		var a Address
		copy(a[:], k[len(p):])
		out = append(out, Stake{Account: a, Pool: pool, Amount: binary.BigEndian.Uint64(v)})
		return true
	})
	return out
}

// AccountStakes lists a's bonded stakes across all pools.
func AccountStakes(ctx *Context, a Address) []Stake {
	var out []Stake
	ctx.KV.Iterate(prefixBond, func(k, v []byte) bool {
		rest := k[len(prefixBond):]
		n := int(rest[0])
		var owner Address
		copy(owner[:], rest[1+n:])
		if owner == a {
			out = append(out, Stake{Account: a, Pool: string(rest[1 : 1+n]), Amount: binary.BigEndian.Uint64(v)})
		}
		return true
	})
	return out
}
