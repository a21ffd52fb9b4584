package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// completeKeyNames offers the keyring's key names (test keyrings and file
// keyrings alike: names are stored in the clear).
func completeKeyNames(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	kr, err := openKeyringNoPrompt()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	infos, err := kr.List()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name+"\t"+i.Address.String())
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeFirstKey completes the first argument with key names.
func completeFirstKey(cmd *cobra.Command, args []string, s string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return completeKeyNames(cmd, args, s)
}

// completeIDs completes the first argument with the ids a list query of the
// node answers (GET /query/<domain>/<path>, a list of objects with field),
// when the node is reachable within a second.
func completeIDs(domain, path, field string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var list []map[string]any
		if err := newClient().Query(ctx, domain, path, nil, &list); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var ids []string
		for _, item := range list {
			if v, ok := item[field]; ok {
				ids = append(ids, fmt.Sprint(v))
			}
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// idCompletions: commands whose first argument is an id the node can list
// (the list query and the field holding the id), completed from the node.
var idCompletions = map[string][3]string{
	"tenun query data dataset": {"data", "datasets", "id"}, "tenun query data contributions": {"data", "datasets", "id"},
	"tenun query data grants": {"data", "datasets", "id"}, "tenun query data versions": {"data", "datasets", "id"},
	"tenun tx data snapshot": {"data", "datasets", "id"}, "tenun tx data buy": {"data", "datasets", "id"},
	"tenun tx data contribute": {"data", "datasets", "id"}, "tenun data download": {"data", "datasets", "id"},
	"tenun query label job": {"label", "jobs", "id"}, "tenun query label results": {"label", "jobs", "id"},
	"tenun query label tasks": {"label", "jobs", "id"}, "tenun tx label join": {"label", "jobs", "id"},
	"tenun tx label close": {"label", "jobs", "id"}, "tenun tx label more": {"label", "jobs", "id"},
	"tenun tx label reveal": {"label", "jobs", "id"}, "tenun tx label commit": {"label", "jobs", "id"},
	"tenun query compute job": {"compute", "jobs", "id"}, "tenun tx compute decline": {"compute", "jobs", "id"},
	"tenun tx compute commit": {"compute", "jobs", "id"}, "tenun tx compute reveal": {"compute", "jobs", "id"},
	"tenun tx compute challenge": {"compute", "jobs", "id"}, "tenun compute fetch": {"compute", "jobs", "id"},
	"tenun query subnet info": {"subnet", "subnets", "id"}, "tenun query subnet epochs": {"subnet", "subnets", "id"},
	"tenun query subnet commits": {"subnet", "subnets", "id"}, "tenun query subnet metagraph": {"subnet", "subnets", "id"},
	"tenun query subnet epoch": {"subnet", "subnets", "id"}, "tenun tx subnet register": {"subnet", "subnets", "id"},
	"tenun tx subnet set-weights": {"subnet", "subnets", "id"}, "tenun tx subnet commit-weights": {"subnet", "subnets", "id"},
	"tenun tx subnet reveal-weights": {"subnet", "subnets", "id"},
	"tenun query zkml model":         {"zkml", "models", "id"}, "tenun query zkml claims": {"zkml", "models", "id"},
}

// keyArgCommands complete their first argument with key names.
var keyArgCommands = []string{"tenun query account", "tenun query balance", "tenun tx bank send"}

// applyCompletions wires the completions above into the command tree.
func applyCompletions(c *cobra.Command) {
	if c.ValidArgsFunction == nil {
		if q, ok := idCompletions[c.CommandPath()]; ok {
			c.ValidArgsFunction = completeIDs(q[0], q[1], q[2])
		}
		for _, k := range keyArgCommands {
			if c.CommandPath() == k {
				c.ValidArgsFunction = completeFirstKey
			}
		}
	}
	for _, s := range c.Commands() {
		applyCompletions(s)
	}
}
