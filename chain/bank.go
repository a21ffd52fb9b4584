package chain

import (
	"encoding/binary"
	"math/bits"

	"github.com/tenun-chain/tenun/chain/store"
)

// The bank keeps one balance per address in the native token and the total
// supply. Every other holding (escrows, stake pools, the fee collector) is a
// balance of a module address, so the supply invariant is one sum:
// total supply == sum of all balances.
var (
	prefixBalance = []byte("bank/bal/")
	keySupply     = []byte("bank/supply")
)

// FeeCollector receives transaction fees.
var FeeCollector = ModuleAddress("fee_collector")

func balanceKey(a Address) []byte { return append(append([]byte{}, prefixBalance...), a[:]...) }

// GetUint64 reads a counter or amount stored as 8 big-endian bytes; absent
// (or not 8 bytes) reads as 0. Every domain stores its counters this way.
func GetUint64(kv store.KV, key []byte) uint64 {
	v := kv.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// SetUint64 writes n as 8 big-endian bytes, deleting the key for 0 so that
// zero and absent are one state.
func SetUint64(kv store.KV, key []byte, n uint64) {
	if n == 0 {
		kv.Delete(key)
		return
	}
	kv.Set(key, Uint64Bytes(n))
}

// NextSeq increments the counter at key and returns its new value: the next
// id of a domain's records (1 for the first).
func NextSeq(kv store.KV, key []byte) uint64 {
	n := GetUint64(kv, key) + 1
	SetUint64(kv, key, n)
	return n
}

// Uint64Bytes is n in 8 big-endian bytes: the key part that makes ids and
// heights sort numerically.
func Uint64Bytes(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// Balance returns a's balance in utnn.
func Balance(kv store.KV, a Address) uint64 { return GetUint64(kv, balanceKey(a)) }

// Supply returns the total supply in utnn.
func Supply(kv store.KV) uint64 { return GetUint64(kv, keySupply) }

// AddU64 adds with an overflow check.
func AddU64(a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, Wrap(ErrOverflow, "%d + %d", a, b)
	}
	return s, nil
}

// MulDiv returns a*b/c rounded down, exact for all uint64 inputs whose result
// fits, for pro-rata splits without overflow.
func MulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		panic("chain: MulDiv overflow")
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// Send moves amount from one account to another.
func Send(ctx *Context, from, to Address, amount uint64) error {
	if err := move(ctx, from, to, amount); err != nil {
		return err
	}
	ctx.Emit("transfer", "sender", from.String(), "recipient", to.String(), "amount", U64(amount))
	return nil
}

// move is the one place balances change hands; it writes through the bank's
// own store, whichever domain asked.
func move(ctx *Context, from, to Address, amount uint64) error {
	kv := ctx.module("bank/")
	if amount == 0 {
		return nil
	}
	fb := Balance(kv, from)
	if fb < amount {
		return Wrap(ErrInsufficientFunds, "%s has %d%s, needs %d%s", from, fb, Denom, amount, Denom)
	}
	if from == to {
		// Checked after the balance: a send to oneself of more than one
		// holds must fail like any other.
		return nil
	}
	tb, err := AddU64(Balance(kv, to), amount)
	if err != nil {
		return err
	}
	SetUint64(kv, balanceKey(from), fb-amount)
	SetUint64(kv, balanceKey(to), tb)
	return nil
}

// Mint creates amount new tokens in to's account (genesis, subnet emission).
func Mint(ctx *Context, to Address, amount uint64) error {
	supply, err := AddU64(Supply(ctx.KV), amount)
	if err != nil {
		return err
	}
	bal, err := AddU64(Balance(ctx.KV, to), amount)
	if err != nil {
		return err
	}
	SetUint64(ctx.module("bank/"), keySupply, supply)
	SetUint64(ctx.module("bank/"), balanceKey(to), bal)
	ctx.Emit("mint", "recipient", to.String(), "amount", U64(amount))
	return nil
}

// Burn destroys amount from an account's balance (slashed stake with no beneficiary).
func Burn(ctx *Context, from Address, amount uint64) error {
	fb := Balance(ctx.KV, from)
	if fb < amount {
		return Wrap(ErrInsufficientFunds, "burn %d from %s with %d", amount, from, fb)
	}
	SetUint64(ctx.module("bank/"), balanceKey(from), fb-amount)
	SetUint64(ctx.module("bank/"), keySupply, Supply(ctx.KV)-amount)
	ctx.Emit("burn", "account", from.String(), "amount", U64(amount))
	return nil
}

// SumBalances adds every balance in the state: equal to Supply when the
// invariant holds. Tests and the invariant check use it.
func SumBalances(kv store.KV) (uint64, error) {
	var sum uint64
	var err error
	kv.Iterate(prefixBalance, func(_, v []byte) bool {
		sum, err = AddU64(sum, binary.BigEndian.Uint64(v))
		return err == nil
	})
	return sum, err
}

// Balances lists every account with a balance, in address order.
func Balances(kv store.KV, fn func(a Address, amount uint64) bool) {
	kv.Iterate(prefixBalance, func(k, v []byte) bool {
		var a Address
		copy(a[:], k[len(prefixBalance):])
		return fn(a, binary.BigEndian.Uint64(v))
	})
}
