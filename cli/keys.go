package cli

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/client/keys"
)

func init() { rootCmd.AddCommand(newKeysCmd()) }

// readMnemonic asks for a mnemonic without echo on a terminal, or reads
// the next line of a pipe; mnemonics never come from argv, where they
// would stay in the shell's history and the process list.
func readMnemonic() (string, error) {
	m, err := readSecret("Enter the 24-word mnemonic: ")
	if err != nil {
		return "", fmt.Errorf("read mnemonic: %w (type it at the prompt, or pipe it on stdin)", err)
	}
	m = keys.NormalizeMnemonic(m)
	if err := keys.ValidateMnemonic(m); err != nil {
		return "", fmt.Errorf("mnemonic: %w", err)
	}
	return m, nil
}

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use: "keys", Short: "Manage the local keyring",
		Example: "  tenun keys add alice\n  tenun keys list",
	}
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
	var recover bool
	add := &cobra.Command{
		Use: "add NAME", Short: "Create a new key and show its mnemonic once, or --recover one from its mnemonic", Args: cobra.ExactArgs(1),
		Example: "  tenun keys add alice\n  tenun keys add alice --recover            # asks for the mnemonic\n  tenun keys add alice --recover < mnemonic.txt",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keys.ValidateName(args[0]); err != nil {
				return err
			}
			var mnemonic string
			if recover {
				m, err := readMnemonic()
				if err != nil {
					return err
				}
				mnemonic = m
			}
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			if recover {
				info, err := kr.Import(args[0], mnemonic)
				if err != nil {
					return err
				}
				return printInfo(cmd, info, nil)
			}
			info, mnemonic, err := kr.Add(args[0])
			if err != nil {
				return err
			}
			return printInfo(cmd, info, map[string]any{"mnemonic": mnemonic})
		},
	}
	add.Flags().BoolVar(&recover, "recover", false, "recover the key from its mnemonic (asked for, or read from stdin)")
	cmd.AddCommand(add)
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List keys", Args: cobra.NoArgs,
		Example: "  tenun keys list\n  tenun keys list -o json",
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
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tADDRESS")
				for _, i := range infos {
					fmt.Fprintf(tw, "%s\t%s\n", i.Name, i.Address)
				}
				tw.Flush()
			})
		},
	})
	var addrOnly bool
	show := &cobra.Command{
		Use: "show NAME", Short: "Show a key's address", Args: cobra.ExactArgs(1),
		Example:           "  tenun keys show alice\n  tenun keys show alice -a",
		ValidArgsFunction: completeFirstKey,
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			info, err := kr.Show(args[0])
			if err != nil {
				return err
			}
			if addrOnly && !jsonOutput() {
				fmt.Fprintln(cmd.OutOrStdout(), info.Address)
				return nil
			}
			return printInfo(cmd, info, nil)
		},
	}
	show.Flags().BoolVarP(&addrOnly, "address", "a", false, "print only the address")
	cmd.AddCommand(show)
	cmd.AddCommand(&cobra.Command{
		Use: "import NAME", Short: "Import a key from its 24-word mnemonic (asked for, or read from stdin)",
		Example: "  tenun keys import alice\n  tenun keys import alice < mnemonic.txt",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return errors.New("the mnemonic is not taken as an argument (it would stay in the shell history): run `tenun keys import NAME` and type it, or pipe it on stdin")
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keys.ValidateName(args[0]); err != nil {
				return err
			}
			m, err := readMnemonic()
			if err != nil {
				return err
			}
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			info, err := kr.Import(args[0], m)
			if err != nil {
				return err
			}
			return printInfo(cmd, info, nil)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "export NAME", Short: "Print a key's mnemonic (needs the passphrase)", Args: cobra.ExactArgs(1),
		Example:           "  tenun keys export alice",
		ValidArgsFunction: completeFirstKey,
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
	var yes bool
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a key (asks first unless --yes)", Args: cobra.ExactArgs(1),
		Example:           "  tenun keys delete bob\n  tenun keys delete bob --yes",
		ValidArgsFunction: completeFirstKey,
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := openKeyring()
			if err != nil {
				return err
			}
			info, err := kr.Show(args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, err := askYesNo(cmd, fmt.Sprintf("delete key %s (%s)? Without its mnemonic it is gone for good", info.Name, info.Address))
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("cancelled: the key was not deleted")
				}
			}
			if err := kr.Delete(args[0]); err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), map[string]any{"deleted": info.Name, "address": info.Address.String()}, func(w io.Writer) {
				fmt.Fprintf(w, "deleted %s (%s)\n", info.Name, info.Address)
			})
		},
	}
	del.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	cmd.AddCommand(del)
	return cmd
}
