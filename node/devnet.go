package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// StartFresh initialises home with o and starts the node, returning once the
// first block is committed. Benchmarks and tests use it for throwaway chains.
func StartFresh(home string, o InitOptions) (*Node, error) {
	if err := InitHome(home, o); err != nil {
		return nil, err
	}
	n, err := Start(home)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.WaitForHeight(ctx, 1); err != nil {
		n.Stop()
		return nil, fmt.Errorf("fresh node: %w", err)
	}
	return n, nil
}

// FreeBasePort finds four consecutive free loopback ports (P2P, CometBFT
// RPC, API, metrics) for a throwaway node. It draws them at random below Linux's
// ephemeral range (32768 and up), which the kernel hands to outgoing
// connections and to other programs asking for "any port": a block taken
// from that range could be handed to someone else between this check and
// the node's bind, as happened when test packages ran side by side. Another
// process may still take a block below it; callers that must not fail retry.
func FreeBasePort() (int, error) {
	const lo, hi = 20000, 32000
	for try := 0; try < 100; try++ {
		base := lo + rand.IntN(hi-lo-4)
		free := true
		for p := base; p < base+4 && free; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no block of 4 free loopback ports in %d-%d", lo, hi)
}
