package label_test

// The labeling market's stories, in testdata/stories/*.txt, run by
// internal/scenario (see its package comment for the core commands).
// Regenerate the expected outputs after a deliberate change with
//
//	go test ./label -run TestScenarios -rewrite

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	sc "github.com/tenun-chain/tenun/internal/scenario"
	"github.com/tenun-chain/tenun/label"
)

func TestScenarios(t *testing.T) {
	sc.RunFiles(t, "testdata/stories/*.txt", sc.Options{
		Domains: []chain.Domain{label.Domain{}},
		Words: map[string]sc.MsgWord{
			// text-job <items> <gold item:label,...> <gold salt word>: a
			// sentiment job (neg, neu, pos) over "review 0".. with 2 answers
			// an item (up to 3), 1000 utnn an answer, 5000 staked, 20 blocks
			// to work, 10 to reveal, slashed below a score of 0.5.
			"text-job": func(s *sc.State, w []string) chain.Msg {
				if len(w) != 3 {
					s.Fail("text-job <items> <gold item:label,...> <salt>: got %v", w)
				}
				n := int(s.U64(w[0]))
				items, labels := goldPairs(s, w[1])
				m := &label.MsgCreateJob{
					Title: "sentiment", Labels: []string{"neg", "neu", "pos"}, ItemKind: label.KindText,
					Redundancy: 2, MaxRedundancy: 3, ConfidencePPM: 800_000, Reward: 1000, Stake: 5000,
					DeadlineBlocks: 20, RevealBlocks: 10, GraceBlocks: 10, QualityPPM: 500_000,
					BatchSize: 4, MaxPerWorker: uint32(n), GoldHash: label.GoldHash(items, labels, salt(w[2])),
				}
				for i := range n {
					m.Items = append(m.Items, fmt.Sprintf("review %d", i))
				}
				return m
			},
			// commit <worker> <job> <item>=<label>...: the worker's hidden
			// answers, each under the salt of (worker, item).
			"commit": func(s *sc.State, w []string) chain.Msg {
				if len(w) < 3 {
					s.Fail("commit <worker> <job> <item>=<label>...: got %v", w)
				}
				job, worker := s.U64(w[1]), s.Addr(w[0])
				m := &label.MsgCommit{Job: job}
				for _, a := range answers(s, w[2:]) {
					m.Entries = append(m.Entries, label.CommitEntry{Item: a.item, Hash: label.CommitHash(job, a.item, a.label, salt(w[0]+":"+strconv.Itoa(int(a.item))), worker)})
				}
				return m
			},
			// reveal <worker> <job> <item>=<label>... [salt=<word>]: the
			// answers and their salts (another salt with salt=).
			"reveal": func(s *sc.State, w []string) chain.Msg {
				if len(w) < 3 {
					s.Fail("reveal <worker> <job> <item>=<label>... [salt=<word>]: got %v", w)
				}
				other := ""
				if last := w[len(w)-1]; strings.HasPrefix(last, "salt=") {
					other, w = strings.TrimPrefix(last, "salt="), w[:len(w)-1]
				}
				m := &label.MsgReveal{Job: s.U64(w[1])}
				for _, a := range answers(s, w[2:]) {
					sl := salt(w[0] + ":" + strconv.Itoa(int(a.item)))
					if other != "" {
						sl = salt(other)
					}
					m.Entries = append(m.Entries, label.RevealEntry{Item: a.item, Label: a.label, Salt: sl})
				}
				return m
			},
			// close <job> <gold item:label,...> <gold salt word>
			"close": func(s *sc.State, w []string) chain.Msg {
				if len(w) != 3 {
					s.Fail("close <job> <gold item:label,...> <salt>: got %v", w)
				}
				items, labels := goldPairs(s, w[1])
				return &label.MsgClose{Job: s.U64(w[0]), GoldItems: items, GoldLabels: labels, Salt: salt(w[2])}
			},
		},
	})
}

func salt(word string) chain.Hash { return sha256.Sum256([]byte("salt:" + word)) }

type answer struct{ item, label uint32 }

func answers(s *sc.State, words []string) []answer {
	var out []answer
	for _, w := range words {
		i, l, ok := strings.Cut(w, "=")
		if !ok {
			s.Fail("answer %q: want <item>=<label>", w)
		}
		out = append(out, answer{uint32(s.U64(i)), uint32(s.U64(l))})
	}
	return out
}

func goldPairs(s *sc.State, list string) (items, labels []uint32) {
	for _, p := range strings.Split(list, ",") {
		i, l, ok := strings.Cut(p, ":")
		if !ok {
			s.Fail("gold %q: want <item>:<label>", p)
		}
		items, labels = append(items, uint32(s.U64(i))), append(labels, uint32(s.U64(l)))
	}
	return items, labels
}
