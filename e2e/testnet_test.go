package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Four validators in four processes agree on every transfer; with one of
// them killed the other three (more than 2/3 of the power) keep committing;
// the killed one, restarted, catches up to the same blocks and state and
// takes part again.
func TestFourValidators(t *testing.T) {
	needBinary(t)
	began := time.Now()
	dir := workDir(t)
	base := freeBase(t, 4)
	runTenun(t, "testnet", "--validators", "4", "--dir", filepath.Join(dir, "net"),
		"--base-port", strconv.Itoa(base), "--block-time", "200ms")

	nodes := make([]*tnode, 4)
	for i := range nodes {
		home := filepath.Join(dir, "net", fmt.Sprintf("node%d", i))
		nodes[i] = newNode(t, dir, fmt.Sprintf("node%d", i), home, base+10*i, "start", "--home", home)
		nodes[i].p.start()
	}
	waitHeight(t, 60*time.Second, 2, nodes...)
	t.Logf("4 validators at height 2 after %s", time.Since(began).Round(time.Millisecond))
	n0, n3 := nodes[0], nodes[3]

	// Transfers through node0 commit on every node.
	want := genesisBalances()
	var trs []transfer
	for i := 0; i < devAccounts; i++ {
		for k := 0; k < 2; k++ {
			trs = append(trs, transfer{from: i, to: (i + 1 + k) % devAccounts, amount: uint64(1000*(i+1) + k)})
		}
	}
	top := sendAll(t, n0.c, trs)
	for _, tr := range trs {
		tr.apply(want)
	}
	waitHeight(t, 30*time.Second, top, nodes...)
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "balances on "+n.name, nodes, func() error { return n.checkBalances(want) })
	}
	checkSameState(t, n0, nodes...)

	// Kill node3: three of four equal validators are more than 2/3.
	n3.p.kill()
	killedAt, err := n0.height()
	if err != nil {
		t.Fatal(err)
	}
	live := nodes[:3]
	waitHeight(t, 60*time.Second, killedAt+4, live...)
	trs = trs[:0]
	for i := 0; i < devAccounts; i++ {
		trs = append(trs, transfer{from: i, to: (i + 2) % devAccounts, amount: uint64(7 + i)})
	}
	top = sendAll(t, nodes[1].c, trs) // through another node this time
	for _, tr := range trs {
		tr.apply(want)
	}
	waitHeight(t, 30*time.Second, top, live...)
	for _, n := range live {
		waitFor(t, 10*time.Second, "balances on "+n.name, live, func() error { return n.checkBalances(want) })
	}
	checkSameState(t, n0, live...)
	t.Logf("without node3: height %d -> %d", killedAt, top)

	// node3 comes back, catches up and agrees.
	n3.p.start()
	target, err := n0.height()
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(t, 60*time.Second, target, n3)
	waitFor(t, 30*time.Second, "node3 to finish catching up", nodes, func() error {
		ctx, cancel := quick()
		defer cancel()
		st, err := n3.c.Status(ctx)
		if err != nil {
			return err
		}
		if st.CatchingUp {
			return fmt.Errorf("still catching up at height %d", st.Height)
		}
		return nil
	})
	waitFor(t, 10*time.Second, "balances on node3", nodes, func() error { return n3.checkBalances(want) })
	checkSameState(t, n0, nodes...)

	// ... and takes part: a transfer submitted through it commits everywhere.
	tr := transfer{from: 3, to: 0, amount: 42}
	top = sendAll(t, n3.c, []transfer{tr})
	tr.apply(want)
	waitHeight(t, 30*time.Second, top, nodes...)
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "balances on "+n.name, nodes, func() error { return n.checkBalances(want) })
	}
	checkSameState(t, n3, nodes...)

	// node3 signs blocks again: some commit after its return carries all
	// four precommits.
	from := top
	waitFor(t, 30*time.Second, "a commit signed by all 4 validators", nodes, func() error {
		h, err := n0.height()
		if err != nil {
			return err
		}
		for ; from < h; from++ {
			signed, err := commitSignatures(n0, from)
			if err != nil {
				return err
			}
			if signed == 4 {
				return nil
			}
		}
		return fmt.Errorf("no commit up to height %d has 4 signatures", h)
	})
	t.Logf("node3 caught up from %d to %d; total %s", killedAt, top, time.Since(began).Round(time.Millisecond))
}
