package chain_test

import (
	"testing"

	"github.com/tenun-chain/tenun/chain"
)

// Registering a blob charges the storage fee per byte to the fee collector
// and counts against the account's quota; an unpaid or over-quota
// registration is refused and changes nothing.
func TestBlobStorageFeeAndQuota(t *testing.T) {
	p := chain.DefaultParams()
	p.StorageFeePerByte = 3
	p.BlobQuotaBytes = 100
	e := newEnv(t, p, account{"alice", 1000}, account{"bob", 50})
	a := chain.BlobCID([]byte("a"))
	e.applyOK(e.tx("alice", 10, &chain.MsgRegisterBlob{CID: a, Size: 60}))
	if got := e.balance("alice"); got != 1000-10-180 {
		t.Fatalf("alice has %d after a 60-byte blob at 3/byte", got)
	}
	if got := chain.Balance(e.tree, chain.FeeCollector); got != 10+180 {
		t.Fatalf("fee collector has %d", got)
	}
	if used := chain.BlobBytesUsed(e.tree, addrOf("alice")); used != 60 {
		t.Fatalf("alice used %d bytes", used)
	}
	// 60 + 41 > 100: over the quota.
	e.mustReject(t, e.tx("alice", 10, &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("b")), Size: 41}), chain.ErrInvalidRequest)
	e.applyOK(e.tx("alice", 10, &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("b")), Size: 40}))
	// bob cannot pay 3*20 = 60 with 40 left after the fee.
	e.mustReject(t, e.tx("bob", 10, &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("c")), Size: 20}), chain.ErrInsufficientFunds)
	e.mustInvariants()
	if f, err := chain.StorageFee(chain.Params{StorageFeePerByte: 2}, ^uint64(0)); err == nil {
		t.Fatalf("overflowing fee %d accepted", f)
	}
}
