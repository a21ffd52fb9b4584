package compute

// The compute market's stories, in testdata/*.txt, run by internal/scenario
// (see its package comment for the core commands). Regenerate the expected
// outputs after a deliberate change with
//
//	go test ./compute -run TestScenarios -rewrite
//
// and review the diff: every balance, escrow and slash in it must be what
// the market's rules say.
//
// What the chain knows of a job's module, inputs and outputs is their blob
// CIDs and sizes, so a story names each by a text: module=wasm is the blob
// cid:wasm (registered with the core "blob" word), and a result "right" is
// the output archive whose bytes are "right", its digest their SHA-256.
//
// Market words (transaction lines):
//
//	post r=<n> module=<text> [input=<name>:<text> ...] [price=<max>] [units=<n>]
//	     [timeout=<n>] [deadline=<n>] [window=<n>] [cores=<n>] [memory=<MiB>]
//	    a MsgPostJob; the rest as jobMsg has it (max price 100, 5 units,
//	    timeout 10, deadline 100, a challenge window of 5 when r=1)
//	commit <job> <output> as=<provider> [salt=<name>]
//	    a MsgCommit of CommitHash(job, as, output's digest, output's CID,
//	    salt): as= names the provider the commitment binds (a word does not
//	    know the sender); the salt is named after the provider unless given
//	reveal <job> <output> as=<provider> [salt=<name>] [digest=<output>]
//	    the MsgReveal opening it (digest= claims another output's digest)
//	challenge <job> <output>
//	    a MsgChallenge claiming the job's output is <output>
//
// Market commands:
//
//	job <id>          the job: status, result, budget and escrow, assignments
//	provider <name>   a provider's stake and record

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
)

func TestScenarios(t *testing.T) {
	scenario.RunFiles(t, "testdata/*.txt", scenario.Options{
		Domains: []chain.Domain{Domain{}},
		Setup: func(s *scenario.State) {
			s.Market = &story{texts: map[Hash]string{}}
			s.Name(SpotPool, "spotpool")
			s.Pool(Pool)
			for id := uint64(1); id <= 20; id++ {
				s.Escrow(EscrowID(id))
				s.Escrow(BondEscrowID(id))
			}
		},
		Words: map[string]scenario.MsgWord{
			"post":      postWord,
			"commit":    commitWord,
			"reveal":    revealWord,
			"challenge": challengeWord,
		},
		Commands: map[string]scenario.Command{
			"job":      jobCommand,
			"provider": providerCommand,
		},
	})
}

// story is what the compute words keep between directives: the text of
// every output digest they made, to print results by name.
type story struct {
	texts map[Hash]string
}

// output is the output archive whose bytes are text.
func (st *story) output(text string) (Hash, string) {
	d := Hash(sha256.Sum256([]byte(text)))
	st.texts[d] = text
	return d, chain.BlobCID([]byte(text))
}

func (st *story) name(d Hash) string {
	if t, ok := st.texts[d]; ok {
		return fmt.Sprintf("%q", t)
	}
	return d.String()
}

func storyOf(s *scenario.State) *story { return s.Market.(*story) }

// storySalt is the salt a story names.
func storySalt(name string) Hash { return sha256.Sum256([]byte("salt/" + name)) }

// wordArgs splits a word's arguments into positional ones and key=value
// options; keys listed in multi may repeat.
func wordArgs(s *scenario.State, words []string, known ...string) (pos []string, opts map[string][]string) {
	opts = map[string][]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			pos = append(pos, w)
			continue
		}
		found := false
		for _, kn := range known {
			found = found || kn == k
		}
		if !found {
			s.Fail("unknown option %q in %q", k, words)
		}
		opts[k] = append(opts[k], v)
	}
	return pos, opts
}

func opt(opts map[string][]string, k, def string) string {
	if v := opts[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

func postWord(s *scenario.State, words []string) chain.Msg {
	pos, o := wordArgs(s, words, "r", "module", "input", "price", "units", "timeout", "deadline", "window", "cores", "memory")
	if len(pos) != 0 {
		s.Fail("post takes only options: %q", words)
	}
	m := jobMsg(uint32(s.U64(opt(o, "r", "1"))))
	module, ok := o["module"]
	if !ok {
		s.Fail("post needs module=<text>: %q", words)
	}
	m.Spec.Module = chain.BlobCID([]byte(module[0]))
	m.Spec.Inputs = nil
	for _, in := range o["input"] {
		name, text, ok := strings.Cut(in, ":")
		if !ok {
			s.Fail("input=%s: want <name>:<text>", in)
		}
		m.Spec.Inputs = append(m.Spec.Inputs, Input{Name: name, CID: chain.BlobCID([]byte(text))})
	}
	m.MaxPrice = s.U64(opt(o, "price", fmt.Sprint(m.MaxPrice)))
	m.Spec.Fuel = s.U64(opt(o, "units", "5")) * FuelPerUnit
	m.Timeout = int64(s.U64(opt(o, "timeout", fmt.Sprint(m.Timeout))))
	m.DeadlineBlocks = int64(s.U64(opt(o, "deadline", fmt.Sprint(m.DeadlineBlocks))))
	m.ChallengeBlocks = int64(s.U64(opt(o, "window", fmt.Sprint(m.ChallengeBlocks))))
	m.Spec.CPUCores = uint32(s.U64(opt(o, "cores", "0")))
	m.Spec.MemoryBytes = s.U64(opt(o, "memory", "64")) << 20
	return m
}

// commitArgs reads "<job> <output> as=<provider> [salt=<name>]".
func commitArgs(s *scenario.State, words []string, extra ...string) (job uint64, text string, as chain.Address, salt Hash, o map[string][]string) {
	pos, o := wordArgs(s, words, append([]string{"as", "salt"}, extra...)...)
	if len(pos) != 2 || opt(o, "as", "") == "" {
		s.Fail("want <job> <output> as=<provider>: %q", words)
	}
	as = s.Addr(opt(o, "as", ""))
	return s.U64(pos[0]), pos[1], as, storySalt(opt(o, "salt", opt(o, "as", ""))), o
}

func commitWord(s *scenario.State, words []string) chain.Msg {
	job, text, as, salt, _ := commitArgs(s, words)
	d, cid := storyOf(s).output(text)
	return &MsgCommit{Job: job, Commit: CommitHash(job, as, d, cid, salt)}
}

func revealWord(s *scenario.State, words []string) chain.Msg {
	job, text, _, salt, o := commitArgs(s, words, "digest")
	d, cid := storyOf(s).output(text)
	if other := opt(o, "digest", ""); other != "" {
		d, _ = storyOf(s).output(other)
	}
	return &MsgReveal{Job: job, Digest: d, Output: cid, Salt: salt}
}

func challengeWord(s *scenario.State, words []string) chain.Msg {
	if len(words) != 2 {
		s.Fail("want challenge <job> <output>: %q", words)
	}
	d, cid := storyOf(s).output(words[1])
	return &MsgChallenge{Job: s.U64(words[0]), Digest: d, Output: cid}
}

func oneArg(s *scenario.State, d *datadriven.TestData) string {
	if len(d.CmdArgs) != 1 {
		s.Fail("%s: %s takes one argument", d.Pos, d.Cmd)
	}
	return d.CmdArgs[0].Key
}

func jobCommand(s *scenario.State, d *datadriven.TestData) string {
	id := s.U64(oneArg(s, d))
	j, err := GetJob(s.Tree, id)
	if err != nil {
		return "error: " + s.Readable(err.Error())
	}
	st := storyOf(s)
	var b strings.Builder
	fmt.Fprintf(&b, "job %d of %s: %s", j.ID, s.Readable(j.Tenant.String()), j.Status)
	switch {
	case j.Status == StatusRunning:
		fmt.Fprintf(&b, ", stage %s, want %d", j.Stage, j.Want)
		if j.Revealing {
			fmt.Fprintf(&b, ", reveals open until %d", j.RevealEnd)
		}
		fmt.Fprintf(&b, ", deadline %d", j.Deadline)
		if j.openSlots() > 0 && j.Idle > 0 {
			fmt.Fprintf(&b, "\n%d open slot(s), no provider free in %d tries, next try at %d", j.openSlots(), j.Idle, j.Due)
		}
	case j.Status == StatusChallenge:
		fmt.Fprintf(&b, ", challenge window until %d", j.ChallengeEnd)
	}
	if j.Note != "" {
		fmt.Fprintf(&b, " (%s)", j.Note)
	}
	b.WriteString("\n")
	if j.Result != nil {
		fmt.Fprintf(&b, "result %s at height %d by %s\n", st.name(j.Result.Digest), j.Result.Height, j.Result.By)
	}
	fmt.Fprintf(&b, "budget %d, escrow holds %d\n", j.Budget, chain.EscrowBalance(s.Ctx(s.Tree), EscrowID(j.ID)))
	if j.Spot != nil {
		fmt.Fprintf(&b, "spot check of job %d, expecting %s\n", j.Spot.Source, st.name(j.Spot.Expect))
	}
	if c := j.Challenge; c != nil {
		fmt.Fprintf(&b, "challenged by %s at height %d claiming %s, bond %d", s.Readable(c.Challenger.String()), c.Height, st.name(c.Digest), c.Bond)
		if c.Outcome != "" {
			fmt.Fprintf(&b, ": %s", c.Outcome)
		}
		b.WriteString("\n")
	}
	for _, a := range j.Assignments {
		fmt.Fprintf(&b, "  %s %s: %s", s.Readable(a.Provider.String()), a.Stage, a.Status)
		switch a.Status {
		case AssignAssigned:
			fmt.Fprintf(&b, " at %d, commit before %d", a.Assigned, a.Deadline)
		case AssignRevealed:
			fmt.Fprintf(&b, " %s", st.name(a.Digest))
		}
		switch a.Verdict {
		case "":
		case VerdictPaid:
			fmt.Fprintf(&b, ", paid %d", a.Paid)
		case VerdictSlashed:
			fmt.Fprintf(&b, ", slashed %d", a.SlashedBy)
		default:
			fmt.Fprintf(&b, ", %s", a.Verdict)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func providerCommand(s *scenario.State, d *datadriven.TestData) string {
	a := s.Addr(oneArg(s, d))
	p, ok := GetProvider(s.Tree, a)
	if !ok {
		return "not a provider"
	}
	return fmt.Sprintf("stake %d, price %d, %d cores (%d busy), done %d, failed %d, slashed %d, declined %d, reputation %d bps",
		chain.Bonded(s.Ctx(s.Tree), a, Pool), p.Price, p.CPUCores, p.BusyCores, p.Done, p.Failed, p.Slashed, p.Declined, p.ReputationBps())
}
