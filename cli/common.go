package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/node"
)

// Global connection and keyring flags. Defaults come from the home
// directory's config/tenun.json when it exists, so after `tenun devnet` every
// command talks to the devnet with its test keyring without more flags.
var (
	homeDir        string
	nodeAddr       string
	keyringBackend string
	keyringDir     string
)

func defaultHome() string {
	if h := os.Getenv("TENUN_HOME"); h != "" {
		return h
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return ".tenun"
	}
	return filepath.Join(h, ".tenun")
}

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&homeDir, "home", defaultHome(), "node and keyring directory (env TENUN_HOME)")
	pf.StringVar(&nodeAddr, "node", "", "API address of the node (default: the home's node, or 127.0.0.1:26658)")
	pf.StringVar(&keyringBackend, "keyring-backend", "", "keyring backend: file (encrypted) or test (unencrypted, devnets only); default: the home's, or file")
	pf.StringVar(&keyringDir, "keyring-dir", "", "keyring directory (default: <home>/keyring-<backend>)")
}

// homeConfig is the part of tenun.json the client reads.
func homeConfig() (node.AppConfig, bool) {
	c, err := node.LoadAppConfig(homeDir)
	return c, err == nil
}

func apiAddr() string {
	if nodeAddr != "" {
		return nodeAddr
	}
	if c, ok := homeConfig(); ok && c.APIAddr != "" {
		return c.APIAddr
	}
	return "127.0.0.1:26658"
}

func newClient() *client.Client { return client.New(apiAddr()) }

func backend() keys.Backend {
	b := keyringBackend
	if b == "" {
		if c, ok := homeConfig(); ok && c.KeyringBackend != "" {
			b = c.KeyringBackend
		} else {
			b = string(keys.BackendFile)
		}
	}
	return keys.Backend(b)
}

func openKeyring() (*keys.Keyring, error) {
	dir := keyringDir
	b := backend()
	if dir == "" {
		dir = filepath.Join(homeDir, "keyring-"+string(b))
	}
	return keys.Open(dir, b, readPassphrase)
}

// readPassphrase takes the keyring passphrase from TENUN_PASSPHRASE or the
// first line of standard input.
func readPassphrase() (string, error) {
	if p, ok := os.LookupEnv("TENUN_PASSPHRASE"); ok {
		return p, nil
	}
	fmt.Fprint(os.Stderr, "Keyring passphrase: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read passphrase: %w (set TENUN_PASSPHRASE to pass it non-interactively)", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// signer returns the private key of a keyring entry.
func signer(name string) (ed25519.PrivKey, chain.Address, error) {
	kr, err := openKeyring()
	if err != nil {
		return nil, chain.Address{}, err
	}
	k, err := kr.Signer(name)
	if err != nil {
		return nil, chain.Address{}, err
	}
	return k, chain.AddressFromPubKey(k.PubKey().Bytes()), nil
}

// resolveAddress accepts a bech32 address or the name of a keyring entry.
func resolveAddress(s string) (chain.Address, error) {
	if a, err := chain.ParseAddress(s); err == nil {
		return a, nil
	}
	kr, err := openKeyring()
	if err != nil {
		return chain.Address{}, fmt.Errorf("%q is not an address, and the keyring cannot be opened: %w", s, err)
	}
	info, err := kr.Show(s)
	if err != nil {
		return chain.Address{}, fmt.Errorf("%q is neither an address nor a key name: %w", s, err)
	}
	return info.Address, nil
}

// parseAmount reads "12.5tnn", "1500utnn" or a bare number of utnn.
func parseAmount(s string) (uint64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasSuffix(s, "utnn"):
		return strconv.ParseUint(strings.TrimSuffix(s, "utnn"), 10, 64)
	case strings.HasSuffix(s, "tnn"):
		num := strings.TrimSuffix(s, "tnn")
		whole, frac, _ := strings.Cut(num, ".")
		if len(frac) > 6 {
			return 0, fmt.Errorf("amount %q: at most 6 decimals", s)
		}
		w, err := strconv.ParseUint(whole, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("amount %q: %w", s, err)
		}
		frac += strings.Repeat("0", 6-len(frac))
		f, err := strconv.ParseUint(frac, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("amount %q: %w", s, err)
		}
		if w > (1<<64-1-f)/node.TNN {
			return 0, fmt.Errorf("amount %q overflows", s)
		}
		return w*node.TNN + f, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: want a number of utnn, or e.g. 12.5tnn", s)
	}
	return v, nil
}

// formatAmount prints utnn as TNN with 6 decimals.
func formatAmount(u uint64) string {
	return fmt.Sprintf("%d.%06d TNN", u/node.TNN, u%node.TNN)
}

// txFlags are shared by every tx command.
type txFlags struct {
	from   string
	fee    uint64
	memo   string
	noWait bool
}

func addTxFlags(cmd *cobra.Command, f *txFlags) {
	cmd.Flags().StringVar(&f.from, "from", "", "name of the signing key in the keyring (required)")
	cmd.Flags().Uint64Var(&f.fee, "fee", 0, "fee in utnn (default: the minimum the message needs)")
	cmd.Flags().StringVar(&f.memo, "memo", "", "memo stored with the transaction")
	cmd.Flags().BoolVar(&f.noWait, "no-wait", false, "return once the mempool accepts the transaction")
	cmd.MarkFlagRequired("from")
}

// submit signs msg with --from and prints the result.
func submit(cmd *cobra.Command, f *txFlags, msg chain.Msg) error {
	key, _, err := signer(f.from)
	if err != nil {
		return err
	}
	return submitAs(cmd, f, key, msg)
}

// submitAs is submit with a key already unlocked, for commands that sign
// more than one transaction (file keyrings ask for the passphrase per unlock).
func submitAs(cmd *cobra.Command, f *txFlags, key ed25519.PrivKey, msg chain.Msg) error {
	_, err := submitFor(cmd, f, key, msg)
	return err
}

// submitFor is submitAs that also returns the node's response, for commands
// that read its events (create-job needs the job id).
func submitFor(cmd *cobra.Command, f *txFlags, key ed25519.PrivKey, msg chain.Msg) (api.TxResponse, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), 90*time.Second)
	defer cancel()
	res, err := newClient().Submit(ctx, key, msg, client.Options{Fee: f.fee, Memo: f.memo, NoWait: f.noWait})
	if err != nil {
		var te *client.TxError
		if errors.As(err, &te) && jsonOutput() {
			emit(cmd.OutOrStdout(), te.Res, nil)
		}
		return res, err
	}
	return res, emit(cmd.OutOrStdout(), res, func(w io.Writer) {
		fmt.Fprintf(w, "committed %s in block %d\n", res.Hash, res.Height)
		for _, e := range res.Events {
			if e.Type == "tx" {
				continue
			}
			fmt.Fprintf(w, "  %s", e.Type)
			for _, a := range e.Attrs {
				fmt.Fprintf(w, " %s=%s", a.Key, a.Value)
			}
			fmt.Fprintln(w)
		}
	})
}

// queryJSON runs a domain query and prints its JSON answer (pretty in both
// modes: these answers are structured).
func queryJSON(cmd *cobra.Command, domain, path string, params map[string]string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	q := map[string][]string{}
	for k, v := range params {
		q[k] = []string{v}
	}
	var v any
	if err := newClient().Query(ctx, domain, path, q, &v); err != nil {
		return err
	}
	saved := outputFormat
	outputFormat = "json"
	defer func() { outputFormat = saved }()
	return emit(cmd.OutOrStdout(), v, nil)
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
