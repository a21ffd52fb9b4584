package client

import (
	"bytes"
	"context"
	"net/http"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
)

// Fee is the fee Submit pays for msg with opt: opt.Fee, or the chain's
// minimum for the message.
func (c *Client) Fee(ctx context.Context, msg chain.Msg, opt Options) (uint64, error) {
	if opt.Fee != 0 {
		return opt.Fee, nil
	}
	return c.MinFee(ctx, msg)
}

// Simulate signs msg as Submit would and runs it against the node's check
// state (POST /simulate) without submitting it: the answer carries the code,
// log and events the transaction would have now. A rejected simulation is
// not an error here; callers read res.Code.
func (c *Client) Simulate(ctx context.Context, key ed25519.PrivKey, msg chain.Msg, opt Options) (api.TxResponse, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return api.TxResponse{}, err
	}
	addr := chain.AddressFromPubKey(key.PubKey().Bytes())
	info, err := c.Account(ctx, addr)
	if err != nil {
		return api.TxResponse{}, err
	}
	fee, err := c.Fee(ctx, msg, opt)
	if err != nil {
		return api.TxResponse{}, err
	}
	tx, err := chain.SignTx(key, chainID, info.Sequence, fee, msg, opt.Memo)
	if err != nil {
		return api.TxResponse{}, err
	}
	var res api.TxResponse
	err = c.Do(ctx, http.MethodPost, "/simulate", bytes.NewReader(tx), "application/octet-stream", &res)
	return res, err
}
