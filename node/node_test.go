package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

// A transfer submitted over the API is committed by CometBFT and queryable.
func TestTransferOverAPI(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice, bob := net.Addr(0), net.Addr(1)

	res, err := net.Client.Submit(ctx, net.Keys[0], &chain.MsgSend{To: bob, Amount: 1234}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Height == 0 {
		t.Fatalf("no height in %+v", res)
	}
	if err := net.Client.WaitForHeight(ctx, res.Height); err != nil {
		t.Fatal(err)
	}
	bal, err := net.Client.Balance(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if bal != node.DevAccountBalance+1234 {
		t.Fatalf("bob has %d", bal)
	}
	bal, _ = net.Client.Balance(ctx, alice)
	if want := node.DevAccountBalance - 1234 - chain.DefaultParams().MinFee; bal != want {
		t.Fatalf("alice has %d, want %d", bal, want)
	}
	info, err := net.Client.Tx(ctx, res.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != "bank/send" || info.Sender != alice || info.Code != 0 {
		t.Fatalf("tx info %+v", info)
	}
	blk, err := net.Client.Block(ctx, res.Height)
	if err != nil || len(blk.Txs) != 1 || blk.Txs[0] != res.Hash {
		t.Fatalf("block %+v err %v", blk, err)
	}

	// A rejected transaction gets a code and a readable message.
	_, err = net.Client.Submit(ctx, net.Keys[1], &chain.MsgSend{To: alice, Amount: 10 * node.DevAccountBalance}, client.Options{})
	var txErr *client.TxError
	if !asTxErr(err, &txErr) || txErr.Res.Code != chain.ErrInsufficientFunds.Code {
		t.Fatalf("overdraft: %v", err)
	}

	// Blobs round trip with their CID.
	cid, err := net.Client.RegisterBlob(ctx, net.Keys[0], []byte("hello tenun"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Client.BlobGet(ctx, cid)
	if err != nil || string(got) != "hello tenun" {
		t.Fatalf("blob get: %q %v", got, err)
	}
	var rec chain.BlobRecord
	if err := net.Client.Query(ctx, "core", "blob/"+cid, nil, &rec); err != nil || rec.Size != 11 || rec.Owner != alice {
		t.Fatalf("blob record %+v %v", rec, err)
	}
}

func asTxErr(err error, target **client.TxError) bool {
	e, ok := err.(*client.TxError)
	if ok {
		*target = e
	}
	return ok
}
