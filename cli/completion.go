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
