package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/internal/progress"
	"github.com/tenun-chain/tenun/node"
)

func init() { benchCmd.AddCommand(newBenchDataCmd()) }

// dataBench is the output of `tenun bench data`.
type dataBench struct {
	Records            int     `json:"records"`
	Contributors       int     `json:"contributors"`
	BatchSize          int     `json:"batch_size"`
	ChainSeconds       float64 `json:"chain_seconds"`
	ChainRecordsPerSec float64 `json:"chain_records_per_sec"`
	// Baseline: validating and hashing the same records in-process, no chain.
	ValidateRecordsPerSec float64 `json:"validate_records_per_sec"`
	ChainVsValidate       float64 `json:"chain_vs_validate_ratio"`
	DownloadBytes         int     `json:"download_bytes"`
	GatewayMBps           float64 `json:"gateway_mb_per_sec"`
	DiskMBps              float64 `json:"disk_mb_per_sec"`
	GatewayVsDisk         float64 `json:"gateway_vs_disk_ratio"`
}

func newBenchDataCmd() *cobra.Command {
	var records, contributors, batch, rounds int
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Records validated and accepted per second through the chain, and gateway download MB/s against reading the same data from disk",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := os.MkdirTemp("", "tenun-bench-data-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			port, err := node.FreeBasePort()
			if err != nil {
				return err
			}
			n, err := node.StartFresh(filepath.Join(dir, "node"), node.InitOptions{ChainID: "bench-data", DevAccounts: contributors + 2, BasePort: port, BlockTime: 100 * time.Millisecond})
			if err != nil {
				return err
			}
			defer n.Stop()
			ctx := context.Background()
			c := client.New(n.APIAddr())
			owner := keys.DevPrivKey(0)
			if _, err := c.Submit(ctx, owner, &data.MsgCreate{Name: "bench", Schema: agent.VehicleSchema(), Price: 1000, CuratorBps: 1000, MaxBatch: uint32(batch)}, client.Options{}); err != nil {
				return err
			}
			// Pre-generate every contributor's records so only the chain is timed.
			per := records / contributors
			feeds := make([][][]string, contributors)
			for i := range feeds {
				f := agent.NewVehicleFeed(fmt.Sprintf("car-%d", i), uint64(i+1), 1_700_000_000, per)
				for {
					r, err := f.Next()
					if err != nil {
						break
					}
					feeds[i] = append(feeds[i], r)
				}
			}
			res := dataBench{Records: per * contributors, Contributors: contributors, BatchSize: batch}

			// Baseline: the validation and hashing work alone.
			start := time.Now()
			for _, recs := range feeds {
				for _, r := range recs {
					if reason := data.ValidateRecord(agent.VehicleSchema(), r); reason != "" {
						return fmt.Errorf("generated record invalid: %s", reason)
					}
					data.RecordHash(r)
				}
			}
			res.ValidateRecordsPerSec = float64(res.Records) / time.Since(start).Seconds()

			start = time.Now()
			bar := progress.New(cmd.ErrOrStderr(), int64(res.Records), "bench data: through the chain", "records")
			defer bar.Finish()
			var wg sync.WaitGroup
			errs := make(chan error, contributors)
			for i := range feeds {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					key := keys.DevPrivKey(i + 2)
					// Pipelined: every batch goes to the mempool without waiting
					// for its block; the wait below is for all of them.
					for j := 0; j < len(feeds[i]); j += batch {
						end := min(j+batch, len(feeds[i]))
						recs := feeds[i][j:end]
						if _, err := c.BlobPutRaw(ctx, key, data.EncodeBatch(recs)); err != nil {
							errs <- err
							return
						}
						if _, err := c.Submit(ctx, key, &data.MsgContribute{Dataset: 1, Records: recs}, client.Options{NoWait: true}); err != nil {
							errs <- err
							return
						}
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				return err
			}
			var committed uint64
			for {
				var d data.Dataset
				if err := c.Query(ctx, "data", "dataset/1", nil, &d); err != nil {
					return err
				}
				bar.Add(int(d.Records) - int(committed))
				committed = d.Records
				if d.Records == uint64(res.Records) {
					break
				}
				if time.Since(start) > 5*time.Minute {
					return fmt.Errorf("only %d of %d records committed", d.Records, res.Records)
				}
				time.Sleep(20 * time.Millisecond)
			}
			res.ChainSeconds = time.Since(start).Seconds()
			bar.Finish()
			res.ChainRecordsPerSec = float64(res.Records) / res.ChainSeconds
			res.ChainVsValidate = res.ChainRecordsPerSec / res.ValidateRecordsPerSec

			if _, err := c.Submit(ctx, owner, &data.MsgSnapshot{Dataset: 1}, client.Options{}); err != nil {
				return err
			}
			buyer := keys.DevPrivKey(1)
			if _, err := c.Submit(ctx, buyer, &data.MsgBuy{Dataset: 1, Version: 1}, client.Options{}); err != nil {
				return err
			}
			var body []byte
			start = time.Now()
			for r := 0; r < rounds; r++ {
				if body, err = agent.Download(ctx, c, buyer, 1, 0, "csv"); err != nil {
					return err
				}
			}
			gw := time.Since(start).Seconds()
			res.DownloadBytes = len(body)
			res.GatewayMBps = float64(len(body)*rounds) / gw / 1e6
			// Baseline: the same bytes read back from a file on the same disk.
			path := filepath.Join(dir, "download.csv")
			if err := os.WriteFile(path, body, 0o644); err != nil {
				return err
			}
			start = time.Now()
			for r := 0; r < rounds; r++ {
				if _, err := os.ReadFile(path); err != nil {
					return err
				}
			}
			res.DiskMBps = float64(len(body)*rounds) / time.Since(start).Seconds() / 1e6
			res.GatewayVsDisk = res.GatewayMBps / res.DiskMBps
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "data market bench: %d records from %d contributors in batches of %d\n", res.Records, contributors, batch)
				fmt.Fprintf(w, "  through the chain:   %10.0f records/s accepted (%.2f s)\n", res.ChainRecordsPerSec, res.ChainSeconds)
				fmt.Fprintf(w, "  validation alone:    %10.0f records/s   ratio chain/validation %.4f\n", res.ValidateRecordsPerSec, res.ChainVsValidate)
				fmt.Fprintf(w, "  gateway download:    %10.1f MB/s (%d bytes, signed, grant-checked, Merkle-verified)\n", res.GatewayMBps, res.DownloadBytes)
				fmt.Fprintf(w, "  same bytes off disk: %10.1f MB/s   ratio gateway/disk %.4f\n", res.DiskMBps, res.GatewayVsDisk)
			})
		},
	}
	cmd.Flags().IntVar(&records, "records", 20000, "records to contribute")
	cmd.Flags().IntVar(&contributors, "contributors", 4, "concurrent contributors")
	cmd.Flags().IntVar(&batch, "batch", 500, "records per batch")
	cmd.Flags().IntVar(&rounds, "rounds", 20, "gateway downloads to time")
	return cmd
}
