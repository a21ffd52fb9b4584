package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/internal/progress"
)

// blobFileCommands are the blob commands that work on local files the way
// IPFS does: the CID `ipfs add --cid-version 1 --raw-leaves` gives, and CAR
// files any IPFS tool reads.
func blobFileCommands() []*cobra.Command {
	cidCmd := &cobra.Command{
		Use:   "cid FILE",
		Short: "Print a file's IPFS CID (ipfs add --cid-version 1 --raw-leaves: 256 KiB chunks, balanced DAG), streaming",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, size, err := openSized(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			bar := progress.New(cmd.ErrOrStderr(), size, "hash "+args[0], "bytes")
			c, n, err := blob.CID(&barReader{r: f, bar: bar})
			bar.Finish()
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"cid": c.String(), "size": n}, func(w io.Writer) { fmt.Fprintln(w, c) })
		},
	}
	exportCmd := &cobra.Command{
		Use:   "export-car FILE OUT.car",
		Short: "Write a file's UnixFS DAG as a CARv1 (what `ipfs dag import` reads), streaming",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, size, err := openSized(args[0])
			if err != nil {
				return err
			}
			out, err := os.Create(args[1])
			if err != nil {
				return err
			}
			bar := progress.New(cmd.ErrOrStderr(), 2*size, "export "+args[0], "bytes")
			root, err := blob.ExportCAR(cmd.Context(), func() (io.ReadCloser, error) {
				f, err := os.Open(args[0])
				if err != nil {
					return nil, err
				}
				return readCloser{&barReader{r: f, bar: bar}, f}, nil
			}, out)
			bar.Finish()
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(args[1])
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"root": root.String(), "car": args[1]}, func(w io.Writer) {
				fmt.Fprintf(w, "%s: root %s\n", args[1], root)
			})
		},
	}
	importCmd := &cobra.Command{
		Use:   "import-car IN.car OUT",
		Short: "Reassemble the file a CAR holds, checking every block against its CID",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.Create(args[1])
			if err != nil {
				return err
			}
			root, n, err := blob.ImportCAR(cmd.Context(), in, out)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(args[1])
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"root": root.String(), "size": n, "file": args[1]}, func(w io.Writer) {
				fmt.Fprintf(w, "%s: %d bytes, root %s verified\n", args[1], n, root)
			})
		},
	}
	return []*cobra.Command{cidCmd, exportCmd, importCmd}
}

func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

type barReader struct {
	r   io.Reader
	bar *progress.Bar
}

func (b *barReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.bar.Add(n)
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}
