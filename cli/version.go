package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newVersionCmd()) }

// keyModules are the dependencies whose versions decide what a node does
// (consensus, state, proofs, sandbox); --long lists every module.
var keyModules = []string{
	"github.com/cometbft/cometbft", "github.com/cosmos/iavl", "github.com/consensys/gnark",
	"github.com/consensys/gnark-crypto", "github.com/tetratelabs/wazero", "github.com/fxamacker/cbor/v2",
	"github.com/spf13/cobra",
}

type moduleVersion struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Sum     string `json:"sum,omitempty"`
}

type versionInfo struct {
	Version   string          `json:"version"`
	Module    string          `json:"module"`
	GoVersion string          `json:"go_version"`
	Platform  string          `json:"platform"`
	Commit    string          `json:"commit,omitempty"`
	Dirty     bool            `json:"dirty,omitempty"`
	BuildTime string          `json:"build_time,omitempty"`
	Deps      []moduleVersion `json:"deps"`
}

func buildVersion(all bool) versionInfo {
	v := versionInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Deps: []moduleVersion{}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module, v.Version = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Dirty = s.Value == "true"
		case "vcs.time":
			v.BuildTime = s.Value
		}
	}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		keep := all
		for _, k := range keyModules {
			keep = keep || d.Path == k
		}
		if keep {
			v.Deps = append(v.Deps, moduleVersion{Path: d.Path, Version: m.Version, Sum: m.Sum})
		}
	}
	return v
}

func newVersionCmd() *cobra.Command {
	var long bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of tenun, its Go toolchain and the modules it was built with",
		Example: `  tenun version
  tenun version --long -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion(long)
			return emit(cmd.OutOrStdout(), v, func(w io.Writer) {
				fmt.Fprintf(w, "tenun %s (%s, %s)\n", v.Version, v.GoVersion, v.Platform)
				if v.Commit != "" {
					dirty := ""
					if v.Dirty {
						dirty = " (modified)"
					}
					fmt.Fprintf(w, "commit %s%s %s\n", v.Commit, dirty, v.BuildTime)
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				for _, d := range v.Deps {
					fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(d.Path, "github.com/"), d.Version)
				}
				tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&long, "long", false, "list every module, not only the ones that decide consensus and proofs")
	return cmd
}
