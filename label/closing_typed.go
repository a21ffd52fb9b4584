package label

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label/truth"
)

// Typed jobs (multi-label, rating, box) close over blocks the same way as
// single choice (closing.go), each step giving the bits of the one-block
// judgement (judge.go, judge_typed.go):
//
//   - collect: the revealed answers, whole workers at a time in address
//     order (the one-block close's order), into typed answer chunks;
//   - multi: pass 1 and 2 are the binary EM over (item, label) pairs, as
//     single choice, answer-rounds budgeted alike;
//   - rating: pass 1 and 2 are RatingEM, resumed from its checkpoint, a
//     budget of answer-rounds per block; the scores between them;
//   - box: pass 1 is BoxEM's fuse rounds and pass 2 the final weighted
//     fusion of the accepted answers, each a BoxPass stepped over the
//     items, CloseBoxWorkPerBlock work units (truth.BoxItemWork) a block;
//     the final fusion's items go to item chunks until the settle.
//
// Each block emits label_closing_step with the work units it did.

// CloseBoxWorkPerBlock bounds a block's box fusion work (truth.BoxItemWork
// units; at least one item a block).
const CloseBoxWorkPerBlock = 400_000

// boxItemsPerBlock bounds the items a block fuses, so one block's item
// chunk stays within the state decoder's 65,536 elements an array.
const boxItemsPerBlock = 16_384

var boxWorkBudget = CloseBoxWorkPerBlock // tests lower it

var prefixItemChunk = []byte("label/ci/")

func itemChunkPrefix(id uint64) []byte { return chain.Key(prefixItemChunk, chain.Uint64Bytes(id)) }
func itemChunkKey(id uint64, n uint32) []byte {
	return chain.Key(itemChunkPrefix(id), binary.BigEndian.AppendUint32(nil, n))
}

// inferenceAnswers is the answer count the job's inference sees: a
// multi-label answer is one yes/no answer per label.
func inferenceAnswers(j *Job) uint64 {
	if j.TaskType() == TaskMulti {
		return j.Revealed * uint64(len(j.Labels))
	}
	return j.Revealed
}

// addressOrder is the workers' join indexes sorted by address: the order
// of the job's task keys, so the collected answers are in the order the
// one-block close reads them.
func addressOrder(workers []Worker) []int {
	order := make([]int, len(workers))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(workers[a].Address[:], workers[b].Address[:]) })
	return order
}

// A typed answer in a chunk: item u32, worker u16, committed u64, label
// u32, value u64, box count u8, then per box x, y, w, h u32 and class u8.
const typedAnswerLen, typedBoxLen = 27, 17

func appendTypedAnswer(buf []byte, worker int, t *Task) []byte {
	buf = binary.BigEndian.AppendUint32(buf, t.Item)
	buf = binary.BigEndian.AppendUint16(buf, uint16(worker))
	buf = binary.BigEndian.AppendUint64(buf, uint64(t.Committed))
	buf = binary.BigEndian.AppendUint32(buf, t.Label)
	buf = binary.BigEndian.AppendUint64(buf, uint64(t.Value))
	buf = append(buf, byte(len(t.Boxes))) // at most MaxBoxes
	for _, b := range t.Boxes {
		for _, x := range [4]uint32{b.X, b.Y, b.W, b.H} {
			buf = binary.BigEndian.AppendUint32(buf, x)
		}
		buf = append(buf, byte(b.Class)) // < MaxLabels
	}
	return buf
}

func decodeTypedAnswers(b []byte, out []revealedAnswer) ([]revealedAnswer, error) {
	for len(b) > 0 {
		if len(b) < typedAnswerLen {
			return nil, fmt.Errorf("typed answer chunk: %d bytes left, want %d", len(b), typedAnswerLen)
		}
		r := revealedAnswer{worker: int(binary.BigEndian.Uint16(b[4:]))}
		r.task = Task{Item: binary.BigEndian.Uint32(b), State: TaskRevealed, Committed: int64(binary.BigEndian.Uint64(b[6:])),
			Label: binary.BigEndian.Uint32(b[14:]), Value: int64(binary.BigEndian.Uint64(b[18:]))}
		n := int(b[26])
		b = b[typedAnswerLen:]
		if len(b) < n*typedBoxLen {
			return nil, fmt.Errorf("typed answer chunk: %d boxes in %d bytes", n, len(b))
		}
		if n > 0 {
			r.task.Boxes = make([]Box, n)
		}
		for k := range n {
			r.task.Boxes[k] = Box{X: binary.BigEndian.Uint32(b), Y: binary.BigEndian.Uint32(b[4:]), W: binary.BigEndian.Uint32(b[8:]),
				H: binary.BigEndian.Uint32(b[12:]), Class: uint32(b[16])}
			b = b[typedBoxLen:]
		}
		out = append(out, r)
	}
	return out, nil
}

// collectTyped reads whole workers' revealed answers, in address order,
// until the block's budget is spent, into one new chunk.
func (c *closing) collectTyped(kv store.KV, j *Job, workers []Worker) int {
	order := addressOrder(workers)
	var buf []byte
	read := 0
	for c.NextWorker < uint32(len(workers)) && read < collectPerBlock {
		w := order[c.NextWorker]
		kv.Iterate(workerTaskPrefix(j.ID, workers[w].Address), func(_, v []byte) bool {
			var t Task
			read++
			if chain.Unmarshal(v, &t) == nil && t.State == TaskRevealed {
				buf = appendTypedAnswer(buf, w, &t)
				c.Answers++
			}
			return true
		})
		c.NextWorker++
	}
	if len(buf) > 0 {
		kv.Set(chunkKey(j.ID, c.Chunks), buf)
		c.Chunks++
	}
	if c.NextWorker >= uint32(len(workers)) {
		c.Phase = phasePass1
	}
	return read
}

// revealed loads the collected typed answers.
func (c *closing) revealed(kv store.KV, j *Job) ([]revealedAnswer, error) {
	out := make([]revealedAnswer, 0, c.Answers)
	for n := range c.Chunks {
		var err error
		if out, err = decodeTypedAnswers(kv.Get(chunkKey(j.ID, n)), out); err != nil {
			return nil, fmt.Errorf("label job %d: chunk %d: %w", j.ID, n, err)
		}
	}
	// The chunks are the chain's own, but a bad index must not panic.
	for _, r := range out {
		if r.worker >= int(j.Workers) || r.task.Item >= j.ItemCount {
			return nil, fmt.Errorf("label job %d: a collected answer of worker %d to item %d is outside the job (%d workers, %d items)",
				j.ID, r.worker, r.task.Item, j.Workers, j.ItemCount)
		}
	}
	if uint64(len(out)) != c.Answers {
		return nil, fmt.Errorf("label job %d: %d answers in the chunks, %d collected", j.ID, len(out), c.Answers)
	}
	return out, nil
}

// typedGold is the close's gold as the one-block close checked it (nil
// without gold).
func (c *closing) typedGold(j *Job) *goldSet {
	if !c.HasGold {
		return nil
	}
	n := j.ItemCount
	g := &goldSet{has: make([]bool, n), labels: make([]int, n), values: make([]int64, n), boxes: make([][]Box, n)}
	for k, it := range c.GoldItems {
		g.has[it] = true
		switch j.TaskType() {
		case TaskRating:
			g.values[it] = c.GoldValues[k]
		case TaskBox:
			g.boxes[it] = c.GoldBoxes[k]
		default:
			g.labels[it] = int(c.GoldLabels[k])
		}
	}
	return g
}

// verdict is the verdict the close's pass 1 decided, the items still to
// come.
func (c *closing) verdict(j *Job, workers int, g *goldSet) *verdict {
	v := newVerdict(j, workers, g)
	if c.Scores != nil {
		v.scores, v.accuracy, v.goldAnswers, v.goldCorrect, v.reasons = c.Scores, c.Accuracy, c.GoldAnswers, c.GoldCorrect, c.Reasons
	}
	return v
}

func (c *closing) keepVerdict(v *verdict) {
	c.Scores, c.Accuracy, c.GoldAnswers, c.GoldCorrect, c.Reasons = v.scores, v.accuracy, v.goldAnswers, v.goldCorrect, v.reasons
}

// stepMulti runs one block of a multi-label close's passes 1 and 2: the
// binary EM of judgeMulti, spread as single choice's.
func (c *closing) stepMulti(kv store.KV, j *Job, workers []Worker) (int, error) {
	rev, err := c.revealed(kv, j)
	if err != nil {
		return 0, err
	}
	g := c.typedGold(j)
	a, gold, st := multiInput(j, len(workers), rev, g)
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
	opt := truth.Options{Gold: gold, MaxIter: InferenceMaxIter}
	if c.Phase == phasePass1 && c.Pass1 == nil && !c.Majority {
		c.Majority = !needsEM(&a, gold)
	}
	work := len(a.List)
	if c.Phase == phasePass2 {
		a = acceptedAnswers(&a, c.Scores, bar)
	}
	cp, majority := &c.Pass1, c.Majority
	if c.Phase == phasePass2 {
		cp, majority = &c.Pass2, c.Majority2
	}
	if !majority && !(*cp).Done(opt) {
		rounds := roundsPerBlock(len(a.List))
		next, err := truth.ResumeBest(&a, opt, *cp, rounds)
		if err != nil {
			return 0, err
		}
		work += (next.Iterations - iterations(*cp)) * len(a.List)
		*cp = next
		if !next.Done(opt) {
			return work, nil
		}
	}
	if c.Phase == phasePass2 {
		c.Phase = phaseSettle
		return work, nil
	}
	tr, err := c.result(&a, opt, *cp)
	if err != nil {
		return 0, err
	}
	scores, err := classScoresFrom(tr, &a, gold, workers)
	if err != nil {
		return 0, err
	}
	v := c.verdict(j, len(workers), g)
	multiScores(tr, scores, &st, v)
	c.keepVerdict(v)
	c.Phase = phasePass2
	acc := acceptedAnswers(&a, c.Scores, bar)
	if len(acc.List) == len(a.List) || len(acc.List) == 0 {
		c.Phase = phaseSettle // no second pass: all accepted, or none
	}
	c.Majority2 = !needsEM(&acc, gold)
	return work + len(a.List), nil
}

func iterations(cp *truth.EMCheckpoint) int {
	if cp == nil {
		return 0
	}
	return cp.Iterations
}

// settleMulti builds the items from the finished passes and settles.
func (c *closing) settleMulti(ctx *chain.Context, j *Job, workers []Worker) (int, error) {
	rev, err := c.revealed(ctx.KV, j)
	if err != nil {
		return 0, err
	}
	g := c.typedGold(j)
	v := c.verdict(j, len(workers), g)
	a, gold, _ := multiInput(j, len(workers), rev, g)
	opt := truth.Options{Gold: gold, MaxIter: InferenceMaxIter}
	accepted := acceptedAnswers(&a, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	items, err := c.finalItems(&a, &accepted, opt)
	if err != nil {
		return 0, fmt.Errorf("label job %d: results: %w", j.ID, err)
	}
	if items != nil {
		multiItems(items, len(j.Labels), v)
	}
	c.drop(ctx.KV)
	return len(a.List) + len(v.items), settleVerdict(ctx, j, workers, v, c.Forfeit)
}

// ratingState is a truth.RatingCheckpoint as the store keeps it: the
// item values as bytes (8 each), since the state's decoder takes at most
// 65,536 elements an array and a job has up to MaxItems items.
type ratingState struct {
	Iterations int      `cbor:"1,keyasint"`
	Converged  bool     `cbor:"2,keyasint"`
	Values     []byte   `cbor:"3,keyasint"`
	Bias       []int64  `cbor:"4,keyasint"`
	Vars       []uint64 `cbor:"5,keyasint"`
}

func toRatingState(cp *truth.RatingCheckpoint) *ratingState {
	s := &ratingState{Iterations: cp.Iterations, Converged: cp.Converged, Values: make([]byte, 0, 8*len(cp.Values)), Bias: cp.Bias, Vars: cp.Vars}
	for _, v := range cp.Values {
		s.Values = binary.BigEndian.AppendUint64(s.Values, uint64(v))
	}
	return s
}

// checkpoint is s as truth takes it (nil: none yet).
func (s *ratingState) checkpoint() (*truth.RatingCheckpoint, error) {
	if s == nil {
		return nil, nil
	}
	if len(s.Values)%8 != 0 {
		return nil, fmt.Errorf("rating state: %d bytes of values", len(s.Values))
	}
	cp := &truth.RatingCheckpoint{Iterations: s.Iterations, Converged: s.Converged, Values: make([]int64, len(s.Values)/8), Bias: s.Bias, Vars: s.Vars}
	for i := range cp.Values {
		cp.Values[i] = int64(binary.BigEndian.Uint64(s.Values[8*i:]))
	}
	return cp, nil
}

// stepRating runs one block of a rating close's passes: RatingEM rounds
// over all answers (pass 1), the scores, then over the accepted ones
// (pass 2).
func (c *closing) stepRating(kv store.KV, j *Job, workers []Worker) (int, error) {
	rev, err := c.revealed(kv, j)
	if err != nil {
		return 0, err
	}
	g := c.typedGold(j)
	rs, opt := ratingInput(j, len(workers), rev, g)
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
	work := len(rs.List)
	if c.Phase == phasePass2 {
		rs = acceptedRatings(&rs, c.Scores, bar)
	}
	st := &c.Rating1
	if c.Phase == phasePass2 {
		st = &c.Rating2
	}
	cp, err := (*st).checkpoint()
	if err != nil {
		return 0, fmt.Errorf("label job %d: %w", j.ID, err)
	}
	if !cp.Done(opt) {
		before := 0
		if cp != nil {
			before = cp.Iterations
		}
		if cp, err = truth.ResumeRatingEM(&rs, opt, cp, roundsPerBlock(len(rs.List))); err != nil {
			return 0, fmt.Errorf("label job %d: rating inference: %w", j.ID, err)
		}
		work += (cp.Iterations - before) * len(rs.List)
		*st = toRatingState(cp)
		if !cp.Done(opt) {
			return work, nil
		}
	}
	if c.Phase == phasePass2 {
		c.Phase = phaseSettle
		return work, nil
	}
	res, err := truth.FinishRatingEM(&rs, opt, cp)
	if err != nil {
		return 0, fmt.Errorf("label job %d: rating inference: %w", j.ID, err)
	}
	v := c.verdict(j, len(workers), g)
	accepted := ratingScores(j, workers, rev, g, &rs, res, v)
	c.keepVerdict(v)
	c.Phase = phasePass2
	if len(accepted.List) == len(rs.List) || len(accepted.List) == 0 {
		c.Phase = phaseSettle // no second pass: all accepted, or none
	}
	return work + len(rs.List), nil
}

// settleRating takes the values from the last pass and settles.
func (c *closing) settleRating(ctx *chain.Context, j *Job, workers []Worker) (int, error) {
	rev, err := c.revealed(ctx.KV, j)
	if err != nil {
		return 0, err
	}
	g := c.typedGold(j)
	v := c.verdict(j, len(workers), g)
	rs, opt := ratingInput(j, len(workers), rev, g)
	accepted := acceptedRatings(&rs, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	if len(accepted.List) > 0 {
		st := c.Rating1
		if len(accepted.List) < len(rs.List) {
			st = c.Rating2
		}
		cp, err := st.checkpoint()
		if err != nil {
			return 0, fmt.Errorf("label job %d: %w", j.ID, err)
		}
		res, err := truth.FinishRatingEM(&accepted, opt, cp)
		if err != nil {
			return 0, fmt.Errorf("label job %d: results: %w", j.ID, err)
		}
		ratingItems(res, v)
	}
	c.drop(ctx.KV)
	return len(rs.List) + len(v.items), settleVerdict(ctx, j, workers, v, c.Forfeit)
}

// stepBox runs one block of a box close: BoxEM's fuse rounds over all
// answers (pass 1), the scores, then the final fusion of the accepted
// answers (pass 2), whose items go to item chunks.
func (c *closing) stepBox(kv store.KV, j *Job, workers []Worker) (int, error) {
	rev, err := c.revealed(kv, j)
	if err != nil {
		return 0, err
	}
	g := c.typedGold(j)
	a, opt := boxInput(j, len(workers), rev, g)
	if c.Phase == phasePass2 {
		a = acceptedBoxes(&a, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	}
	if c.Box == nil { // BoxEM's first round: equal weights
		if c.Box, err = truth.NewBoxPass(len(workers), nil); err != nil {
			return 0, err
		}
	}
	items, work, err := c.Box.Step(&a, opt, boxWorkBudget, boxItemsPerBlock)
	if err != nil {
		return 0, fmt.Errorf("label job %d: box fusion: %w", j.ID, err)
	}
	if c.Phase == phasePass2 {
		from := c.Box.Next - len(items)
		out := make([]ItemResult, 0, len(items))
		for n, it := range items {
			if it.Votes > 0 || it.Gold {
				out = append(out, ItemResult{Item: uint32(from + n), Label: 0, Boxes: fromTruthBoxes(it.Boxes), ConfidencePPM: ppm, Votes: uint32(it.Votes), Gold: it.Gold})
			}
		}
		if len(out) > 0 {
			chain.Put(kv, itemChunkKey(j.ID, c.ItemChunks), out)
			c.ItemChunks++
		}
		if c.Box.Done(&a) {
			c.Phase = phaseSettle
		}
		return work, nil
	}
	if !c.Box.Done(&a) {
		return work, nil
	}
	res, err := c.Box.Result(&a, "em")
	if err != nil {
		return 0, err
	}
	if c.BoxRound++; c.BoxRound < boxEMRounds {
		// The next round weights each worker by the quality this one gave.
		q := make([]truth.Prob, len(workers))
		for n := range q {
			q[n] = res.Workers[n].Quality
		}
		c.Box, err = truth.NewBoxPass(len(workers), q)
		return work, err
	}
	v := c.verdict(j, len(workers), g)
	weights := boxScores(j, workers, rev, g, &opt, res, v)
	c.keepVerdict(v)
	accepted := acceptedBoxes(&a, c.Scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	c.Phase, c.Box = phasePass2, nil
	if len(accepted.List) == 0 {
		c.Phase = phaseSettle
		return work + len(rev), nil
	}
	c.Box, err = truth.NewBoxPass(len(workers), weights)
	return work + len(rev), err
}

// settleBox records the fused items and settles.
func (c *closing) settleBox(ctx *chain.Context, j *Job, workers []Worker) (int, error) {
	v := c.verdict(j, len(workers), c.typedGold(j))
	if c.ItemChunks > 0 || c.Box != nil {
		v.method = "box/weighted-fuse" // FuseBoxes with weights, as judgeBox
	}
	for n := range c.ItemChunks {
		var items []ItemResult
		if !chain.Get(ctx.KV, itemChunkKey(j.ID, n), &items) {
			return 0, fmt.Errorf("label job %d: item chunk %d is missing", j.ID, n)
		}
		for _, it := range items {
			if it.Item >= j.ItemCount {
				return 0, fmt.Errorf("label job %d: item chunk %d: item %d outside the job", j.ID, n, it.Item)
			}
			v.items[it.Item] = it
		}
	}
	c.drop(ctx.KV)
	return len(v.items), settleVerdict(ctx, j, workers, v, c.Forfeit)
}
