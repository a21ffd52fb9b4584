package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/yuma"
)

func init() { rootCmd.AddCommand(newYumaCmd()) }

func newYumaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "yuma",
		Short: "Yuma consensus epoch in fixed point (bit-exact with Bittensor's subtensor)",
	}
	cmd.AddCommand(newYumaSimulateCmd())
	return cmd
}

const yumaSimulateLong = `Replay a Yuma scenario file and print every epoch's stake, consensus,
incentive, dividends, bonds and emission as pretty JSON (always JSON).

A scenario is a JSON object (full description in yuma/README.md):

  {
    "name": "...",
    "params":   {"tempo": 1, "bonds_mode": "original", ...},  overrides of the
                new-subnet defaults (Yuma 3, kappa 32767, K 64, ...)
    "emission": 1000000000,                 default E of each epoch
    "owner":    3,                          optional subnet-owner uid
    "neurons":  [{"stake": 1, "registered_at": 1}, ...],   uid = position
    "steps": [
      {"block": 2, "set_weights": {"uid": 0, "uids": [4, 5], "values": [100, 200]}},
      {"block": 3, "register":    {"uid": 5, "stake": 10}},    new hotkey at uid 5
      {"block": 3, "set_stake":   {"uid": 1, "stake": 7}},
      {"block": 3, "epoch": {"expect": {"dividends": {"from": 0, "values": [6553]},
                                        "bonds": [{"col": 4, "values": [16383]}]}}}
    ]
  }

Expectations inside "expect" are checked exactly; the command fails when
any value differs. The spec's test vectors are in yuma/testdata/.`

// yumaEpochView is one epoch in the simulate output.
type yumaEpochView struct {
	Step              int                `json:"step"`
	Block             uint64             `json:"block"`
	Note              string             `json:"note,omitempty"`
	Amount            uint64             `json:"amount"`
	Stake             []uint16           `json:"stake"`
	Active            []bool             `json:"active"`
	ValidatorPermit   []bool             `json:"validator_permit"`
	Consensus         []uint16           `json:"consensus"`
	Incentive         []uint16           `json:"incentive"`
	Dividends         []uint16           `json:"dividends"`
	ValidatorTrust    []uint16           `json:"validator_trust"`
	Emission          []uint64           `json:"emission"`
	ServerEmission    []uint64           `json:"server_emission"`
	ValidatorEmission []uint64           `json:"validator_emission"`
	Bonds             [][]yuma.Entry     `json:"bonds"`
	Fixed             *yuma.FixedVectors `json:"fixed,omitempty"`
	Checked           int                `json:"checked"`
	Mismatches        []string           `json:"mismatches,omitempty"`
}

type yumaSimulateView struct {
	Scenario   string          `json:"scenario"`
	Source     string          `json:"source,omitempty"`
	Params     yuma.Params     `json:"params"`
	Epochs     []yumaEpochView `json:"epochs"`
	Checked    int             `json:"checked"`
	Mismatches int             `json:"mismatches"`
}

func newYumaSimulateCmd() *cobra.Command {
	var withFixed bool
	cmd := &cobra.Command{
		Use:   "simulate SCENARIO.json",
		Short: "Replay a scenario file and print each epoch as JSON",
		Long:  yumaSimulateLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := yuma.LoadScenario(args[0])
			if err != nil {
				return err
			}
			reports, err := sc.Run()
			if err != nil {
				return fmt.Errorf("simulate %s: %w", args[0], err)
			}
			view := yumaSimulateView{Scenario: sc.Name, Source: sc.Source, Params: sc.Params, Epochs: []yumaEpochView{}}
			for _, r := range reports {
				res := r.Result
				ev := yumaEpochView{
					Step: r.Step, Block: res.Block, Note: r.Note, Amount: res.Amount,
					Stake: res.StakeWeight, Active: res.Active, ValidatorPermit: res.ValidatorPermit,
					Consensus: res.Consensus, Incentive: res.Incentive, Dividends: res.Dividends,
					ValidatorTrust: res.ValidatorTrust, Emission: res.Emission,
					ServerEmission: res.ServerEmission, ValidatorEmission: res.ValidatorEmission,
					Bonds: res.Bonds, Checked: r.Checked, Mismatches: r.Mismatches,
				}
				if withFixed {
					f := res.Fixed
					ev.Fixed = &f
				}
				view.Epochs = append(view.Epochs, ev)
				view.Checked += r.Checked
				view.Mismatches += len(r.Mismatches)
			}
			out, err := json.MarshalIndent(view, "", "  ")
			if err != nil {
				return fmt.Errorf("simulate %s: encode output: %w", args[0], err)
			}
			if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\n", compactLeafArrays(out)); err != nil {
				return fmt.Errorf("simulate %s: write output: %w", args[0], err)
			}
			if view.Mismatches > 0 {
				return fmt.Errorf("simulate %s: %d of %d expected values differ", args[0], view.Mismatches, view.Checked)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&withFixed, "fixed", false, "also print the I32F32 intermediates (stake, active stake, consensus, incentive, dividends, validator trust) as decimals")
	return cmd
}

// compactLeafArrays puts every array of scalars, or of arrays of scalars
// (a bond row of [uid, value] pairs), on one line in indented JSON, so
// per-uid vectors stay readable: [1, 2, 3] rather than one element a line.
func compactLeafArrays(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '"' {
			j := skipString(in, i)
			out = append(out, in[i:j]...)
			i = j - 1
			continue
		}
		if c != '[' {
			out = append(out, c)
			continue
		}
		end, ok := matchBracket(in, i)
		if !ok {
			out = append(out, c)
			continue
		}
		// Re-emit in[i..end] without whitespace, with ", " separators.
		for j := i; j <= end; j++ {
			switch b := in[j]; b {
			case '"':
				k := skipString(in, j)
				out = append(out, in[j:k]...)
				j = k - 1
			case ' ', '\n', '\t', '\r':
			case ',':
				out = append(out, ',', ' ')
			default:
				out = append(out, b)
			}
		}
		i = end
	}
	return out
}

// matchBracket returns the index of the ']' closing in[i] and whether the
// array is compactable: no objects inside, at most one nested level, and no
// long strings (messages stay one per line).
func matchBracket(in []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(in); j++ {
		switch in[j] {
		case '"':
			k := skipString(in, j)
			if k-j > 40 {
				return 0, false
			}
			j = k - 1
		case '{':
			return 0, false
		case '[':
			depth++
			if depth > 2 {
				return 0, false
			}
		case ']':
			depth--
			if depth == 0 {
				return j, true
			}
		}
	}
	return 0, false
}

// skipString returns the index just past the JSON string starting at in[i].
func skipString(in []byte, i int) int {
	for j := i + 1; j < len(in); j++ {
		switch in[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(in)
}
