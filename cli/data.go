package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/internal/progress"
)

func init() {
	txCmd.AddCommand(newDataTxCmd())
	queryCmd.AddCommand(newDataQueryCmd())
	rootCmd.AddCommand(newContributeCmd(), newDataCmd())
}

func parseID(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("id %q: want a number", s)
	}
	return v, nil
}

func newDataTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Data market transactions"}

	var cf txFlags
	var m data.MsgCreate
	var schemaFile, price string
	create := &cobra.Command{
		Use:   "create NAME --schema FILE",
		Short: "Create a dataset (schema: JSON array of {name,type,required,min,max,max_len,enum}; or 'vehicle')",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m.Name = args[0]
			if schemaFile == "vehicle" {
				m.Schema = agent.VehicleSchema()
			} else {
				b, err := os.ReadFile(schemaFile)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(b, &m.Schema); err != nil {
					return fmt.Errorf("schema %s: %w", schemaFile, err)
				}
			}
			p, err := parseAmount(price)
			if err != nil {
				return err
			}
			m.Price = p
			return submit(cmd, &cf, &m)
		},
	}
	addTxFlags(create, &cf)
	create.Flags().StringVar(&schemaFile, "schema", "", "schema JSON file, or 'vehicle' for the telemetry schema (required)")
	create.Flags().StringVar(&m.Description, "description", "", "description")
	create.Flags().StringVar(&m.License, "license", "CC-BY-4.0", "license")
	create.Flags().StringVar(&m.Terms, "terms", "", "terms of access")
	amountFlag(create.Flags(), &price, "price", "1tnn", "price of an access grant")
	m.CuratorBps = 1000
	fractionFlag(create.Flags(), &m.CuratorBps, "curator-share", 10_000, true, "curator's share of each sale (whole basis points)")
	create.Flags().Uint32Var(&m.CuratorBps, "curator-bps", 1000, "deprecated: use --curator-share")
	create.Flags().MarkDeprecated("curator-bps", "use --curator-share, e.g. 10%")
	create.Flags().Uint32Var(&m.MaxBatch, "max-batch", 500, "records per contribution")
	create.Flags().Uint32Var(&m.RateLimit, "rate-limit", 0, "records per contributor per window (0: none)")
	blocksFlag(create.Flags(), &m.RateWindow, "rate-window", 0, "rate window")
	create.MarkFlagRequired("schema")

	var kf txFlags
	var csvFile string
	contribute := &cobra.Command{
		Use: "contribute DATASET --csv FILE", Short: "Contribute one batch of records from a CSV file (with a header row)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			f, err := os.Open(csvFile)
			if err != nil {
				return err
			}
			defer f.Close()
			src, err := agent.NewCSVSource(f, true)
			if err != nil {
				return err
			}
			var recs [][]string
			for {
				r, err := src.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				recs = append(recs, r)
			}
			key, _, err := signer(kf.from)
			if err != nil {
				return err
			}
			if _, err := newClient().BlobPut(cmd.Context(), key, data.EncodeBatch(recs)); err != nil {
				return err
			}
			return submitAs(cmd, &kf, key, &data.MsgContribute{Dataset: id, Records: recs})
		},
	}
	addTxFlags(contribute, &kf)
	contribute.Flags().StringVar(&csvFile, "csv", "", "CSV file with a header row (required)")
	contribute.MarkFlagRequired("csv")

	var sf txFlags
	var note string
	snap := &cobra.Command{
		Use: "snapshot DATASET", Short: "Freeze the accepted records as a new version (curator only)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			return submit(cmd, &sf, &data.MsgSnapshot{Dataset: id, Note: note})
		},
	}
	addTxFlags(snap, &sf)
	snap.Flags().StringVar(&note, "note", "", "note stored with the version")

	var bf txFlags
	buy := &cobra.Command{
		Use: "buy DATASET VERSION", Short: "Pay for access to a dataset version", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			v, err := parseID(args[1])
			if err != nil {
				return err
			}
			return submit(cmd, &bf, &data.MsgBuy{Dataset: id, Version: v})
		},
	}
	addTxFlags(buy, &bf)

	var lf txFlags
	link := &cobra.Command{
		Use: "link FROM TO RELATION", Short: "Record lineage: TO derives from FROM (refs: dataset/ID@V, model/HEX, blob/CID, label-job/ID)", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return submit(cmd, &lf, &data.MsgLink{From: args[0], To: args[1], Relation: args[2]})
		},
	}
	addTxFlags(link, &lf)
	cmd.AddCommand(create, contribute, snap, buy, link)
	return cmd
}

func newDataQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Data market state"}
	for _, q := range []struct{ use, short, path string }{
		{"dataset ID", "A dataset", "dataset/"},
		{"contributions ID", "A dataset's batches (accepted and rejected records with reasons) and shares", "contributions/"},
		{"grants ID", "Access grants of a dataset", "grants/"},
		{"versions ID", "Snapshots of a dataset", "versions/"},
		{"lineage REF", "Everything REF derives from, and the contributors behind it", "lineage/"},
	} {
		q := q
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return queryJSON(cmd, "data", q.path+args[0], nil) }})
	}
	cmd.AddCommand(&cobra.Command{Use: "datasets", Short: "All datasets", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return queryJSON(cmd, "data", "datasets", nil) }})
	return cmd
}

func newContributeCmd() *cobra.Command {
	var key, csvFile, synthetic string
	var dataset uint64
	var batch, count int
	cmd := &cobra.Command{
		Use:   "contribute --from NAME --dataset ID (--csv FILE | --synthetic vehicle)",
		Short: "Agent: stream records into a dataset in batches",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			var src agent.Source
			switch {
			case csvFile != "":
				f, err := os.Open(csvFile)
				if err != nil {
					return err
				}
				defer f.Close()
				if src, err = agent.NewCSVSource(f, true); err != nil {
					return err
				}
			case synthetic == "vehicle":
				src = agent.NewVehicleFeed("vehicle-"+key, uint64(len(key))*7919, 1_700_000_000, count)
			default:
				return fmt.Errorf("give --csv FILE or --synthetic vehicle")
			}
			total := int64(-1)
			if csvFile == "" {
				total = int64(count)
			}
			bar := progress.New(cmd.ErrOrStderr(), total, "contribute", "records")
			sent := 0
			st, err := agent.ContributeWith(cmd.Context(), newClient(), k, dataset, src, batch, func(st agent.ContributeStats) {
				bar.Add(st.Sent - sent)
				sent = st.Sent
			})
			bar.Finish()
			if err != nil {
				return err
			}
			if st.Sent > 0 && st.Accepted == 0 {
				emit(cmd.OutOrStdout(), st, func(w io.Writer) {})
				return fmt.Errorf("none of the %d records was accepted (last refusal: %s)", st.Sent, st.LastRejection)
			}
			return emit(cmd.OutOrStdout(), st, func(w io.Writer) {
				fmt.Fprintf(w, "sent %d records in %d batches: %d accepted, %d rejected\n", st.Sent, st.Batches, st.Accepted, st.Rejected)
			})
		},
	}
	addFromFlag(cmd, &key, "contributor key name")
	cmd.Flags().Uint64Var(&dataset, "dataset", 0, "dataset id (required)")
	cmd.Flags().StringVar(&csvFile, "csv", "", "CSV file with a header row")
	cmd.Flags().StringVar(&synthetic, "synthetic", "", "synthetic feed: vehicle")
	cmd.Flags().IntVar(&batch, "batch", 100, "records per batch")
	cmd.Flags().IntVar(&count, "count", 1000, "records of the synthetic feed")
	cmd.MarkFlagRequired("dataset")
	return cmd
}

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Data market client commands"}
	var key, format, out string
	var version uint64
	dl := &cobra.Command{
		Use: "download ID --from NAME", Short: "Download a dataset you hold a grant for, through the node's gateway", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			k, _, err := signer(key)
			if err != nil {
				return err
			}
			b, err := agent.Download(cmd.Context(), newClient(), k, id, version, format)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return os.WriteFile(out, b, 0o644)
		},
	}
	addFromFlag(dl, &key, "key holding the grant")
	dl.Flags().StringVar(&format, "format", "csv", "csv or jsonl")
	dl.Flags().Uint64Var(&version, "version", 0, "version (default: the granted one)")
	dl.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	cmd.AddCommand(dl)
	return cmd
}
