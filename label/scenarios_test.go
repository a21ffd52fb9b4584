package label_test

// The labeling market's stories, in testdata/stories/*.txt, run by
// internal/scenario (see its package comment for the core commands).
// Regenerate the expected outputs after a deliberate change with
//
//	go test ./label -run TestScenarios -rewrite

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

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
				g := goldPairs(s, label.TaskChoice, w[1])
				m := &label.MsgCreateJob{
					Title: "sentiment", Labels: []string{"neg", "neu", "pos"}, ItemKind: label.KindText,
					Redundancy: 2, MaxRedundancy: 3, ConfidencePPM: 800_000, Reward: 1000, Stake: 5000,
					DeadlineBlocks: 20, RevealBlocks: 10, GraceBlocks: 10, QualityPPM: 500_000,
					BatchSize: 4, MaxPerWorker: uint32(n), GoldHash: label.GoldHash(g.items, g.labels, salt(w[2])),
				}
				for i := range n {
					m.Items = append(m.Items, fmt.Sprintf("review %d", i))
				}
				return m
			},
			// commit <worker> <job> <item>=<answer>...: the worker's hidden
			// answers, each under the salt of (worker, item); an answer is
			// written as the job's task takes it (see parseAnswer).
			"commit": func(s *sc.State, w []string) chain.Msg {
				if len(w) < 3 {
					s.Fail("commit <worker> <job> <item>=<answer>...: got %v", w)
				}
				job, worker := s.U64(w[1]), s.Addr(w[0])
				m := &label.MsgCommit{Job: job}
				for _, a := range answers(s, job, w[2:]) {
					m.Entries = append(m.Entries, label.CommitEntry{Item: a.item, Hash: label.CommitAnswerHash(job, a.item, a.Answer, salt(w[0]+":"+strconv.Itoa(int(a.item))), worker)})
				}
				return m
			},
			// reveal <worker> <job> <item>=<answer>... [salt=<word>]: the
			// answers and their salts (another salt with salt=).
			"reveal": func(s *sc.State, w []string) chain.Msg {
				if len(w) < 3 {
					s.Fail("reveal <worker> <job> <item>=<answer>... [salt=<word>]: got %v", w)
				}
				other := ""
				if last := w[len(w)-1]; strings.HasPrefix(last, "salt=") {
					other, w = strings.TrimPrefix(last, "salt="), w[:len(w)-1]
				}
				job := s.U64(w[1])
				m := &label.MsgReveal{Job: job}
				for _, a := range answers(s, job, w[2:]) {
					sl := salt(w[0] + ":" + strconv.Itoa(int(a.item)))
					if other != "" {
						sl = salt(other)
					}
					m.Entries = append(m.Entries, label.RevealEntry{Item: a.item, Label: a.Label, Value: a.Value, Boxes: a.Boxes, Salt: sl})
				}
				return m
			},
			// close <job> <gold item:answer,...> <gold salt word>
			// [task=<task>]: the gold, written as the job's task takes it
			// (or as the task named).
			"close": func(s *sc.State, w []string) chain.Msg {
				if len(w) < 3 || len(w) > 4 {
					s.Fail("close <job> <gold item:answer,...> <salt> [task=<task>]: got %v", w)
				}
				job := s.U64(w[0])
				task := taskOf(s, job)
				if len(w) == 4 {
					t, ok := strings.CutPrefix(w[3], "task=")
					if !ok {
						s.Fail("close: %q: want task=<task>", w[3])
					}
					task = t
				}
				g := goldPairs(s, task, w[1])
				return &label.MsgClose{Job: job, GoldItems: g.items, GoldLabels: g.labels, GoldValues: g.values, GoldBoxes: g.boxes, Salt: salt(w[2])}
			},
		},
		Commands: map[string]sc.Command{
			// close-budget one-block=<answers> collect=<answers>
			// rounds=<answer-rounds> box=<units>: the close's limits (a job
			// with more answers than one-block closes over blocks, each
			// block reading, iterating and fusing at most this much), until
			// the file ends.
			"close-budget": func(s *sc.State, d *datadriven.TestData) string {
				v := map[string]uint64{} // lookups only
				for _, a := range d.CmdArgs {
					if len(a.Vals) != 1 {
						s.Fail("%s: close-budget one-block=N collect=N rounds=N box=N", d.Pos)
					}
					v[a.Key] = s.U64(a.Vals[0])
				}
				for _, k := range []string{"one-block", "collect", "rounds", "box"} {
					if v[k] == 0 {
						s.Fail("%s: close-budget needs %s=N (positive)", d.Pos, k)
					}
				}
				s.T.Cleanup(label.SetCloseBudgets(v["one-block"], int(v["collect"]), int(v["rounds"]), int(v["box"])))
				return "ok"
			},
			// post <requester> gold=<item:answer,...> salt=<word>, then the
			// job as label/create-job JSON without its gold hash: the job
			// with the hash of that gold under that salt, in a block of its
			// own.
			"post": func(s *sc.State, d *datadriven.TestData) string {
				var sender, gold, word string
				for _, a := range d.CmdArgs {
					switch {
					case len(a.Vals) == 0:
						sender = a.Key
					case a.Key == "gold":
						gold = a.Vals[0]
					case a.Key == "salt":
						word = a.Vals[0]
					}
				}
				if sender == "" || gold == "" || word == "" {
					s.Fail("%s: post <requester> gold=<item:answer,...> salt=<word>", d.Pos)
				}
				var m label.MsgCreateJob
				dec := json.NewDecoder(strings.NewReader(d.Input))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&m); err != nil {
					s.Fail("%s: %v", d.Pos, err)
				}
				g := goldPairs(s, label.TaskOf(m.Task), gold)
				m.GoldHash = label.GoldAnswersHash(g.items, g.labels, g.values, g.boxes, salt(word))
				return s.Submit(sender, &m)
			},
		},
	})
}

func salt(word string) chain.Hash { return sha256.Sum256([]byte("salt:" + word)) }

// taskOf is the task of a job on chain; a job that is not there takes
// answers as labels.
func taskOf(s *sc.State, job uint64) string {
	j, err := label.GetJob(s.Tree, job)
	if err != nil {
		return label.TaskChoice
	}
	return j.TaskType()
}

// parseAnswer reads an answer as a story writes it for the task: a label
// index (choice), a bit mask (multi), a number (rating), or boxes
// x/y/w/h/class joined by "+", "n*box" for n of the same box and "none"
// for no box (box).
func parseAnswer(s *sc.State, task, text string) label.Answer {
	num := func(v string) int64 {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.Fail("answer %q: %v", text, err)
		}
		return n
	}
	switch task {
	case label.TaskRating:
		return label.Answer{Value: num(text)}
	case label.TaskBox:
		boxes := []label.Box{}
		if text == "none" {
			return label.Answer{Boxes: boxes}
		}
		for _, b := range strings.Split(text, "+") {
			times := int64(1)
			if n, box, ok := strings.Cut(b, "*"); ok {
				times, b = num(n), box
			}
			f := strings.Split(b, "/")
			if len(f) != 5 {
				s.Fail("box %q in %q: want x/y/w/h/class", b, text)
			}
			box := label.Box{X: uint32(num(f[0])), Y: uint32(num(f[1])), W: uint32(num(f[2])), H: uint32(num(f[3])), Class: uint32(num(f[4]))}
			for range times {
				boxes = append(boxes, box)
			}
		}
		return label.Answer{Boxes: boxes}
	}
	return label.Answer{Label: uint32(num(text))}
}

type answer struct {
	item uint32
	label.Answer
}

// answers reads <item>=<answer>... for a job.
func answers(s *sc.State, job uint64, words []string) []answer {
	task := taskOf(s, job)
	var out []answer
	for _, w := range words {
		i, a, ok := strings.Cut(w, "=")
		if !ok {
			s.Fail("answer %q: want <item>=<answer>", w)
		}
		out = append(out, answer{uint32(s.U64(i)), parseAnswer(s, task, a)})
	}
	return out
}

type gold struct {
	items, labels []uint32
	values        []int64
	boxes         [][]label.Box
}

// goldPairs reads <item>:<answer>,... for a task.
func goldPairs(s *sc.State, task, list string) gold {
	var g gold
	for _, p := range strings.Split(list, ",") {
		i, text, ok := strings.Cut(p, ":")
		if !ok {
			s.Fail("gold %q: want <item>:<answer>", p)
		}
		g.items = append(g.items, uint32(s.U64(i)))
		a := parseAnswer(s, task, text)
		switch task {
		case label.TaskRating:
			g.values = append(g.values, a.Value)
		case label.TaskBox:
			g.boxes = append(g.boxes, a.Boxes)
		default:
			g.labels = append(g.labels, a.Label)
		}
	}
	return g
}
