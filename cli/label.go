package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/agent"
)

func init() {
	txCmd.AddCommand(newLabelTxCmd())
	queryCmd.AddCommand(newLabelQueryCmd())
	rootCmd.AddCommand(newAnnotateCmd())
}

// Local secrets of the annotation market live under <home>/label: commit
// salts per worker (shared by `tenun annotate` and `tx label commit/reveal`)
// and the requester's gold per job (written by create-job, read by close).
func labelDir() string { return filepath.Join(homeDir, "label") }

func secretsPath(chainID string, a chain.Address) string {
	return filepath.Join(labelDir(), fmt.Sprintf("secrets-%s-%s.json", chainID, a))
}

func goldPath(chainID string, job uint64) string {
	return filepath.Join(labelDir(), fmt.Sprintf("gold-%s-%d.json", chainID, job))
}

func openWorkerSecrets(ctx context.Context, c *client.Client, a chain.Address) (*agent.Secrets, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	return agent.OpenSecrets(secretsPath(chainID, a))
}

// parseLabel reads a label by name or index.
func parseLabel(labels []string, s string) (uint32, error) {
	for i, l := range labels {
		if l == s {
			return uint32(i), nil
		}
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil && n < uint64(len(labels)) {
		return uint32(n), nil
	}
	return 0, fmt.Errorf("label %q is not one of %q (or an index below %d)", s, labels, len(labels))
}

// readItems reads an items file: .jsonl or .csv as agent.ParseItems reads
// them, anything else one text item per line. Grid items come back in
// their inline form.
func readItems(path, kind string) ([]string, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	format := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		format = label.FormatJSONL
	case ".csv":
		format = label.FormatCSV
	}
	var out []string
	if format == "" {
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				out = append(out, line)
			}
		}
		return out, label.FormatJSONL, nil
	}
	items, err := agent.ParseItems(b, format, kind)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	for _, it := range items {
		if kind == label.KindGrid {
			out = append(out, agent.FormatGrid(it.Pixels))
		} else {
			out = append(out, it.Text)
		}
	}
	return out, format, nil
}

// readGold reads a gold CSV of item,label rows (label by name or index).
func readGold(path string, labels []string) (items, lbls []uint32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("gold %s: %w", path, err)
	}
	byItem := map[uint32]uint32{}
	var order []uint32
	for n, row := range rows {
		if len(row) < 2 {
			return nil, nil, fmt.Errorf("gold %s row %d: want item,label", path, n+1)
		}
		it, err := strconv.ParseUint(strings.TrimSpace(row[0]), 10, 32)
		if err != nil {
			if n == 0 {
				continue // header
			}
			return nil, nil, fmt.Errorf("gold %s row %d: item %q", path, n+1, row[0])
		}
		l, err := parseLabel(labels, strings.TrimSpace(row[1]))
		if err != nil {
			return nil, nil, fmt.Errorf("gold %s row %d: %w", path, n+1, err)
		}
		if _, dup := byItem[uint32(it)]; dup {
			return nil, nil, fmt.Errorf("gold %s: item %d appears twice", path, it)
		}
		byItem[uint32(it)] = l
		order = append(order, uint32(it))
	}
	// The gold hash covers items in increasing order.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && order[j] < order[j-1]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, it := range order {
		items = append(items, it)
		lbls = append(lbls, byItem[it])
	}
	return items, lbls, nil
}

func jobIDFromEvents(events []chain.Event) (uint64, bool) {
	for _, e := range events {
		if e.Type != "label_create" {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "job" {
				id, err := strconv.ParseUint(a.Value, 10, 64)
				return id, err == nil
			}
		}
	}
	return 0, false
}

func newLabelTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "label", Short: "Annotation market transactions"}
	cmd.AddCommand(newCreateJobCmd(), newJoinCmd("join", "Join a job as an annotator (stake bonded in pool label) and take a first batch of items"),
		newJoinCmd("more", "Ask for the next batch of items (after committing the current ones)"),
		newCommitCmd(), newRevealCmd(), newCloseCmd())
	return cmd
}

func newCreateJobCmd() *cobra.Command {
	var f txFlags
	var m label.MsgCreateJob
	var labels, itemsFile, blobFile, goldFile, goldOut, reward, stake string
	var confidence, quality float64
	cmd := &cobra.Command{
		Use:   "create-job --title T --labels a,b,c (--items FILE | --items-blob FILE | --items-cid CID --item-count N --format csv|jsonl)",
		Short: "Post a labeling job and lock its budget (items x max redundancy x reward) in escrow",
		Long: `Post a labeling job. Items come inline (--items: .jsonl, .csv or one text per line)
or as a blob (--items-blob uploads and registers the file; --items-cid names one already
registered). Grid items (--kind grid) are square gray images, e.g. 64 values 0..16 per 8x8 digit.
--gold FILE (CSV rows item,label) commits hidden gold questions by a salted hash; the gold and
its salt are saved under <home>/label for the close, which reveals them. Example (a devnet):

  tenun tx label create-job --from alice --title "Review sentiment" --labels neg,neu,pos \
    --items label/testdata/reviews.txt --gold label/testdata/reviews-gold.csv --stake 0.5tnn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, _, err := signer(f.from)
			if err != nil {
				return err
			}
			c := newClient()
			ctx := cmd.Context()
			m.Labels = strings.Split(labels, ",")
			switch {
			case itemsFile != "":
				if m.Items, _, err = readItems(itemsFile, m.ItemKind); err != nil {
					return err
				}
			case blobFile != "":
				items, format, err := readItems(blobFile, m.ItemKind)
				if err != nil {
					return err
				}
				content, err := os.ReadFile(blobFile)
				if err != nil {
					return err
				}
				if m.ItemsCID, err = c.RegisterBlob(ctx, key, content); err != nil {
					return err
				}
				m.ItemCount, m.ItemFormat = uint32(len(items)), format
			case m.ItemsCID == "":
				return errors.New("give the items: --items FILE, --items-blob FILE or --items-cid CID")
			}
			if m.Reward, err = parseAmount(reward); err != nil {
				return err
			}
			if m.Stake, err = parseAmount(stake); err != nil {
				return err
			}
			m.ConfidencePPM, m.QualityPPM = uint32(confidence*1e6+0.5), uint32(quality*1e6+0.5)
			if m.MaxPerWorker == 0 {
				m.MaxPerWorker = m.Count()
			}
			var gold agent.Gold
			if goldFile != "" {
				if gold.Items, gold.Labels, err = readGold(goldFile, m.Labels); err != nil {
					return err
				}
				if gold.Salt, err = agent.NewGoldSalt(); err != nil {
					return err
				}
				m.GoldHash = label.GoldHash(gold.Items, gold.Labels, gold.Salt)
			}
			res, err := submitFor(cmd, &f, key, &m)
			if err != nil || goldFile == "" {
				return err
			}
			id, ok := jobIDFromEvents(res.Events)
			if !ok {
				return fmt.Errorf("job created (tx %s) but its id is not in the events: keep %s to close it", res.Hash, goldFile)
			}
			gold.Job = id
			path := goldOut
			if path == "" {
				chainID, err := c.ChainID(ctx)
				if err != nil {
					return err
				}
				path = goldPath(chainID, id)
			}
			if err := agent.SaveGold(path, gold); err != nil {
				return fmt.Errorf("save the gold of job %d: %w", id, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "gold of job %d saved to %s (the close reveals it; keep it secret until then)\n", id, path)
			return nil
		},
	}
	addTxFlags(cmd, &f)
	fl := cmd.Flags()
	fl.StringVar(&m.Title, "title", "", "job title (required)")
	fl.StringVar(&labels, "labels", "", "comma-separated label set, 2 to 16 labels (required)")
	fl.StringVar(&itemsFile, "items", "", "inline items file (.jsonl, .csv, or one text per line)")
	fl.StringVar(&blobFile, "items-blob", "", "items file to upload as a blob (.jsonl or .csv)")
	fl.StringVar(&m.ItemsCID, "items-cid", "", "CID of a registered items blob")
	fl.Uint32Var(&m.ItemCount, "item-count", 0, "number of items in --items-cid")
	fl.StringVar(&m.ItemFormat, "format", "", "format of --items-cid: csv or jsonl")
	fl.StringVar(&m.ItemKind, "kind", label.KindText, "item kind: text, or grid (square gray image such as an 8x8 digit)")
	fl.Uint32Var(&m.Redundancy, "redundancy", 3, "answers per item")
	fl.Uint32Var(&m.MaxRedundancy, "max-redundancy", 5, "answers an uncertain item may get (dynamic overlap)")
	fractionFloatFlag(fl, &confidence, "confidence", 0.9, "posterior confidence below which an item gets another answer")
	amountFlag(fl, &reward, "reward", "1000utnn", "pay per answer at full quality")
	amountFlag(fl, &stake, "stake", "1tnn", "stake an annotator must have bonded in pool label (slashed below the bar)")
	blocksFlag(fl, &m.DeadlineBlocks, "deadline", 600, "how long annotators may join and commit")
	blocksFlag(fl, &m.RevealBlocks, "reveal", 200, "time after the deadline for reveals")
	blocksFlag(fl, &m.GraceBlocks, "grace", 200, "time after the reveals for the requester to close before it forfeits")
	fractionFloatFlag(fl, &quality, "quality", 0.5, "quality bar: workers scoring below it are slashed and unpaid")
	fl.Uint32Var(&m.BatchSize, "batch", 20, "items per assignment round")
	fl.Uint32Var(&m.MaxPerWorker, "max-per-worker", 0, "items one annotator may get in all (0: all)")
	fl.StringVar(&goldFile, "gold", "", "gold questions: CSV of item,label")
	fl.StringVar(&goldOut, "gold-out", "", "where to save the gold secret (default <home>/label/gold-<chain>-<job>.json)")
	cmd.MarkFlagRequired("title")
	cmd.MarkFlagRequired("labels")
	return cmd
}

func newJoinCmd(action, short string) *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use: action + " JOB", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			if action == "join" {
				return submit(cmd, &f, &label.MsgJoin{Job: id})
			}
			return submit(cmd, &f, &label.MsgMore{Job: id})
		},
	}
	addTxFlags(cmd, &f)
	return cmd
}

func newCommitCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "commit JOB ITEM LABEL",
		Short: "Commit a label (name or index) for an assigned item; the salt is kept under <home>/label for the reveal",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			item, err := strconv.ParseUint(args[1], 10, 32)
			if err != nil {
				return fmt.Errorf("item %q: want a number", args[1])
			}
			key, addr, err := signer(f.from)
			if err != nil {
				return err
			}
			c := newClient()
			var j label.Job
			if err := c.Query(cmd.Context(), "label", fmt.Sprintf("job/%d", id), nil, &j); err != nil {
				return err
			}
			l, err := parseLabel(j.Labels, args[2])
			if err != nil {
				return err
			}
			secrets, err := openWorkerSecrets(cmd.Context(), c, addr)
			if err != nil {
				return err
			}
			salt, err := secrets.New(id, uint32(item), l)
			if err != nil {
				return fmt.Errorf("save the commit salt: %w", err)
			}
			hash := label.CommitHash(id, uint32(item), l, salt, addr)
			_, err = submitFor(cmd, &f, key, &label.MsgCommit{Job: id, Entries: []label.CommitEntry{{Item: uint32(item), Hash: hash}}})
			return err
		},
	}
	addTxFlags(cmd, &f)
	return cmd
}

func newRevealCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "reveal JOB",
		Short: "Reveal every commit the chain lets you open now (salts from <home>/label)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			key, addr, err := signer(f.from)
			if err != nil {
				return err
			}
			c := newClient()
			secrets, err := openWorkerSecrets(cmd.Context(), c, addr)
			if err != nil {
				return err
			}
			n, err := agent.NewAnnotator(c, key, secrets, id).Reveal(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"job": id, "revealed": n}, func(w io.Writer) {
				if n == 0 {
					fmt.Fprintln(w, "nothing to reveal now (items wait for their other workers' commits, or all are revealed)")
					return
				}
				fmt.Fprintf(w, "revealed %d answers of job %d\n", n, id)
			})
		},
	}
	addTxFlags(cmd, &f)
	return cmd
}

func newCloseCmd() *cobra.Command {
	var f txFlags
	var goldFile string
	cmd := &cobra.Command{
		Use:   "close JOB",
		Short: "Close a job: the requester reveals its gold; after the grace period anyone may settle a forfeited job",
		Long: `Close a job. The requester's close reveals the gold saved by create-job (or --gold-file);
the chain infers the labels, pays and slashes, refunds the rest, and records the CID of the
results, whose bytes this command then uploads to the node. After the grace period anyone may
close without gold: the job is forfeited and its escrow goes to the workers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			key, addr, err := signer(f.from)
			if err != nil {
				return err
			}
			c := newClient()
			ctx := cmd.Context()
			var j label.Job
			if err := c.Query(ctx, "label", fmt.Sprintf("job/%d", id), nil, &j); err != nil {
				return err
			}
			st, err := c.Status(ctx)
			if err != nil {
				return err
			}
			msg := &label.MsgClose{Job: id}
			if addr == j.Requester && !j.GoldHash.IsZero() && st.Height+1 < j.ForfeitAt {
				path := goldFile
				if path == "" {
					path = goldPath(st.ChainID, id)
				}
				g, err := agent.LoadGold(path)
				if err != nil {
					return fmt.Errorf("the gold of job %d: %w (give --gold-file)", id, err)
				}
				msg.GoldItems, msg.GoldLabels, msg.Salt = g.Items, g.Labels, g.Salt
			}
			if _, err := submitFor(cmd, &f, key, msg); err != nil {
				return err
			}
			if f.noWait {
				return nil
			}
			cid, err := agent.UploadResults(ctx, c, key, id)
			if err != nil {
				return fmt.Errorf("job %d closed, but the results upload failed: %w", id, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "results of job %d stored as blob %s\n", id, cid)
			return nil
		},
	}
	addTxFlags(cmd, &f)
	cmd.Flags().StringVar(&goldFile, "gold-file", "", "gold secret saved by create-job (default <home>/label/gold-<chain>-<job>.json)")
	return cmd
}

func newLabelQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "label", Short: "Annotation market state"}
	var status string
	jobs := &cobra.Command{Use: "jobs", Short: "Labeling jobs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := map[string]string{}
			if status != "" {
				p["status"] = status
			}
			return queryJSON(cmd, "label", "jobs", p)
		}}
	jobs.Flags().StringVar(&status, "status", "", "only jobs with this status: open, closed or forfeited")
	job := &cobra.Command{Use: "job ID", Short: "A labeling job", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return queryJSON(cmd, "label", "job/"+args[0], nil) }}
	var worker string
	tasks := &cobra.Command{Use: "tasks ID --worker ADDRESS|KEY", Short: "A worker's items in a job, with their state", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := resolveAddress(worker)
			if err != nil {
				return err
			}
			return queryJSON(cmd, "label", "tasks/"+args[0], map[string]string{"worker": a.String()})
		}}
	tasks.Flags().StringVar(&worker, "worker", "", "worker address or key name (required)")
	tasks.MarkFlagRequired("worker")
	var format, out string
	results := &cobra.Command{
		Use: "results ID", Short: "A closed job's labels (label, confidence, votes), workers' scores and pay; --format csv|jsonl exports the labels",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			if format == "json" && out == "" {
				return queryJSON(cmd, "label", "results/"+args[0], nil)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			r, err := agent.FetchResults(ctx, agent.ClientLedger{C: newClient()}, id)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			switch format {
			case "csv":
				return agent.ExportCSV(w, &r.Results)
			case "jsonl":
				return agent.ExportJSONL(w, &r.Results)
			case "json":
				return emitJSONTo(w, r)
			}
			return fmt.Errorf("format %q: want json, csv or jsonl", format)
		},
	}
	results.Flags().StringVar(&format, "format", "json", "json (everything), csv or jsonl (one row per item)")
	results.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	cmd.AddCommand(jobs, job, tasks, results)
	return cmd
}

func emitJSONTo(w io.Writer, v any) error {
	saved := outputFormat
	outputFormat = "json"
	defer func() { outputFormat = saved }()
	return emit(w, v, nil)
}

func newAnnotateCmd() *cobra.Command {
	var key, listen string
	var job uint64
	cmd := &cobra.Command{
		Use:   "annotate --from NAME [--job ID] [--listen 127.0.0.1:PORT]",
		Short: "Serve a local labeling page that labels, commits and reveals with your key",
		Long: `Serve the labeling page on a local address and open it in a browser. The page shows
the job's instructions and examples, your assigned items one at a time (text, digit grids or
images) and, by task type: label buttons (keys 1..9, 0, then Q..Y), checkboxes for multi-label
jobs, a slider and a typed value for ratings, or a box editor (draw, move and resize boxes with
the mouse; N, Tab, arrows, Delete on the keys). S skips an item (it comes back last); Z takes
back the last answer while it waits. Answers wait a few seconds, then are committed in batches
in the background with --from's key (salts under <home>/label) and revealed as soon as the
chain allows, so you never wait for a block. The page shows your history, your agreement with
other workers, the gold score once the job closes, and the deadline in minutes with a warning.
Bond stake first: tenun tx stake bond label AMOUNT --from NAME.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, addr, err := signer(key)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			c := newClient()
			secrets, err := openWorkerSecrets(ctx, c, addr)
			if err != nil {
				return fmt.Errorf("reach the node at %s: %w", apiAddr(), err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			a := agent.NewAnnotator(c, k, secrets, job)
			if a.Logf, err = agentLogf(cmd, "annotator"); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "labeling page for %s: %s (Ctrl-C to stop)\n", addr, a.URL(ln.Addr().String()))
			return a.Serve(ctx, ln)
		},
	}
	addFromFlag(cmd, &key, "annotator key name in the keyring")
	addLogFlags(cmd)
	cmd.Flags().Uint64Var(&job, "job", 0, "job to work on (default: the newest open job)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7070", "address of the page (keep it on loopback: it signs with your key)")
	return cmd
}
