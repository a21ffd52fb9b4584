package node

import (
	"context"
	"fmt"
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

// FreeBasePort finds three consecutive free loopback ports (P2P, CometBFT
// RPC, API) for a throwaway node. Another process may still take them
// before the node binds them; callers that must not fail retry.
func FreeBasePort() (int, error) {
	for try := 0; try < 50; try++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		base := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if base > 60000 {
			continue
		}
		free := true
		for p := base; p < base+3 && free; p++ {
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
	return 0, fmt.Errorf("no block of 3 free loopback ports")
}
