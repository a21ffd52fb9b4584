package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newComputeQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Compute market state"}
	for _, q := range []struct{ use, short, path string }{
		{"job ID", "A job: spec, assignments, commitments, reveals, verdicts, result", "job/"},
		{"provider ADDRESS", "A provider: offer, stake, liveness, record", "provider/"},
	} {
		q := q
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				arg := args[0]
				if q.path == "provider/" {
					a, err := resolveAddress(arg)
					if err != nil {
						return err
					}
					arg = a.String()
				}
				if q.path == "provider/" {
					return queryJSON(cmd, "compute", q.path+arg, heightParam(cmd))
				}
				return queryJSON(cmd, "compute", q.path+arg, nil)
			}})
	}
	for _, q := range []struct{ use, short string }{
		{"providers", "Registered providers with stake, liveness and reputation"},
		{"params", "The market's rules"},
		{"pool", "The spot-check pool"},
	} {
		q := q
		cmd.AddCommand(&cobra.Command{Use: q.use, Short: q.short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var params map[string]string
				if q.use == "providers" {
					params = heightParam(cmd)
				}
				return queryJSON(cmd, "compute", q.use, params)
			}})
	}
	var provider, status, tenant, limit, after string
	jobs := &cobra.Command{
		Use: "jobs", Short: "Jobs, filtered by --provider (active assignments), --status or --tenant", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params := map[string]string{}
			for k, v := range map[string]string{"status": status, "limit": limit, "after": after} {
				if v != "" {
					params[k] = v
				}
			}
			for k, v := range map[string]string{"provider": provider, "tenant": tenant} {
				if v == "" {
					continue
				}
				a, err := resolveAddress(v)
				if err != nil {
					return err
				}
				params[k] = a.String()
			}
			return queryJSON(cmd, "compute", "jobs", params)
		},
	}
	jobs.Flags().StringVar(&provider, "provider", "", "jobs where this provider (address or key name) holds an active assignment")
	jobs.Flags().StringVar(&status, "status", "", "running, challenge, open (both), settled, expired or failed")
	jobs.Flags().StringVar(&tenant, "tenant", "", "jobs of this tenant (address or key name)")
	jobs.Flags().StringVar(&limit, "limit", "", "at most this many (default 100)")
	jobs.Flags().StringVar(&after, "after", "", "only jobs with a higher id (paging)")
	cmd.AddCommand(jobs)
	return cmd
}

// heightParam passes the chain's height to provider queries, which judge
// liveness against it (state alone does not know the current height).
func heightParam(cmd *cobra.Command) map[string]string {
	st, err := newClient().Status(cmd.Context())
	if err != nil {
		return nil // the query itself will report the node unreachable
	}
	return map[string]string{"height": fmt.Sprint(st.Height)}
}
