package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"

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
	Blocks             int64   `json:"blocks"`
	ChainSeconds       float64 `json:"chain_seconds"`
	ChainRecordsPerSec float64 `json:"chain_records_per_sec"`
	// Baseline: validating and hashing the same records in-process, no chain.
	ValidateRecordsPerSec float64 `json:"validate_records_per_sec"`
	ChainVsValidate       float64 `json:"chain_vs_validate_ratio"`
	// Baseline: the keys and values the data market wrote for these
	// records, written straight into a fresh IAVL store block by block as
	// the chain wrote them (a block's keys sorted, then a commit).
	StateKeys          int     `json:"state_keys"`
	StoreCommits       int     `json:"store_commits"`
	StoreRecordsPerSec float64 `json:"store_records_per_sec"`
	ChainVsStore       float64 `json:"chain_vs_store_ratio"`
	Limit              string  `json:"limit"`
	DownloadBytes      int     `json:"download_bytes"`
	GatewayColdSeconds float64 `json:"gateway_cold_seconds"` // the first download builds the export
	GatewayMBps        float64 `json:"gateway_mb_per_sec"`
	DiskMBps           float64 `json:"disk_mb_per_sec"`
	GatewayVsDisk      float64 `json:"gateway_vs_disk_ratio"`
	BlobBytes          int64   `json:"blob_bytes"`
	BlobPutMBps        float64 `json:"blob_put_mb_per_sec"` // CID pass, signed upload, chunked store, fsync
	BlobGetMBps        float64 `json:"blob_get_mb_per_sec"` // chunk-checked on the node, CID-checked by the client
	CopyMBps           float64 `json:"copy_mb_per_sec"`     // the same file copied, fsynced
	BlobPutVsCopy      float64 `json:"blob_put_vs_copy_ratio"`
	BlobGetVsCopy      float64 `json:"blob_get_vs_copy_ratio"`
}

func newBenchDataCmd() *cobra.Command {
	var records, contributors, batch, rounds, blobMB int
	var cpuProfile string
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
			params := chain.DefaultParams()
			params.MaxBlobBytes = max(params.MaxBlobBytes, uint64(blobMB)<<20)
			n, err := node.StartFresh(filepath.Join(dir, "node"), node.InitOptions{ChainID: "bench-data", DevAccounts: contributors + 2, BasePort: port, BlockTime: 100 * time.Millisecond, Params: params})
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

			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer f.Close()
			}
			_, startHeight, _ := n.ABCI.Snapshot()
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
			if cpuProfile != "" {
				pprof.StopCPUProfile()
			}
			_, endHeight, _ := n.ABCI.Snapshot()
			res.Blocks = max(1, endHeight-startHeight)
			bar.Finish()
			res.ChainRecordsPerSec = float64(res.Records) / res.ChainSeconds
			res.ChainVsValidate = res.ChainRecordsPerSec / res.ValidateRecordsPerSec
			if err := storeBaseline(n, filepath.Join(dir, "store"), &res); err != nil {
				return err
			}

			if _, err := c.Submit(ctx, owner, &data.MsgSnapshot{Dataset: 1}, client.Options{}); err != nil {
				return err
			}
			buyer := keys.DevPrivKey(1)
			if _, err := c.Submit(ctx, buyer, &data.MsgBuy{Dataset: 1, Version: 1}, client.Options{}); err != nil {
				return err
			}
			var body []byte
			start = time.Now()
			if body, err = agent.Download(ctx, c, buyer, 1, 0, "csv"); err != nil {
				return err
			}
			res.GatewayColdSeconds = time.Since(start).Seconds()
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
			if err := blobBaseline(ctx, c, owner, dir, int64(blobMB)<<20, &res); err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), res, func(w io.Writer) {
				fmt.Fprintf(w, "data market bench: %d records from %d contributors in batches of %d\n", res.Records, contributors, batch)
				fmt.Fprintf(w, "  through the chain:   %10.0f records/s accepted (%.2f s)\n", res.ChainRecordsPerSec, res.ChainSeconds)
				fmt.Fprintf(w, "  validation alone:    %10.0f records/s   ratio chain/validation %.4f\n", res.ValidateRecordsPerSec, res.ChainVsValidate)
				fmt.Fprintf(w, "  store writes alone:  %10.0f records/s   ratio chain/store %.4f (%d keys over %d commits, fresh IAVL)\n", res.StoreRecordsPerSec, res.ChainVsStore, res.StateKeys, res.StoreCommits)
				fmt.Fprintf(w, "  limit: %s\n", res.Limit)
				fmt.Fprintf(w, "  gateway download:    %10.1f MB/s (%d bytes, signed, grant-checked, chunk-checked; the first, which builds the export: %.3f s)\n", res.GatewayMBps, res.DownloadBytes, res.GatewayColdSeconds)
				fmt.Fprintf(w, "  same bytes off disk: %10.1f MB/s   ratio gateway/disk %.4f\n", res.DiskMBps, res.GatewayVsDisk)
				fmt.Fprintf(w, "  blob put:            %10.1f MB/s (%d MiB: CID pass, signed upload, chunked store, fsync)\n", res.BlobPutMBps, res.BlobBytes>>20)
				fmt.Fprintf(w, "  blob get:            %10.1f MB/s (chunk-checked on the node, CID-checked by the client, to a file)\n", res.BlobGetMBps)
				fmt.Fprintf(w, "  plain file copy:     %10.1f MB/s   ratio put/copy %.4f, get/copy %.4f\n", res.CopyMBps, res.BlobPutVsCopy, res.BlobGetVsCopy)
			})
		},
	}
	cmd.Flags().IntVar(&records, "records", 100000, "records to contribute (the gateway serves the version they make: 100,000 are about 4.5 MB of CSV)")
	cmd.Flags().IntVar(&contributors, "contributors", 4, "concurrent contributors")
	cmd.Flags().IntVar(&batch, "batch", 500, "records per batch")
	cmd.Flags().IntVar(&rounds, "rounds", 20, "gateway downloads to time")
	cmd.Flags().IntVar(&blobMB, "blob-mb", 256, "size of the file for blob put and get, in MiB")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the contributions through the chain to this file (go tool pprof reads it)")
	return cmd
}

// storeBaseline writes the data market's keys for the benched records
// (every key under data/ the chain holds now) into a fresh IAVL store on
// the node's backend the way the chain wrote them, block by block, and
// names the limit: the slower of the store and validation.
func storeBaseline(n *node.Node, dir string, res *dataBench) error {
	kv, _, err := n.ABCI.Snapshot()
	if err != nil {
		return err
	}
	all := map[string][]byte{}
	var order []string // sorted, as Iterate gives them
	kv.Iterate([]byte("data/"), func(k, v []byte) bool {
		all[string(k)] = append([]byte{}, v...)
		order = append(order, string(k))
		return true
	})
	// As the chain wrote them: a block's writes reach the tree together, in
	// key order, then the tree commits. A record's block is its batch's
	// height; its keys are the duplicate check's (data/rec/<id><hash>, the
	// hash from its data/rh/<id><n> order entry), the order entry and the
	// row. What no batch owns (shares, the dataset) goes with the last block.
	var blocks [][]string
	take := func(block *[]string, k string) {
		if _, ok := all[k]; ok {
			*block = append(*block, k)
		}
	}
	id := chain.Uint64Bytes(1)
	var rec uint64
	lastHeight := int64(-1)
	for seq := uint64(1); ; seq++ {
		b, ok := data.GetBatch(kv, 1, seq)
		if !ok {
			break
		}
		if b.Height != lastHeight {
			blocks = append(blocks, nil)
			lastHeight = b.Height
		}
		blk := &blocks[len(blocks)-1]
		take(blk, "data/batch/"+string(id)+string(chain.Uint64Bytes(seq)))
		for range b.Accepted {
			nk := string(chain.Uint64Bytes(rec))
			rh := "data/rh/" + string(id) + nk
			if v := all[rh]; len(v) >= 32 {
				take(blk, "data/rec/"+string(id)+string(v[:32]))
			}
			take(blk, rh)
			take(blk, "data/row/"+string(id)+nk)
			rec++
		}
	}
	if len(blocks) == 0 {
		blocks = append(blocks, nil)
	}
	values := make(map[string][]byte, len(all))
	for _, blk := range blocks {
		for _, k := range blk {
			values[k] = all[k]
			delete(all, k) // taken
		}
	}
	for _, k := range order {
		if v, ok := all[k]; ok {
			blocks[len(blocks)-1] = append(blocks[len(blocks)-1], k)
			values[k] = v
		}
	}
	for _, blk := range blocks {
		sort.Strings(blk)
	}
	tree, err := store.OpenTreeOn(dir, store.DefaultBackend) // the node's backend (StartFresh's default)
	if err != nil {
		return err
	}
	defer tree.Close()
	res.StoreCommits = len(blocks)
	start := time.Now()
	for _, blk := range blocks {
		for _, k := range blk {
			tree.Set([]byte(k), values[k])
			res.StateKeys++
		}
		if _, _, err := tree.Commit(); err != nil {
			return err
		}
	}
	res.StoreRecordsPerSec = float64(res.Records) / time.Since(start).Seconds()
	res.ChainVsStore = res.ChainRecordsPerSec / res.StoreRecordsPerSec
	// The slower of the two parts the chain cannot do without bounds it.
	if res.StoreRecordsPerSec < res.ValidateRecordsPerSec {
		res.Limit = fmt.Sprintf("the store: its own writes of the market's %d keys run at %.0f records/s (validation alone: %.0f); the chain reaches %.2f of that (--cpuprofile shows the rest)",
			res.StateKeys, res.StoreRecordsPerSec, res.ValidateRecordsPerSec, res.ChainVsStore)
	} else {
		res.Limit = fmt.Sprintf("validation and hashing: %.0f records/s alone, below the store's %.0f", res.ValidateRecordsPerSec, res.StoreRecordsPerSec)
	}
	return nil
}

// blobBaseline times blob put and get of a size-byte file against copying
// the same file (with fsync, as the node stores).
func blobBaseline(ctx context.Context, c *client.Client, key ed25519.PrivKey, dir string, size int64, res *dataBench) error {
	src := filepath.Join(dir, "blob.bin")
	if err := writePattern(src, size); err != nil {
		return err
	}
	res.BlobBytes = size
	start := time.Now()
	id, _, err := c.BlobPutFile(ctx, key, src, 0, nil)
	if err != nil {
		return err
	}
	res.BlobPutMBps = float64(size) / time.Since(start).Seconds() / 1e6
	out, err := os.Create(filepath.Join(dir, "blob.get"))
	if err != nil {
		return err
	}
	start = time.Now()
	if _, err := c.BlobDownload(ctx, id, false, out, nil); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	res.BlobGetMBps = float64(size) / time.Since(start).Seconds() / 1e6
	start = time.Now()
	if err := copyFile(src, filepath.Join(dir, "blob.copy")); err != nil {
		return err
	}
	res.CopyMBps = float64(size) / time.Since(start).Seconds() / 1e6
	res.BlobPutVsCopy = res.BlobPutMBps / res.CopyMBps
	res.BlobGetVsCopy = res.BlobGetMBps / res.CopyMBps
	return nil
}

// writePattern writes size bytes that differ from chunk to chunk.
func writePattern(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		for i := range buf {
			buf[i] = byte((off + int64(i)) * 2654435761 >> 13)
		}
		if _, err := f.Write(buf[:min(int64(len(buf)), size-off)]); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
