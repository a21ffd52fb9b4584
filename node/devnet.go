package node

import (
	"context"
	"fmt"
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
