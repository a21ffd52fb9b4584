package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/internal/logging"
	"github.com/tenun-chain/tenun/node"
)

// agentLogf is an agent's logger: the node's structured logger (slog, text
// or JSON) in the home's config.toml log_format and log_level, or the
// --log-format and --log-level flags, every line tagged module=<name> so
// that per-module levels ("provider:debug,*:error") apply.
func agentLogf(cmd *cobra.Command, name string) (func(string, ...any), error) {
	level, format, err := node.LogConfig(homeDir)
	if err != nil {
		return nil, err
	}
	if f := cmd.Flags().Lookup("log-format"); f != nil && f.Changed {
		format = f.Value.String()
	}
	if f := cmd.Flags().Lookup("log-level"); f != nil && f.Changed {
		level = f.Value.String()
	}
	l, err := logging.New(cmd.ErrOrStderr(), level, format)
	if err != nil {
		return nil, err
	}
	l = l.With("module", name)
	return func(format string, args ...any) { l.Info(fmt.Sprintf(format, args...)) }, nil
}

// addLogFlags gives an agent command --log-format and --log-level.
func addLogFlags(cmd *cobra.Command) {
	cmd.Flags().String("log-format", "", "log format: plain or json (default: the home's config.toml log_format)")
	cmd.Flags().String("log-level", "", `log level: info, debug, error, none, or per module ("provider:debug,*:error") (default: the home's config.toml log_level)`)
}
