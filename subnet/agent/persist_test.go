package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/durable"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
	"github.com/tenun-chain/tenun/subnet"
)

// A validator stopped between committing to its weights and revealing
// them, and started again on the same state directory, reveals them on
// time from its records. The restarted validator copies weights (and there
// are none to copy), so it commits nothing itself: any reveal it makes is
// of the commitment it kept, and without its records it would reveal none.
func TestValidatorRevealsAfterRestart(t *testing.T) {
	net := testnode.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := net.Client
	owner, minerKey, validatorKey := 0, 1, 2

	var csv strings.Builder
	for i := range 40 {
		fmt.Fprintf(&csv, "%d,%d\n", i, i%2)
	}
	cid, err := c.RegisterBlob(ctx, net.Keys[owner], []byte(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	hp := subnet.DefaultHyperparams()
	hp.CommitReveal = true
	if _, err := c.Submit(ctx, net.Keys[owner], &subnet.MsgCreate{
		Task: "parity of the first feature", Dataset: cid, Tempo: 40, Yuma: &hp,
		RegistrationMinStake: node.TNN, ValidatorMinStake: 100 * node.TNN, MaxUIDs: 8,
	}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	const id = 1
	m := &Miner{Client: c, Key: net.Keys[minerKey], Subnet: id, Model: parity{}, Listen: "127.0.0.1:0"}
	if _, _, err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()

	stateDir := t.TempDir()
	run := func(v *Validator) (stop func()) {
		vctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- v.Run(vctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("validator: %v", err)
			}
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s", what)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}

	first := &Validator{Client: c, Key: net.Keys[validatorKey], Subnet: id, Samples: 16, StateDir: stateDir, Poll: 20 * time.Millisecond, Logf: t.Logf}
	stop := run(first)
	waitFor("the first commitment", func() bool { return first.Stats().Commits == 1 })
	stop() // killed between commit and reveal
	if s := first.Stats(); s.Reveals != 0 {
		t.Fatalf("the validator revealed before it was stopped: %+v", s)
	}
	dir, err := durable.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := dir.Keys("subnet-1-commit-")
	if err != nil || len(keys) != 1 {
		t.Fatalf("commit records %v (err %v), want one", keys, err)
	}
	info, err := Info(ctx, c, id)
	if err != nil {
		t.Fatal(err)
	}
	var rec commitRecord
	if _, err := dir.Load(keys[0], &rec); err != nil || !rec.Confirmed {
		t.Fatalf("record %+v (err %v), want a confirmed commitment", rec, err)
	}
	if info.Epoch >= rec.Epoch+info.RevealPeriod {
		t.Fatalf("the chain is in epoch %d, the commitment of epoch %d is already due: the test stopped too late", info.Epoch, rec.Epoch)
	}

	restarted := &Validator{Client: c, Key: net.Keys[validatorKey], Subnet: id, Strategy: Copier, StateDir: stateDir, Poll: 20 * time.Millisecond, Logf: t.Logf}
	defer run(restarted)()
	waitFor("the reveal after the restart", func() bool { return restarted.Stats().Reveals == 1 })
	if s := restarted.Stats(); s.Commits != 0 || s.Errors != 0 {
		t.Errorf("restarted validator: %+v, want no commits and no errors", s)
	}
	mg, err := Metagraph(ctx, c, id)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := FindUID(mg, net.Addr(validatorKey))
	if !ok || len(n.Weights) == 0 {
		t.Fatalf("the revealed weights are not on chain: %+v", n)
	}
	if keys, _ := dir.Keys("subnet-1-commit-"); len(keys) != 0 {
		t.Errorf("records %v left after the reveal", keys)
	}
}

// A state directory holding a record this validator could not have written
// (another subnet's, or malformed) stops it with an error naming the
// record, rather than sending reveals blindly; a readable one is reloaded.
func TestValidatorStateRecords(t *testing.T) {
	dir := t.TempDir()
	v := &Validator{Subnet: 3, StateDir: dir}
	pending, done, err := v.openState()
	if err != nil || len(pending) != 0 || done != ^uint64(0) {
		t.Fatalf("empty state: %v %d %v", pending, done, err)
	}
	p := &pendingReveal{epoch: 7, uids: []uint16{0, 1}, values: []uint16{10, 20}, salt: chain.Hash{1}}
	if err := v.saveCommit(p, chain.Hash([]byte("0123456789abcdef0123456789abcdef"))); err != nil {
		t.Fatal(err)
	}
	if err := v.saveDone(7); err != nil {
		t.Fatal(err)
	}
	pending, done, err = v.openState()
	if err != nil || len(pending) != 1 || done != 7 || pending[0].epoch != 7 || pending[0].confirmed || pending[0].key != p.key || pending[0].salt != p.salt {
		t.Fatalf("reloaded %+v done %d err %v", pending, done, err)
	}
	// An unconfirmed epoch is a lower bound: it may be revealed one epoch later.
	if pending[0].expired(8, 1) || pending[0].expired(9, 1) || !pending[0].expired(10, 1) {
		t.Error("unconfirmed commitment expiry is wrong")
	}
	if c := (pendingReveal{epoch: 7, confirmed: true}); c.expired(8, 1) || !c.expired(9, 1) {
		t.Error("confirmed commitment expiry is wrong")
	}
	v.forget(pending[0])
	if pending, _, _ := v.openState(); len(pending) != 0 {
		t.Fatalf("forgotten record reloaded: %+v", pending)
	}

	salt := `"` + strings.Repeat("ab", 32) + `"`
	for name, c := range map[string]struct{ body, want string }{
		"other subnet": {`{"subnet":4,"epoch":1,"uids":[0],"values":[1],"salt":` + salt + `}`, "of subnet 4"},
		"short salt":   {`{"subnet":3,"epoch":1,"uids":[0],"values":[1],"salt":"abab"}`, "want 64 hex digits"},
		"zero salt":    {`{"subnet":3,"epoch":1,"uids":[0],"values":[1],"salt":"` + strings.Repeat("0", 64) + `"}`, "no salt"},
		"no salt":      {`{"subnet":3,"epoch":1,"uids":[0],"values":[1]}`, "no salt"},
		"uneven":       {`{"subnet":3,"epoch":1,"uids":[0,1],"values":[1],"salt":` + salt + `}`, "2 uids and 1 values"},
		"bad uids":     {`{"subnet":3,"epoch":1,"uids":"x","values":[1],"salt":` + salt + `}`, "corrupt"},
		"not json":     {`{"subnet":`, "corrupt"},
		// Before salts were chain.Hash: 8 to 64 bytes in base64.
		"old format": {`{"subnet":3,"epoch":1,"uids":[0],"values":[1],"salt":"MDEyMzQ1Njc4OWFiY2RlZg=="}`, "old format (a 16-byte base64 salt"},
	} {
		bad := filepath.Join(dir, "subnet-3-commit-bad.json")
		if err := os.WriteFile(bad, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := v.openState(); err == nil || !strings.Contains(err.Error(), "subnet-3-commit-bad") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming the record and saying %q", name, err, c.want)
		}
		os.Remove(bad)
	}
}
