// Package domaintest holds what the market domains' pure tests share:
// running one message through the router as a transaction would, and
// proving that a rejected message left the state byte for byte unchanged.
package domaintest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Addr is a test address whose first byte is b.
func Addr(b byte) chain.Address {
	var a chain.Address
	a[0] = b
	return a
}

// Dump renders every key and value of kv in order; two dumps are equal
// exactly when the states are.
func Dump(kv store.KV) string {
	var buf bytes.Buffer
	kv.Iterate(nil, func(k, v []byte) bool {
		buf.Write(k)
		buf.WriteByte('=')
		buf.Write(v)
		buf.WriteByte('\n')
		return true
	})
	return buf.String()
}

// Run decodes msg as a transaction would (ValidateBasic included) and runs
// its handler as sender in block, inside a write buffer over kv that is kept
// only if the handler succeeds.
func Run(app *chain.App, kv store.KV, block chain.Block, params chain.Params, sender chain.Address, msg chain.Msg) error {
	cache := store.NewCache(kv)
	ctx := chain.NewContext(cache, block, params)
	ctx.Sender = sender
	m, err := app.Router().DecodeMsg(chain.Any{Type: msg.Type(), Value: chain.Marshal(msg)})
	if err != nil {
		return err
	}
	if err := app.Router().HandleForTest(ctx, m); err != nil {
		return err
	}
	cache.Write()
	return nil
}

// MustReject runs run, which must fail with code and an error containing
// substr, and checks that kv did not change.
func MustReject(t testing.TB, kv store.KV, what string, code *chain.Error, substr string, run func() error) {
	t.Helper()
	before := Dump(kv)
	err := run()
	if err == nil {
		t.Fatalf("%s: accepted, want rejection", what)
	}
	if chain.CodeOf(err) != code.Code || !strings.Contains(err.Error(), substr) {
		t.Fatalf("%s: got %v (code %d), want code %d containing %q", what, err, chain.CodeOf(err), code.Code, substr)
	}
	if Dump(kv) != before {
		t.Fatalf("%s: rejected but state changed", what)
	}
}
