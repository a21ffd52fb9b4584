package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/progress"
)

func init() {
	txCmd.AddCommand(newBankTxCmd(), newStakeTxCmd())
	queryCmd.AddCommand(newQueryAccountCmd(), newQueryBalanceCmd(), newQueryTxCmd(), newQueryBlockCmd(), newQueryChainCmd())
	rootCmd.AddCommand(newBlobCmd())
}

func newBankTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bank", Short: "Token transfers"}
	var f txFlags
	send := &cobra.Command{
		Use:   "send FROM TO AMOUNT",
		Short: "Send tokens (AMOUNT e.g. 2.5tnn or 2500000utnn); FROM is a key name",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("from") && f.from != args[0] {
				return fmt.Errorf("FROM %q and --from %q differ", args[0], f.from)
			}
			f.from = args[0]
			amt, err := parseAmount(args[2])
			if err != nil {
				return fmt.Errorf("AMOUNT: %w", err)
			}
			to, err := resolveAddress(args[1])
			if err != nil {
				return err
			}
			return submit(cmd, &f, &chain.MsgSend{To: to, Amount: amt})
		},
	}
	addTxFlags(send, &f)
	send.Flags().Lookup("from").Usage = "optional: FROM already names the signing key"
	cmd.AddCommand(send)
	return cmd
}

func newStakeTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "stake", Short: "Bond and unbond stake in a pool (validator, label, compute, subnet/N, ...)"}
	for _, action := range []string{"bond", "unbond"} {
		var f txFlags
		c := &cobra.Command{
			Use:   action + " POOL AMOUNT",
			Short: action + " stake in POOL",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				amt, err := parseAmount(args[1])
				if err != nil {
					return err
				}
				if action == "bond" {
					return submit(cmd, &f, &chain.MsgBond{Pool: args[0], Amount: amt})
				}
				return submit(cmd, &f, &chain.MsgUnbond{Pool: args[0], Amount: amt})
			},
		}
		addTxFlags(c, &f)
		cmd.AddCommand(c)
	}
	return cmd
}

func newQueryAccountCmd() *cobra.Command {
	return &cobra.Command{
		Use: "account ADDRESS|KEY", Short: "Balance, sequence, stake and slashes of an account", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := resolveAddress(args[0])
			if err != nil {
				return err
			}
			info, err := newClient().Account(cmd.Context(), a)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), info, func(w io.Writer) {
				fmt.Fprintf(w, "address:  %s\nbalance:  %s (%d utnn)\nsequence: %d\n", info.Address, formatAmount(info.Balance), info.Balance, info.Sequence)
				for _, s := range info.Stakes {
					fmt.Fprintf(w, "stake:    %s in %s\n", formatAmount(s.Amount), s.Pool)
				}
				for _, u := range info.Unbondings {
					fmt.Fprintf(w, "unbonding: %s from %s, paid at height %d\n", formatAmount(u.Amount), u.Pool, u.Maturity)
				}
				for _, s := range info.Slashes {
					fmt.Fprintf(w, "slashed:  %s from %s at height %d: %s\n", formatAmount(s.Amount), s.Pool, s.Height, s.Reason)
				}
			})
		},
	}
}

func newQueryBalanceCmd() *cobra.Command {
	return &cobra.Command{
		Use: "balance ADDRESS|KEY", Short: "Balance of an account", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := resolveAddress(args[0])
			if err != nil {
				return err
			}
			b, err := newClient().Balance(cmd.Context(), a)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"address": a, "balance": b, "denom": chain.Denom}, func(w io.Writer) {
				fmt.Fprintf(w, "%s (%d utnn)\n", formatAmount(b), b)
			})
		},
	}
}

func newQueryTxCmd() *cobra.Command {
	return &cobra.Command{
		Use: "tx HASH", Short: "A committed transaction, its message, result and events", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := newClient().Tx(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), t, func(w io.Writer) {
				fmt.Fprintf(w, "hash:   %s\nheight: %d\nsender: %s\ntype:   %s\nmsg:    %s\nfee:    %d utnn\nresult: code %d (%s)\n", t.Hash, t.Height, t.Sender, t.Type, t.Msg, t.Fee, t.Code, t.Log)
				for _, e := range t.Events {
					fmt.Fprintf(w, "event:  %s", e.Type)
					for _, a := range e.Attrs {
						fmt.Fprintf(w, " %s=%s", a.Key, a.Value)
					}
					fmt.Fprintln(w)
				}
			})
		},
	}
}

func newQueryBlockCmd() *cobra.Command {
	return &cobra.Command{
		Use: "block [HEIGHT]", Short: "A block (the latest without HEIGHT)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h int64
			if len(args) == 1 {
				v, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil {
					return fmt.Errorf("height %q: want a block number", args[0])
				}
				h = v
			}
			b, err := newClient().Block(cmd.Context(), h)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), b, func(w io.Writer) {
				fmt.Fprintf(w, "height:   %d\ntime:     %s\nhash:     %s\napp hash: %s\nproposer: %s\ntxs:      %d\n", b.Height, b.Time, b.Hash, b.AppHash, b.Proposer, len(b.Txs))
				for _, t := range b.Txs {
					fmt.Fprintf(w, "  %s\n", t)
				}
			})
		},
	}
}

// newQueryChainCmd exposes the core queries: supply, params, escrow/ID, pool/NAME, slashes, blob/CID.
func newQueryChainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "chain QUERY",
		Short: "Core state: supply | params | slashes | escrow/ID | pool/NAME | blob/CID",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return queryJSON(cmd, "core", args[0], nil) },
	}
}

func newBlobCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "blob", Short: "Content-addressed blobs under IPFS CIDs (CIDv1, sha2-256, 256 KiB raw leaves); CAR files of local files"}
	cmd.AddCommand(blobFileCommands()...)
	var f txFlags
	var fromCAR bool
	put := &cobra.Command{
		Use: "put FILE", Short: "Upload a file to the node (streamed, resumed if the connection breaks) and register its CID on chain (--car: the file a CAR holds)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, want := args[0], ""
			if fromCAR {
				// Reassemble the CAR's file (every block checked) next to it,
				// then upload that: its CID must be the CAR's root.
				tmp, root, err := fileFromCAR(cmd, args[0])
				if err != nil {
					return err
				}
				defer os.Remove(tmp)
				path, want = tmp, root
			}
			_, size, err := openSized(path)
			if err != nil {
				return err
			}
			key, _, err := signer(f.from)
			if err != nil {
				return err
			}
			// Two passes: the CID first (the upload is signed over it), then the upload.
			bar := progress.New(cmd.ErrOrStderr(), 2*size, "put "+args[0], "bytes")
			cid, n, err := newClient().RegisterBlobFile(cmd.Context(), key, path, bar.Add)
			bar.Finish()
			if err != nil {
				return err
			}
			if want != "" && cid != want {
				return fmt.Errorf("the CAR's root is %s, but its file uploads as %s (a CAR of another chunking: re-export it with tenun blob export-car)", want, cid)
			}
			return emit(cmd.OutOrStdout(), map[string]any{"cid": cid, "size": n}, func(w io.Writer) { fmt.Fprintln(w, cid) })
		},
	}
	addTxFlags(put, &f)
	put.Flags().BoolVar(&fromCAR, "car", false, "FILE is a CAR (from ipfs dag export or blob export-car): upload the file it holds under its root")
	var outFile string
	var car bool
	get := &cobra.Command{
		Use: "get CID", Short: "Download a blob, checked against its CID as it streams, to --out or stdout (--car: as a CARv1 of its DAG)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if outFile != "" {
				var err error
				if file, err = os.Create(outFile); err != nil {
					return err
				}
				w = file
			}
			bar := progress.New(cmd.ErrOrStderr(), -1, "get "+args[0], "bytes")
			n, err := newClient().BlobDownload(cmd.Context(), args[0], car, w, bar.Add)
			bar.Finish()
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(outFile) // never leave bytes that failed their check
				}
			}
			if err != nil {
				return err
			}
			if file != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d bytes, checked against %s\n", outFile, n, args[0])
			}
			return nil
		},
	}
	get.Flags().StringVar(&outFile, "out", "", "write to this file instead of stdout")
	get.Flags().BoolVar(&car, "car", false, "download the CARv1 of the blob's DAG (for ipfs dag import or a Filecoin deal) instead of its bytes")
	cmd.AddCommand(put, get)
	return cmd
}

// fileFromCAR writes the file a CAR holds to a temporary file beside it and
// returns its path and the CAR's root.
func fileFromCAR(cmd *cobra.Command, carPath string) (string, string, error) {
	in, err := os.Open(carPath)
	if err != nil {
		return "", "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(carPath), ".car-file-*")
	if err != nil {
		return "", "", err
	}
	root, _, err := blob.ImportCAR(cmd.Context(), in, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", "", fmt.Errorf("read %s: %w", carPath, err)
	}
	return out.Name(), root.String(), nil
}
