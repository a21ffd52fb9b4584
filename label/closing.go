package label

import (
	"encoding/binary"
	"fmt"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label/truth"
)

// Closing over blocks. A job whose inference sees more than
// MaxOneBlockAnswers revealed answers (a multi-label answer counts once
// per label) does not settle in the close message: the message checks the
// gold and marks the job closing, and EndBlock then works through it, a
// bounded amount each block, as a resumable state machine whose state is
// in the store:
//
//  1. collect: read the revealed answers, whole workers at a time, until
//     CloseCollectPerBlock answers were read this block; append them to
//     compact answer chunks;
//  2. pass 1: Best over all answers, CloseAnswerRoundsPerBlock answer-rounds
//     of EM per block (at least one round), the EM checkpoint stored
//     between blocks; then every worker's score;
//  3. pass 2: Best over the accepted answers the same way;
//  4. settle: pay, slash, refund and record the results.
//
// Each step gives exactly the bits the one-block close would, so a job's
// outcome does not depend on how it was closed. One job closes at a time
// (the oldest first); others wait their turn. Typed jobs go through the
// same phases with their own inference (closing_typed.go).
const (
	MaxOneBlockAnswers        = 16_384
	CloseCollectPerBlock      = 10_000
	CloseAnswerRoundsPerBlock = 1_000_000
)

// StatusClosing: the close has begun and continues in the next blocks.
const StatusClosing = "closing"

// Closing phases.
const (
	phaseCollect uint8 = iota + 1
	phasePass1
	phasePass2
	phaseSettle
)

// closing is the state of a close in progress.
type closing struct {
	Job        uint64              `cbor:"1,keyasint"`
	Phase      uint8               `cbor:"2,keyasint"`
	Forfeit    bool                `cbor:"3,keyasint"`
	GoldItems  []uint32            `cbor:"4,keyasint,omitempty"`
	GoldLabels []uint32            `cbor:"5,keyasint,omitempty"`
	NextWorker uint32              `cbor:"6,keyasint"` // collect: the next worker (join index) to read
	Chunks     uint32              `cbor:"7,keyasint"`
	Answers    uint64              `cbor:"8,keyasint"`
	Majority   bool                `cbor:"9,keyasint,omitempty"`  // the answers need no EM (see infer)
	Majority2  bool                `cbor:"19,keyasint,omitempty"` // nor do the accepted ones
	Pass1      *truth.EMCheckpoint `cbor:"10,keyasint,omitempty"`
	Pass2      *truth.EMCheckpoint `cbor:"11,keyasint,omitempty"`
	// Set at the end of pass 1.
	Scores      []truth.Prob `cbor:"12,keyasint,omitempty"`
	Accuracy    []truth.Prob `cbor:"13,keyasint,omitempty"`
	GoldAnswers []uint32     `cbor:"14,keyasint,omitempty"`
	GoldCorrect []uint32     `cbor:"15,keyasint,omitempty"`
	Reasons     []string     `cbor:"16,keyasint,omitempty"`
	Blocks      uint32       `cbor:"17,keyasint"`
	Started     int64        `cbor:"18,keyasint"`
	// Typed jobs (closing_typed.go).
	HasGold    bool           `cbor:"20,keyasint,omitempty"`
	GoldValues []int64        `cbor:"21,keyasint,omitempty"`
	GoldBoxes  [][]Box        `cbor:"22,keyasint,omitempty"`
	Rating1    *ratingState   `cbor:"23,keyasint,omitempty"`
	Rating2    *ratingState   `cbor:"24,keyasint,omitempty"`
	BoxRound   uint8          `cbor:"25,keyasint,omitempty"` // box pass 1: the BoxEM rounds done
	Box        *truth.BoxPass `cbor:"26,keyasint,omitempty"`
	ItemChunks uint32         `cbor:"27,keyasint,omitempty"` // box pass 2: the fused items' chunks
}

var (
	keyCloseQueue = []byte("label/clq") // job ids closing, oldest first: one read per block
	prefixClosing = []byte("label/cl/")
	prefixChunk   = []byte("label/ca/")
)

func closingKey(id uint64) []byte  { return chain.Key(prefixClosing, chain.Uint64Bytes(id)) }
func chunkPrefix(id uint64) []byte { return chain.Key(prefixChunk, chain.Uint64Bytes(id)) }
func chunkKey(id uint64, n uint32) []byte {
	return chain.Key(chunkPrefix(id), binary.BigEndian.AppendUint32(nil, n))
}

// The limits above; tests lower them to close small jobs over many blocks.
var (
	oneBlockAnswers uint64 = MaxOneBlockAnswers
	collectPerBlock        = CloseCollectPerBlock
	roundsBudget           = CloseAnswerRoundsPerBlock
)

// closesOverBlocks reports whether the job's close is spread over blocks.
func closesOverBlocks(j *Job) bool { return inferenceAnswers(j) > oneBlockAnswers }

// startClosing marks the job closing; EndBlock carries on from the next
// block.
func startClosing(ctx *chain.Context, j *Job, m *MsgClose, gold *goldSet, forfeit bool) {
	c := closing{Job: j.ID, Phase: phaseCollect, Forfeit: forfeit, Started: ctx.Block.Height, HasGold: gold != nil}
	if m != nil && gold != nil {
		c.GoldItems, c.GoldLabels, c.GoldValues, c.GoldBoxes = m.GoldItems, m.GoldLabels, m.GoldValues, m.GoldBoxes
	}
	chain.Put(ctx.KV, closingKey(j.ID), &c)
	var q []uint64
	chain.Get(ctx.KV, keyCloseQueue, &q)
	chain.Put(ctx.KV, keyCloseQueue, append(q, j.ID))
	j.Status = StatusClosing
	putJob(ctx.KV, j)
	ctx.Emit("label_closing", "job", chain.U64(j.ID), "revealed", chain.U64(j.Revealed))
}

// Closing returns the state of a close in progress: its phase (collect,
// pass1, pass2, settle) and the blocks it has taken; ok is false when the
// job is not closing.
func Closing(kv store.KV, id uint64) (phase string, blocks uint32, ok bool) {
	var c closing
	if !chain.Get(kv, closingKey(id), &c) {
		return "", 0, false
	}
	return phaseName(c.Phase), c.Blocks, true
}

// stepClosing advances the oldest close in progress by one block's work.
func stepClosing(ctx *chain.Context) {
	var q []uint64
	if !chain.Get(ctx.KV, keyCloseQueue, &q) || len(q) == 0 {
		return
	}
	var c closing
	if !chain.Get(ctx.KV, closingKey(q[0]), &c) {
		chain.Put(ctx.KV, keyCloseQueue, q[1:]) // cannot happen: drop keeps them together
		return
	}
	err := ctx.Isolated(func(sub *chain.Context) error { return c.step(sub) })
	if err != nil {
		// Leave the job open again so a close message (or the forfeit)
		// can retry; the partial state goes.
		if j, gerr := GetJob(ctx.KV, c.Job); gerr == nil {
			j.Status = StatusOpen
			putJob(ctx.KV, &j)
		}
		c.drop(ctx.KV)
		ctx.Emit("label_closing_error", "job", chain.U64(c.Job), "error", err.Error())
	}
}

func (c *closing) drop(kv store.KV) {
	for n := range c.Chunks {
		kv.Delete(chunkKey(c.Job, n))
	}
	for n := range c.ItemChunks {
		kv.Delete(itemChunkKey(c.Job, n))
	}
	kv.Delete(closingKey(c.Job))
	var q []uint64
	chain.Get(kv, keyCloseQueue, &q)
	rest := []uint64{}
	for _, id := range q {
		if id != c.Job {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		kv.Delete(keyCloseQueue)
	} else {
		chain.Put(kv, keyCloseQueue, rest)
	}
}

// step does one block's work of the close.
func (c *closing) step(ctx *chain.Context) error {
	j, err := GetJob(ctx.KV, c.Job)
	if err != nil {
		return err
	}
	c.Blocks++
	workers := Workers(ctx.KV, &j)
	phase := c.Phase
	work, err := c.work(ctx, &j, workers)
	if err != nil {
		return err
	}
	// The block's work units, for the bound (answers read, answer-rounds,
	// box fusion units, answers and items settled).
	ctx.Emit("label_closing_step", "job", chain.U64(j.ID), "phase", phaseName(phase), "work", chain.U64(uint64(work)))
	if phase != phaseSettle {
		chain.Put(ctx.KV, closingKey(c.Job), c)
	}
	return nil
}

func phaseName(p uint8) string {
	if p > phaseSettle {
		return fmt.Sprintf("phase %d", p) // only a corrupt state
	}
	return [...]string{"", "collect", "pass1", "pass2", "settle"}[p]
}

// work does the block's work of the phase for the job's task type.
func (c *closing) work(ctx *chain.Context, j *Job, workers []Worker) (int, error) {
	task := j.TaskType()
	switch c.Phase {
	case phaseCollect:
		if task == TaskChoice {
			return c.collect(ctx.KV, j, workers), nil
		}
		return c.collectTyped(ctx.KV, j, workers), nil
	case phasePass1, phasePass2:
		var work int
		var err error
		switch task {
		case TaskMulti:
			work, err = c.stepMulti(ctx.KV, j, workers)
		case TaskRating:
			work, err = c.stepRating(ctx.KV, j, workers)
		case TaskBox:
			work, err = c.stepBox(ctx.KV, j, workers)
		default:
			work, err = c.infer(ctx.KV, j, workers)
		}
		if err != nil {
			return 0, fmt.Errorf("label job %d: inference: %w", j.ID, err)
		}
		return work, nil
	case phaseSettle:
		switch task {
		case TaskMulti:
			return c.settleMulti(ctx, j, workers)
		case TaskRating:
			return c.settleRating(ctx, j, workers)
		case TaskBox:
			return c.settleBox(ctx, j, workers)
		}
		return c.settle(ctx, j, workers)
	}
	return 0, fmt.Errorf("label job %d: closing phase %d unknown", j.ID, c.Phase)
}

// collect reads whole workers' revealed answers until the block's budget
// is spent, into one new chunk: 8 bytes an answer (item, worker, label).
func (c *closing) collect(kv store.KV, j *Job, workers []Worker) int {
	var buf []byte
	read := 0
	for c.NextWorker < uint32(len(workers)) && read < collectPerBlock {
		w := workers[c.NextWorker]
		kv.Iterate(workerTaskPrefix(j.ID, w.Address), func(_, v []byte) bool {
			var t Task
			read++
			if chain.Unmarshal(v, &t) == nil && t.State == TaskRevealed {
				buf = binary.BigEndian.AppendUint32(buf, t.Item)
				buf = binary.BigEndian.AppendUint16(buf, uint16(c.NextWorker))
				buf = binary.BigEndian.AppendUint16(buf, uint16(t.Label))
			}
			return true
		})
		c.NextWorker++
	}
	if len(buf) > 0 {
		kv.Set(chunkKey(j.ID, c.Chunks), buf)
		c.Chunks++
		c.Answers += uint64(len(buf) / 8)
	}
	if c.NextWorker >= uint32(len(workers)) {
		c.Phase = phasePass1
		a := c.answers(kv, j, len(workers))
		c.Majority = !needsEM(&a, c.gold(j))
	}
	return read
}

// answers loads the collected answers.
func (c *closing) answers(kv store.KV, j *Job, workers int) truth.Answers {
	a := truth.Answers{Items: int(j.ItemCount), Workers: workers, Classes: len(j.Labels), List: make([]truth.Answer, 0, c.Answers)}
	for n := range c.Chunks {
		b := kv.Get(chunkKey(j.ID, n))
		for k := 0; k+8 <= len(b); k += 8 {
			a.List = append(a.List, truth.Answer{Item: int(binary.BigEndian.Uint32(b[k:])),
				Worker: int(binary.BigEndian.Uint16(b[k+4:])), Class: int(binary.BigEndian.Uint16(b[k+6:]))})
		}
	}
	return a
}

// gold is the close's gold as one label per item, nil without gold.
func (c *closing) gold(j *Job) []int {
	if len(c.GoldItems) == 0 {
		return nil
	}
	g := make([]int, j.ItemCount)
	for i := range g {
		g[i] = truth.NoLabel
	}
	for n, it := range c.GoldItems {
		g[it] = int(c.GoldLabels[n])
	}
	return g
}

// roundsPerBlock is how many EM rounds over n answers fit one block.
func roundsPerBlock(n int) int { return max(1, roundsBudget/max(n, 1)) }

// infer runs one block's EM rounds of pass 1 or 2, and finishes the pass
// when its EM is done.
func (c *closing) infer(kv store.KV, j *Job, workers []Worker) (int, error) {
	a := c.answers(kv, j, len(workers))
	work := len(a.List)
	gold := c.gold(j)
	opt := truth.Options{Gold: gold, MaxIter: InferenceMaxIter}
	if c.Phase == phasePass2 {
		a = acceptedAnswers(&a, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	}
	cp, majority := &c.Pass1, c.Majority
	if c.Phase == phasePass2 {
		cp, majority = &c.Pass2, c.Majority2
	}
	if !majority && !(*cp).Done(opt) {
		next, err := truth.ResumeBest(&a, opt, *cp, roundsPerBlock(len(a.List)))
		if err != nil {
			return 0, err
		}
		work += (next.Iterations - iterations(*cp)) * len(a.List)
		*cp = next
		if !next.Done(opt) {
			return work, nil
		}
	}
	if c.Phase == phasePass1 {
		tr, err := c.result(&a, opt, *cp)
		if err != nil {
			return 0, err
		}
		scores, err := classScoresFrom(tr, &a, gold, workers)
		if err != nil {
			return 0, err
		}
		_, perLabel := countLabels(&a)
		c.Scores, c.Accuracy = scores, make([]truth.Prob, len(workers))
		c.GoldAnswers, c.GoldCorrect, c.Reasons = make([]uint32, len(workers)), make([]uint32, len(workers)), make([]string, len(workers))
		for i := range workers {
			wr := &tr.Workers[i]
			c.Accuracy[i] = wr.Accuracy
			c.GoldAnswers[i], c.GoldCorrect[i] = uint32(wr.GoldAnswers), uint32(wr.GoldCorrect)
			c.Reasons[i] = reasonFor(&workers[i], wr, perLabel[i])
		}
		c.Phase = phasePass2
		acc := acceptedAnswers(&a, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
		if len(acc.List) == len(a.List) || len(acc.List) == 0 {
			c.Phase = phaseSettle // no second pass: all accepted, or none
		}
		c.Majority2 = !needsEM(&acc, gold)
		return work + len(a.List), nil
	}
	c.Phase = phaseSettle
	return work, nil
}

func (c *closing) result(a *truth.Answers, opt truth.Options, cp *truth.EMCheckpoint) (*truth.Result, error) {
	if c.Majority {
		return truth.MajorityVote(a, opt)
	}
	return truth.FinishBest(a, opt, cp)
}

// settle builds the verdict from the finished passes and settles the job
// as the one-block close does.
func (c *closing) settle(ctx *chain.Context, j *Job, workers []Worker) (int, error) {
	var g *goldSet
	if gl := c.gold(j); gl != nil {
		g = &goldSet{has: make([]bool, j.ItemCount), labels: make([]int, j.ItemCount), values: make([]int64, j.ItemCount), boxes: make([][]Box, j.ItemCount)}
		for i, l := range gl {
			if l != truth.NoLabel {
				g.has[i], g.labels[i] = true, l
			}
		}
	}
	v := newVerdict(j, len(workers), g)
	v.scores, v.accuracy, v.goldAnswers, v.goldCorrect, v.reasons = c.Scores, c.Accuracy, c.GoldAnswers, c.GoldCorrect, c.Reasons
	a := c.answers(ctx.KV, j, len(workers))
	opt := truth.Options{Gold: g.classes(), MaxIter: InferenceMaxIter}
	accepted := acceptedAnswers(&a, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	items, err := c.finalItems(&a, &accepted, opt)
	if err != nil {
		return 0, fmt.Errorf("label job %d: results: %w", j.ID, err)
	}
	if items != nil {
		v.method = items.Method
		for i, it := range items.Items {
			v.items[i] = ItemResult{Item: uint32(i), Label: int32(it.Label), ConfidencePPM: uint32(it.Confidence.PPM()), Votes: uint32(it.Votes), Gold: it.Gold}
		}
	}
	c.drop(ctx.KV)
	return len(a.List) + len(v.items), settleVerdict(ctx, j, workers, v, c.Forfeit)
}

// finalItems is the truth of the items once the workers are scored: the
// first pass's result when every answer was accepted, else a second pass
// over the accepted ones (majority vote or the best method); nil when no
// answer was accepted.
func (c *closing) finalItems(all, accepted *truth.Answers, opt truth.Options) (*truth.Result, error) {
	switch {
	case len(accepted.List) == len(all.List):
		return c.result(all, opt, c.Pass1)
	case len(accepted.List) > 0 && c.Majority2:
		return truth.MajorityVote(accepted, opt)
	case len(accepted.List) > 0:
		return truth.FinishBest(accepted, opt, c.Pass2)
	}
	return nil, nil
}

// acceptedAnswers is a without the answers of workers scored below bar.
func acceptedAnswers(a *truth.Answers, scores []truth.Prob, bar truth.Prob) truth.Answers {
	out := truth.Answers{Items: a.Items, Workers: a.Workers, Classes: a.Classes}
	for _, x := range a.List {
		if scores[x.Worker] >= bar {
			out.List = append(out.List, x)
		}
	}
	return out
}

// countLabels counts each worker's answers per label.
func countLabels(a *truth.Answers) (int, [][]uint32) {
	per := make([][]uint32, a.Workers)
	for i := range per {
		per[i] = make([]uint32, a.Classes)
	}
	for _, x := range a.List {
		per[x.Worker][x.Class]++
	}
	return len(a.List), per
}
