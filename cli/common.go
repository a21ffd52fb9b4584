package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/internal/units"
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
		if a, err := normalizeNode(nodeAddr); err == nil {
			return a
		}
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
	return keys.Open(keyringPath(), backend(), readPassphrase)
}

// openKeyringNoPrompt opens the keyring for listing names only (shell
// completion must never wait for a passphrase).
func openKeyringNoPrompt() (*keys.Keyring, error) {
	return keys.Open(keyringPath(), backend(), func() (string, error) {
		return "", errors.New("no passphrase prompt here")
	})
}

func keyringPath() string {
	if keyringDir != "" {
		return keyringDir
	}
	return filepath.Join(homeDir, "keyring-"+string(backend()))
}

// stdin is one buffered reader over the command's input, so that prompts
// answered in a row (passphrase, then mnemonic) from a pipe do not lose
// each other's lines.
var (
	stdin    *bufio.Reader
	stdinSrc io.Reader
)

// readLine reads one line of the command's standard input.
func readLine() (string, error) {
	src := rootCmd.InOrStdin()
	if stdin == nil || stdinSrc != src {
		stdin, stdinSrc = bufio.NewReader(src), src
	}
	line, err := stdin.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readSecret reads a secret without echo on a terminal, or the next line of
// a pipe.
func readSecret(prompt string) (string, error) {
	fmt.Fprint(rootCmd.ErrOrStderr(), prompt)
	if rootCmd.InOrStdin() == os.Stdin && stdinIsTerminal() {
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		return string(b), err
	}
	return readLine()
}

// readPassphrase takes the keyring passphrase from TENUN_PASSPHRASE, or
// asks for it (no echo on a terminal; the first line of a pipe).
func readPassphrase() (string, error) {
	if p, ok := os.LookupEnv("TENUN_PASSPHRASE"); ok {
		return p, nil
	}
	p, err := readSecret("Keyring passphrase: ")
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w (set TENUN_PASSPHRASE to pass it non-interactively)", err)
	}
	return p, nil
}

// signer returns the private key of a keyring entry.
func signer(name string) (ed25519.PrivKey, chain.Address, error) {
	if err := requireFrom(name); err != nil {
		return nil, chain.Address{}, err
	}
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

// parseAmount reads an amount in the one format every amount takes
// (5tnn, 0.5tnn, 5000000utnn); a bare number is refused.
func parseAmount(s string) (uint64, error) { return units.ParseAmount(s) }

// formatAmount prints utnn as TNN ("2.5 TNN").
func formatAmount(u uint64) string { return units.FormatAmount(u) }

// txFlags are shared by every tx command (the Cosmos SDK's names where they
// mean the same).
type txFlags struct {
	from    string
	fees    uint64
	memo    string
	chainID string
	noWait  bool
	yes     bool
	dryRun  bool
}

func addTxFlags(cmd *cobra.Command, f *txFlags) {
	fl := cmd.Flags()
	addFromFlag(cmd, &f.from, "name of the signing key in the keyring")
	units.AmountVar(fl, &f.fees, "fees", 0, "fee to pay (default: the minimum the message needs)")
	fl.Var((*units.Amount)(&f.fees), "fee", "deprecated: use --fees")
	fl.MarkDeprecated("fee", "use --fees (same amount format)")
	fl.StringVar(&f.memo, "memo", "", "memo stored with the transaction")
	fl.StringVar(&f.chainID, "chain-id", "", "refuse to sign unless the node runs this chain")
	fl.BoolVar(&f.noWait, "no-wait", false, "return once the mempool accepts the transaction")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation before signing")
	fl.BoolVar(&f.dryRun, "dry-run", false, "run the transaction against the node's check state and print the result without submitting it")
}

// addFromFlag defines --from (the signing key) with --key as a deprecated
// alias, for tx commands and agents alike.
func addFromFlag(cmd *cobra.Command, p *string, usage string) {
	fl := cmd.Flags()
	fl.StringVar(p, "from", "", usage+" (required)")
	fl.StringVar(p, "key", "", "deprecated: use --from")
	fl.MarkDeprecated("key", "use --from")
	cmd.RegisterFlagCompletionFunc("from", completeKeyNames)
}

// requireFrom fails with a clear message when no signing key was given.
func requireFrom(from string) error {
	if from == "" {
		return errors.New("no signing key: pass --from NAME (see `tenun keys list`)")
	}
	return nil
}

// submit signs msg with --from and prints the result.
func submit(cmd *cobra.Command, f *txFlags, msg chain.Msg) error {
	key, _, err := signer(f.from) // refuses an empty --from with the same message
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
	c := newClient()
	if err := checkChainID(ctx, c, f.chainID); err != nil {
		return api.TxResponse{}, err
	}
	opt := client.Options{Fee: f.fees, Memo: f.memo, NoWait: f.noWait}
	if f.dryRun {
		return dryRun(cmd, ctx, c, key, msg, opt)
	}
	if err := confirmTx(cmd, f, key, msg, opt); err != nil {
		return api.TxResponse{}, err
	}
	res, err := c.Submit(ctx, key, msg, opt)
	if err != nil {
		var te *client.TxError
		if errors.As(err, &te) && jsonOutput() {
			emit(cmd.OutOrStdout(), te.Res, nil)
		}
		return res, err
	}
	return res, emit(cmd.OutOrStdout(), res, func(w io.Writer) {
		if res.Height == 0 {
			fmt.Fprintf(w, "accepted into the mempool: %s\n", res.Hash)
		} else {
			fmt.Fprintf(w, "committed %s in block %d\n", res.Hash, res.Height)
		}
		printEvents(w, res.Events)
	})
}

// printEvents prints a transaction's events, one line each, as a table of
// key=value pairs (the tx event only repeats the sender and type).
func printEvents(w io.Writer, events []chain.Event) {
	{
		for _, e := range events {
			if e.Type == "tx" {
				continue
			}
			fmt.Fprintf(w, "  %s", e.Type)
			for _, a := range e.Attrs {
				fmt.Fprintf(w, " %s=%s", a.Key, humanValue(a.Key, a.Value))
			}
			fmt.Fprintln(w)
		}
	}
}

// queryJSON runs a domain query and prints its answer: exact JSON with
// -o json, otherwise lines and tables (amounts in TNN).
func queryJSON(cmd *cobra.Command, domain, path string, params map[string]string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	q := map[string][]string{}
	for k, v := range params {
		q[k] = []string{v}
	}
	var raw json.RawMessage
	if err := newClient().Query(ctx, domain, path, q, &raw); err != nil {
		return err
	}
	if jsonOutput() {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("the node's answer is not JSON: %w", err)
		}
		return emit(cmd.OutOrStdout(), v, nil)
	}
	v, err := decodeOrdered(raw)
	if err != nil {
		return fmt.Errorf("the node's answer is not JSON: %w", err)
	}
	renderHuman(cmd.OutOrStdout(), v)
	return nil
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
