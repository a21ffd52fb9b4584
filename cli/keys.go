package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/client/keys"
)

func init() { rootCmd.AddCommand(newKeysCmd()) }

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the local keyring"}
	printInfo := func(cmd *cobra.Command, info keys.Info, extra map[string]any) error {
		v := map[string]any{"name": info.Name, "address": info.Address.String(), "backend": info.Backend}
		for k, x := range extra {
			v[k] = x
		}
		return emit(cmd.OutOrStdout(), v, func(w io.Writer) {
			fmt.Fprintf(w, "%s\t%s\n", info.Name, info.Address)
			if m, ok := extra["mnemonic"]; ok {
				fmt.Fprintf(w, "\nWrite this mnemonic down and keep it safe; it is the only way to recover the key:\n%s\n", m)
			}
		})
	}
	cmd.AddCommand(&cobra.Command{
		Use: "add NAME", Short: "Create a new key and show its mnemonic once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			info, mnemonic, err := kr.Add(args[0])
			if err != nil {
				return err
			}
			return printInfo(cmd, info, map[string]any{"mnemonic": mnemonic})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List keys", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			infos, err := kr.List()
			if err != nil {
				return err
			}
			out := []map[string]any{}
			for _, i := range infos {
				out = append(out, map[string]any{"name": i.Name, "address": i.Address.String(), "backend": i.Backend})
			}
			return emit(cmd.OutOrStdout(), out, func(w io.Writer) {
				for _, i := range infos {
					fmt.Fprintf(w, "%s\t%s\n", i.Name, i.Address)
				}
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "show NAME", Short: "Show a key's address", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			info, err := kr.Show(args[0])
			if err != nil {
				return err
			}
			return printInfo(cmd, info, nil)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "import NAME MNEMONIC", Short: "Import a key from its 24-word mnemonic", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			info, err := kr.Import(args[0], args[1])
			if err != nil {
				return err
			}
			return printInfo(cmd, info, nil)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "export NAME", Short: "Print a key's mnemonic (needs the passphrase)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			m, err := kr.Export(args[0])
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"name": args[0], "mnemonic": m}, func(w io.Writer) { fmt.Fprintln(w, m) })
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "delete NAME", Short: "Delete a key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			return kr.Delete(args[0])
		},
	})
	return cmd
}
