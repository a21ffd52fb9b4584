package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
)

func newComputeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Compute market client commands"}
	var out string
	fetch := &cobra.Command{
		Use:   "fetch JOB --out DIR",
		Short: "Download a job's accepted output archive and unpack its files into DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c := newClient()
			var j compute.Job
			if err := c.Query(ctx, "compute", "job/"+args[0], nil, &j); err != nil {
				return err
			}
			if j.Result == nil {
				return fmt.Errorf("job %d has no result yet (%s)", j.ID, j.Status)
			}
			archive, err := c.BlobGet(ctx, j.Result.Output)
			if err != nil {
				return err
			}
			files, err := sandbox.UnpackArchive(archive)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(files))
			for name, b := range files {
				p := filepath.Join(out, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					return err
				}
				names = append(names, name)
			}
			sort.Strings(names)
			return emit(cmd.OutOrStdout(), map[string]any{"job": j.ID, "status": j.Status, "digest": j.Result.Digest, "files": names}, func(w io.Writer) {
				fmt.Fprintf(w, "job %d (%s, %s): %d files into %s: %s\n", j.ID, j.Status, j.Result.By, len(names), out, strings.Join(names, ", "))
			})
		},
	}
	fetch.Flags().StringVar(&out, "out", ".", "directory to unpack the outputs into")
	cmd.AddCommand(fetch)
	return cmd
}
