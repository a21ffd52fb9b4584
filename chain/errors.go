package chain

import (
	"errors"
	"fmt"
)

// Error is a rejection with a stable code, returned to clients in the ABCI
// result. Codes are part of the API: never renumber one.
type Error struct {
	Code uint32
	Name string
}

func (e *Error) Error() string { return e.Name }

// The rejection codes. 0 is success.
var (
	ErrDecode            = &Error{2, "malformed transaction"}
	ErrSignature         = &Error{3, "invalid signature"}
	ErrChainID           = &Error{4, "wrong chain id"}
	ErrSequence          = &Error{5, "wrong sequence"}
	ErrInsufficientFunds = &Error{6, "insufficient funds"}
	ErrOverflow          = &Error{7, "amount overflow"}
	ErrTxTooLarge        = &Error{8, "transaction too large"}
	ErrUnknownMsg        = &Error{9, "unknown message type"}
	ErrInvalidRequest    = &Error{10, "invalid request"}
	ErrFee               = &Error{11, "fee too low"}
	ErrNotFound          = &Error{12, "not found"}
	ErrUnauthorized      = &Error{13, "unauthorized"}
	ErrConflict          = &Error{14, "conflict"}
	ErrTooLate           = &Error{15, "too late"}
	ErrTooEarly          = &Error{16, "too early"}
	ErrInternal          = &Error{1, "internal error"}
)

// Wrap attaches a person-readable reason to a rejection code:
// Wrap(ErrSequence, "expected 4, got 7") prints "wrong sequence: expected 4, got 7".
func Wrap(code *Error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", code, fmt.Sprintf(format, args...))
}

// CodeOf returns the rejection code of err, ErrInternal's for an error that
// carries none.
func CodeOf(err error) uint32 {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrInternal.Code
}
