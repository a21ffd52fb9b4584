package demo

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
)

// Summary is the demo's outcome, read back from chain state at Height.
type Summary struct {
	Home      string      `json:"home"`
	Dashboard string      `json:"dashboard_url"`
	Height    int64       `json:"height"`
	Seconds   float64     `json:"seconds"` // the whole run, node start included
	Stages    []StageTime `json:"stages"`

	Pipeline pipeline.Pipeline    `json:"pipeline"`
	Proof    *ProofReport         `json:"proof"`
	Lineage  pipeline.LineageView `json:"lineage"`
	// Outcomes: every participant, in the cast's order.
	Outcomes []Outcome    `json:"participants"`
	Supply   SupplyReport `json:"supply"`

	Participants []Participant `json:"-"`
	start        map[chain.Address]holding
}

// StageTime is how long a stage took on the wall clock.
type StageTime struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	Blocks  int64   `json:"blocks"`
	Txs     int     `json:"txs"` // in those blocks, every participant's
}

// ProofReport is the prover's side of the accuracy claim.
type ProofReport struct {
	Constraints  int     `json:"constraints"`
	SetupSeconds float64 `json:"setup_seconds"`
	ProveSeconds float64 `json:"prove_seconds"`
	VerifyMillis float64 `json:"verify_ms"`
}

// Outcome is what one participant ended with.
type Outcome struct {
	Participant
	BalanceStart uint64 `json:"balance_start"`
	BalanceEnd   uint64 `json:"balance_end"`
	StakedStart  uint64 `json:"staked_start"`
	StakedEnd    uint64 `json:"staked_end"`
	// Net is the change of balance plus stake: earnings less fees,
	// payments and slashes.
	Net     int64               `json:"net"`
	Slashed uint64              `json:"slashed"`
	Slashes []chain.SlashRecord `json:"slashes"`
	Notes   []string            `json:"notes"`
}

// SupplyReport accounts for the token supply over the run.
type SupplyReport struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
	// Minted is the subnet emission minted during the run; Burned the
	// slashes burned (no beneficiary). End = Start + Minted - Burned.
	Minted    uint64 `json:"minted"`
	Burned    uint64 `json:"burned"`
	Conserved bool   `json:"conserved"`
}

type holding struct{ balance, staked uint64 }

func snapshot(ctx context.Context, c *client.Client, people []Participant) (map[chain.Address]holding, error) {
	out := map[chain.Address]holding{}
	for _, p := range people {
		a, err := c.Account(ctx, p.Address)
		if err != nil {
			return nil, err
		}
		out[p.Address] = holding{a.Balance, staked(a)}
	}
	return out, nil
}

func staked(a chain.AccountInfo) uint64 {
	var s uint64
	for _, st := range a.Stakes {
		s += st.Amount
	}
	for _, u := range a.Unbondings {
		s += u.Amount
	}
	return s
}

func supplyOf(ctx context.Context, c *client.Client) (uint64, error) {
	var s struct {
		Supply uint64 `json:"supply"`
	}
	err := c.Query(ctx, "core", "supply", nil, &s)
	return s.Supply, err
}

// read fills the summary from the chain, retrying until no block came in
// between its first and last read.
func (s *Summary) read(ctx context.Context, c *client.Client, people []Participant, byHand bool) error {
	for try := 0; ; try++ {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if err := s.readOnce(ctx, c, people, byHand); err != nil {
			return err
		}
		st2, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if st.Height == st2.Height || try == 20 {
			s.Height = st2.Height
			return nil
		}
	}
}

func (s *Summary) readOnce(ctx context.Context, c *client.Client, people []Participant, byHand bool) error {
	ref := "pipeline/1"
	if byHand {
		ref = subnet.ModelRef(1, 1) // no pipeline: the served model's lineage
	} else if err := c.Query(ctx, "pipeline", "pipeline/1", nil, &s.Pipeline); err != nil {
		return err
	}
	if err := c.Query(ctx, "pipeline", "lineage/"+ref, nil, &s.Lineage); err != nil {
		return err
	}
	var contrib data.Contributions
	if err := c.Query(ctx, "data", "contributions/1", nil, &contrib); err != nil {
		return err
	}
	var mg []subnet.MetagraphEntry
	if err := c.Query(ctx, "subnet", "metagraph/1", nil, &mg); err != nil {
		return err
	}
	var info subnet.Info
	if err := c.Query(ctx, "subnet", "info/1", nil, &info); err != nil {
		return err
	}
	end, err := supplyOf(ctx, c)
	if err != nil {
		return err
	}
	s.Supply.End, s.Supply.Minted, s.Supply.Burned = end, info.Minted, 0
	s.Outcomes = s.Outcomes[:0]
	for _, p := range people {
		a, err := c.Account(ctx, p.Address)
		if err != nil {
			return err
		}
		h := s.start[p.Address]
		o := Outcome{Participant: p, BalanceStart: h.balance, BalanceEnd: a.Balance, StakedStart: h.staked, StakedEnd: staked(a), Slashes: a.Slashes, Notes: []string{}}
		o.Net = int64(o.BalanceEnd+o.StakedEnd) - int64(o.BalanceStart+o.StakedStart)
		for _, sl := range a.Slashes {
			o.Slashed += sl.Amount
			if sl.Beneficiary == (chain.Address{}) {
				s.Supply.Burned += sl.Amount
			}
		}
		o.Notes = notes(p, contrib, s.Lineage, mg)
		s.Outcomes = append(s.Outcomes, o)
	}
	s.Supply.Conserved = s.Supply.End == s.Supply.Start+s.Supply.Minted-s.Supply.Burned
	return nil
}

// notes says what a participant did, from its market's records.
func notes(p Participant, contrib data.Contributions, lin pipeline.LineageView, mg []subnet.MetagraphEntry) []string {
	var out []string
	switch p.Role {
	case RoleContributor:
		acc, rej := 0, map[string]int{}
		for _, b := range contrib.Batches {
			if b.Contributor != p.Address {
				continue
			}
			acc += len(b.Accepted)
			for _, r := range b.Rejected {
				rej[r.Reason]++
			}
		}
		out = append(out, fmt.Sprintf("%d records accepted", acc))
		for _, reason := range sortedKeys(rej) {
			out = append(out, fmt.Sprintf("%d refused: %s", rej[reason], reason))
		}
	case RoleAnnotator:
		for _, a := range lin.Annotators {
			if a.Address == p.Address {
				n := fmt.Sprintf("%s: %d answers, score %.1f%%, paid %s", a.Job, a.Answers, float64(a.ScorePPM)/1e4, formatTNN(a.Paid))
				if a.Slashed > 0 {
					n += fmt.Sprintf(", slashed %s (%s)", formatTNN(a.Slashed), a.Reason)
				}
				out = append(out, n)
			}
		}
	case RoleProvider:
		for _, pr := range lin.Providers {
			if pr.Address == p.Address {
				n := fmt.Sprintf("%s: %s, paid %s", pr.Job, pr.Verdict, formatTNN(pr.Paid))
				if pr.Slashed > 0 {
					n += fmt.Sprintf(", slashed %s", formatTNN(pr.Slashed))
				}
				out = append(out, n)
			}
		}
	case RoleBuyer:
		out = append(out, "bought the labelled dataset (see the contributors' and annotators' net)")
	case RoleMiner, RoleValidator:
		for _, n := range mg {
			if n.Account == p.Address {
				out = append(out, fmt.Sprintf("subnet 1 uid %d: earned %s (incentive %s, dividends %s), royalty paid to the model %s",
					n.UID, formatTNN(n.Earned), formatTNN(n.EarnedIncentive), formatTNN(n.EarnedDividends), formatTNN(n.Royalty)))
			}
		}
	}
	for _, r := range lin.Revenue {
		if r.Address == p.Address {
			src := ""
			if r.Source != "" {
				src = " for " + r.Source
			}
			out = append(out, fmt.Sprintf("served model's royalty as %s%s: %s", r.Role, src, formatTNN(r.Amount)))
		}
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Print writes the summary for people.
func (s *Summary) Print(w io.Writer) {
	p := s.Pipeline
	fmt.Fprintf(w, "\nTenun demo: summary read back from chain state at height %d (%.0f s in all)\n", s.Height, s.Seconds)
	if p.ID == 0 {
		fmt.Fprintln(w, "\nno pipeline: the team drove each stage by hand")
	} else {
		fmt.Fprintf(w, "\npipeline %d %q: %s; budget %s, spent %s, refunded %s\n", p.ID, p.Spec.Name, p.Status, formatTNN(p.Budget), formatTNN(p.Budget-p.Refunded), formatTNN(p.Refunded))
	}
	for _, st := range p.Stages {
		fmt.Fprintf(w, "  %-6s %-34s blocks %d-%d, paid out %s\n", st.Stage, st.Ref, st.Started, st.Ended, formatTNN(st.Spent))
	}
	if p.Claim != 0 {
		fmt.Fprintf(w, "  proven accuracy: %s on the public test set (model %d, claim %d; %s)\n", formatBps(p.Accuracy), p.Model, p.Claim, p.Trust)
	}
	if pr := s.Proof; pr != nil {
		fmt.Fprintf(w, "  proof: %d constraints, setup %.1f s, proving %.1f s, verification %.1f ms\n", pr.Constraints, pr.SetupSeconds, pr.ProveSeconds, pr.VerifyMillis)
	}
	fmt.Fprintln(w, "\nwho earned what (net: balance and stake now less at the start; fees included), who was slashed and why:")
	for _, o := range s.Outcomes {
		fmt.Fprintf(w, "  %-6s %-16s %-42s net %+.6f TNN\n", o.Name, o.Role, o.Behavior, float64(o.Net)/1e6)
		for _, n := range o.Notes {
			fmt.Fprintf(w, "         %s\n", n)
		}
		for _, sl := range o.Slashes {
			fmt.Fprintf(w, "         SLASHED %s from %s at block %d: %s\n", formatTNN(sl.Amount), sl.Pool, sl.Height, sl.Reason)
		}
	}
	fmt.Fprintln(w, "\nlineage of the pipeline (child <- relation - parent; share: records, or a labelled version's weights):")
	for _, e := range s.Lineage.Edges {
		fmt.Fprintf(w, "  %s <-%s- %s\n", e.To, e.Relation, e.From)
	}
	seen := map[string]bool{}
	for _, c := range s.Lineage.Contributors {
		k := c.Dataset + c.Address.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		fmt.Fprintf(w, "  %s <-share %d- %s\n", c.Dataset, c.Records, c.Address)
	}
	verdict := "conserved: now = start + minted - burned"
	if !s.Supply.Conserved {
		verdict = "NOT conserved"
	}
	fmt.Fprintf(w, "\nsupply: %s at the start, %s now; %s minted by the subnet, %s burned by slashes: %s\n",
		formatTNN(s.Supply.Start), formatTNN(s.Supply.End), formatTNN(s.Supply.Minted), formatTNN(s.Supply.Burned), verdict)
	var stages []string
	for _, st := range s.Stages {
		stages = append(stages, fmt.Sprintf("%s %.1fs (%d blocks, %d txs)", st.Stage, st.Seconds, st.Blocks, st.Txs))
	}
	fmt.Fprintf(w, "per stage: %s\n", strings.Join(stages, ", "))
	fmt.Fprintf(w, "dashboard: %s\n", s.Dashboard)
}
