package chain

// An escrow holds funds a market has locked for a purpose (a labeling job's
// budget, a compute job's price). Its funds sit in the balance of its own
// module address; the record says who may get a refund.
type Escrow struct {
	Owner  Address `json:"owner" cbor:"1,keyasint"`
	Locked uint64  `json:"locked" cbor:"2,keyasint"` // total ever locked
}

func escrowKey(id string) []byte { return []byte("escrow/" + id) }

// EscrowAddress is the account that holds an escrow's funds.
func EscrowAddress(id string) Address { return ModuleAddress("escrow/" + id) }

// EscrowBalance is what an escrow still holds.
func EscrowBalance(ctx *Context, id string) uint64 { return Balance(ctx.KV, EscrowAddress(id)) }

// Lock moves amount from owner into the escrow id, creating it if needed.
// Only its first owner may add to an escrow.
func Lock(ctx *Context, owner Address, id string, amount uint64) error {
	var e Escrow
	if Get(ctx.KV, escrowKey(id), &e) && e.Owner != owner {
		return Wrap(ErrUnauthorized, "escrow %s belongs to %s", id, e.Owner)
	}
	e.Owner = owner
	total, err := AddU64(e.Locked, amount)
	if err != nil {
		return err
	}
	e.Locked = total
	if err := move(ctx, owner, EscrowAddress(id), amount); err != nil {
		return err
	}
	Put(ctx.module("escrow/"), escrowKey(id), e)
	ctx.Emit("escrow_lock", "escrow", id, "owner", owner.String(), "amount", U64(amount))
	return nil
}

// Release pays amount out of escrow id to a recipient.
func Release(ctx *Context, id string, to Address, amount uint64) error {
	if err := move(ctx, EscrowAddress(id), to, amount); err != nil {
		return Wrap(ErrInsufficientFunds, "escrow %s: %v", id, err)
	}
	ctx.Emit("escrow_release", "escrow", id, "recipient", to.String(), "amount", U64(amount))
	return nil
}

// Refund returns whatever escrow id still holds to its owner and returns the amount.
func Refund(ctx *Context, id string) (uint64, error) {
	var e Escrow
	if !Get(ctx.KV, escrowKey(id), &e) {
		return 0, Wrap(ErrNotFound, "escrow %s", id)
	}
	left := EscrowBalance(ctx, id)
	if err := move(ctx, EscrowAddress(id), e.Owner, left); err != nil {
		return 0, err
	}
	ctx.Emit("escrow_refund", "escrow", id, "owner", e.Owner.String(), "amount", U64(left))
	return left, nil
}
