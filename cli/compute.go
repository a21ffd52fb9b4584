// The compute market's commands, by concern: transactions (compute_tx.go),
// queries (compute_query.go), the provider and challenger agents
// (compute_agents.go), fetching outputs (compute_fetch.go) and the market
// half of `tenun bench compute` (bench_compute_market.go). This file
// registers them and holds the helpers they share.

package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
)

func init() {
	txCmd.AddCommand(newComputeTxCmd())
	queryCmd.AddCommand(newComputeQueryCmd())
	rootCmd.AddCommand(newProviderCmd(), newChallengerCmd(), newComputeCmd())
	// The market half of `tenun bench compute` (see cli/bench_compute.go).
	benchComputeMarket = benchComputeMarketRun
}

// blobArg accepts a CID, or a file to upload and register with key.
func blobArg(ctx context.Context, c *client.Client, from string, arg string) (string, error) {
	if _, err := chain.ParseBlobCID(arg); err == nil {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("%q is neither a CID nor a readable file: %w", arg, err)
	}
	key, _, err := signer(from)
	if err != nil {
		return "", err
	}
	cid, err := c.RegisterBlob(ctx, key, b)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", arg, err)
	}
	return cid, nil
}

// archiveArg reads an output archive file (as the sandbox writes it,
// sandbox.ArchiveOutputs), uploads and registers it, and returns its digest
// and CID.
func archiveArg(ctx context.Context, from, path string) (compute.Hash, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return compute.Hash{}, "", err
	}
	if _, err := sandbox.UnpackArchive(b); err != nil {
		return compute.Hash{}, "", fmt.Errorf("%s: %w", path, err)
	}
	key, _, err := signer(from)
	if err != nil {
		return compute.Hash{}, "", err
	}
	cid, err := newClient().RegisterBlob(ctx, key, b)
	if err != nil {
		return compute.Hash{}, "", err
	}
	d, err := compute.DigestOfCID(cid)
	return d, cid, err
}

// outputArgs resolves --archive FILE or --output-cid CID (with --digest, or
// the digest the CID names) into the digest and CID a message carries.
func outputArgs(ctx context.Context, from, archive, output, digest string) (compute.Hash, string, error) {
	switch {
	case archive != "":
		return archiveArg(ctx, from, archive)
	case output == "":
		return compute.Hash{}, "", fmt.Errorf("give --archive FILE or --output-cid CID")
	case digest != "":
		d, err := chain.ParseHash(digest)
		return d, output, err
	}
	d, err := compute.DigestOfCID(output)
	return d, output, err
}
