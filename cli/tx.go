package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/units"
)

// checkChainID refuses to sign for another chain than --chain-id names.
func checkChainID(ctx context.Context, c *client.Client, want string) error {
	if want == "" {
		return nil
	}
	got, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("--chain-id %q, but the node at %s runs chain %q", want, c.Base(), got)
	}
	return nil
}

// dryRun runs the transaction against the node's check state and prints
// what it would do; nothing is submitted. A transaction that would be
// rejected makes the command fail, like a real submission would.
func dryRun(cmd *cobra.Command, ctx context.Context, c *client.Client, key ed25519.PrivKey, msg chain.Msg, opt client.Options) (api.TxResponse, error) {
	res, err := c.Simulate(ctx, key, msg, opt)
	if err != nil {
		return res, err
	}
	fee, err := c.Fee(ctx, msg, opt)
	if err != nil {
		return res, err
	}
	v := map[string]any{"dry_run": true, "type": msg.Type(), "fee": fee, "code": res.Code, "log": res.Log, "events": res.Events}
	if err := emit(cmd.OutOrStdout(), v, func(w io.Writer) {
		if res.Code == 0 {
			fmt.Fprintf(w, "dry run: %s would succeed (fee %s); not submitted\n", msg.Type(), formatAmount(fee))
		} else {
			fmt.Fprintf(w, "dry run: %s would be rejected (code %d): %s\n", msg.Type(), res.Code, res.Log)
		}
		printEvents(w, res.Events)
	}); err != nil {
		return res, err
	}
	if res.Code != 0 {
		return res, &client.TxError{Res: res}
	}
	return res, nil
}

// stdinIsTerminal is a variable so tests can drive the prompt.
var stdinIsTerminal = func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// confirmTx shows the transaction and asks before signing when a person
// is at a terminal; --yes, --output json and non-interactive input skip it.
func confirmTx(cmd *cobra.Command, f *txFlags, key ed25519.PrivKey, msg chain.Msg, opt client.Options) error {
	if f.yes || jsonOutput() || !stdinIsTerminal() {
		return nil
	}
	body, _ := json.Marshal(msg)
	fee, err := newClient().Fee(cmd.Context(), msg, opt)
	if err != nil {
		return err
	}
	from := chain.AddressFromPubKey(key.PubKey().Bytes())
	fmt.Fprintf(cmd.ErrOrStderr(), "%s from %s (%s)\n  %s\n  fee: %s\n", msg.Type(), f.from, from, body, formatAmount(fee))
	ok, err := askYesNo(cmd, "confirm transaction before signing and broadcasting")
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("cancelled: nothing was signed (pass --yes to skip this question)")
	}
	return nil
}

// askYesNo asks on stderr and reads y/N from stdin.
func askYesNo(cmd *cobra.Command, question string) (bool, error) {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N]: ", question)
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("read answer: %w (pass --yes to answer yes)", err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// amountKeys are event attributes and JSON fields that hold utnn; human
// output shows them in TNN as well.
var amountKeys = []string{"amount", "fee", "price", "stake", "reward", "paid", "pay", "refund", "slashed", "balance", "earned", "budget", "escrow", "emission", "total", "locked", "burned", "minted", "supply"}

func isAmountKey(k string) bool {
	k = strings.ToLower(k)
	for _, a := range amountKeys {
		if k == a || strings.HasSuffix(k, "_"+a) || strings.HasPrefix(k, a+"_") || strings.HasSuffix(k, a) && strings.HasPrefix(k, "max") {
			return true
		}
	}
	return false
}

// humanValue shows an amount attribute as "5000000 (5 TNN)".
func humanValue(k, v string) string {
	if !isAmountKey(k) {
		return v
	}
	u, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%s (%s)", v, formatAmount(u))
}

// normalizeNode turns --node's tcp://host:port, http(s)://host:port and
// host:port into the API's base URL.
func normalizeNode(addr string) (string, error) {
	a := strings.TrimSpace(addr)
	switch {
	case strings.HasPrefix(a, "tcp://"):
		a = "http://" + strings.TrimPrefix(a, "tcp://")
	case strings.HasPrefix(a, "http://"), strings.HasPrefix(a, "https://"):
	case strings.Contains(a, "://"):
		return "", fmt.Errorf("--node %q: want host:port, tcp://host:port or http(s)://host:port", addr)
	default:
		a = "http://" + a
	}
	u, err := url.Parse(a)
	if err != nil || u.Host == "" || u.Port() == "" && u.Scheme != "https" {
		return "", fmt.Errorf("--node %q: want host:port, tcp://host:port or http(s)://host:port", addr)
	}
	return strings.TrimRight(a, "/"), nil
}

// explain adds a hint to errors a person would otherwise have to decode.
func explain(err error) error {
	if err == nil {
		return nil
	}
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w\nhint: no Tenun node answers at %s; start one with `tenun devnet` (or `tenun start`), or point --node at a running node", err, apiAddr())
	}
	var te *client.TxError
	if errors.As(err, &te) && te.Res.Code == chain.ErrInsufficientFunds.Code {
		return fmt.Errorf("%w\nhint: amounts are in the form 5tnn or 5000000utnn; check the balance with `tenun query balance KEY`", err)
	}
	return err
}

var _ = units.AmountFormat
