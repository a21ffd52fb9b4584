package label

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label/truth"
)

// InferenceMaxIter bounds the EM rounds of the inference at close.
const InferenceMaxIter = 50

// MaxForfeitsPerBlock bounds the jobs EndBlock settles in one block; the
// rest wait for the next block.
const MaxForfeitsPerBlock = 2

// Slash reasons, recorded with each slashing.
const (
	ReasonOneLabel = "one-label-always" // every answer was the same label
	ReasonRandom   = "random clicking"  // answers do not depend on the item
	ReasonSpam     = "spam"             // answers depend on the item but fail the bar (or were never revealed)
)

// randomInformativeness: a worker below the bar whose answers tell the
// true classes apart less than this (mean total-variation distance between
// its confusion rows, 0 for answers independent of the item) is clicking at
// random. The inference's prior keeps a random clicker with a few dozen
// answers near 0.3 to 0.45; honest workers sit above 0.6.
const randomInformativeness = truth.One / 2

// Results is the canonical record of a closed job's labels. Its CBOR
// encoding (EncodeResults) is the blob whose CID the job records, so anyone
// holding the bytes can prove they are the chain's results.
type Results struct {
	Job     uint64       `json:"job" cbor:"1,keyasint"`
	Labels  []string     `json:"labels" cbor:"2,keyasint"`
	Method  string       `json:"method" cbor:"3,keyasint"`
	Forfeit bool         `json:"forfeit" cbor:"4,keyasint"`
	Items   []ItemResult `json:"items" cbor:"5,keyasint"`
}

// ItemResult is the verdict on one item.
type ItemResult struct {
	Item          uint32 `json:"item" cbor:"1,keyasint"`
	Label         int32  `json:"label" cbor:"2,keyasint"` // index into Labels; -1: no answers and no gold
	ConfidencePPM uint32 `json:"confidence_ppm" cbor:"3,keyasint"`
	Votes         uint32 `json:"votes" cbor:"4,keyasint"`
	Gold          bool   `json:"gold" cbor:"5,keyasint"`
	// Rating jobs: the value (Label 0 with a verdict); box jobs: the boxes.
	// Multi-label jobs: Label is the bit mask of the labels judged yes.
	Value int64 `json:"value,omitempty" cbor:"6,keyasint,omitempty"`
	Boxes []Box `json:"boxes,omitempty" cbor:"7,keyasint,omitempty"`
}

// EncodeResults is the canonical bytes of results: the blob content whose
// CID a closed job records.
func EncodeResults(r *Results) []byte { return chain.Marshal(r) }

func closeJob(ctx *chain.Context, m *MsgClose) error {
	j, err := GetJob(ctx.KV, m.Job)
	if err != nil {
		return err
	}
	if j.Status != StatusOpen {
		return chain.Wrap(chain.ErrConflict, "label job %d is already %s (block %d)", j.ID, j.Status, j.Closed)
	}
	h := ctx.Block.Height
	if h >= j.ForfeitAt {
		if len(m.GoldItems) > 0 || !m.Salt.IsZero() {
			return chain.Wrap(chain.ErrTooLate, "label job %d's grace period ended at block %d: it is forfeited and settles without gold (send close with no gold)", j.ID, j.ForfeitAt)
		}
		return settle(ctx, &j, nil, nil)
	}
	if ctx.Sender != j.Requester {
		return chain.Wrap(chain.ErrUnauthorized, "only the requester %s may close label job %d before block %d", j.Requester, j.ID, j.ForfeitAt)
	}
	allIn := h > j.CommitEnd && j.Revealed == j.Committed
	if h <= j.RevealEnd && !allIn {
		return chain.Wrap(chain.ErrTooEarly, "label job %d closes after its reveal phase (block %d), or after block %d once every commit is revealed (%d of %d)",
			j.ID, j.RevealEnd, j.CommitEnd, j.Revealed, j.Committed)
	}
	gold, err := checkGold(&j, m)
	if err != nil {
		return err
	}
	return settle(ctx, &j, gold, m)
}

// goldSet is the revealed gold, one entry per item where has is set:
// labels for choice (an index) and multi (a mask), values for ratings,
// boxes for box jobs.
type goldSet struct {
	has    []bool
	labels []int
	values []int64
	boxes  [][]Box
}

// classes returns the gold as one label per item (truth.NoLabel where
// none), nil without gold: the single-choice inference's form.
func (g *goldSet) classes() []int {
	if g == nil {
		return nil
	}
	out := make([]int, len(g.has))
	for i := range out {
		out[i] = truth.NoLabel
		if g.has[i] {
			out[i] = g.labels[i]
		}
	}
	return out
}

// checkGold verifies the revealed gold against the job's gold hash, checks
// each gold answer as a worker's answer would be checked, and returns it
// (nil for a job without gold).
func checkGold(j *Job, m *MsgClose) (*goldSet, error) {
	if j.GoldHash.IsZero() {
		if len(m.GoldItems) > 0 {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "label job %d committed no gold; close it without gold", j.ID)
		}
		return nil, nil
	}
	if GoldAnswersHash(m.GoldItems, m.GoldLabels, m.GoldValues, m.GoldBoxes, m.Salt) != j.GoldHash {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "the gold revealed does not match label job %d's gold hash", j.ID)
	}
	n := j.ItemCount
	g := &goldSet{has: make([]bool, n), labels: make([]int, n), values: make([]int64, n), boxes: make([][]Box, n)}
	task := j.TaskType()
	for k, it := range m.GoldItems {
		if it >= n {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "gold item %d is outside label job %d (%d items)", it, j.ID, n)
		}
		var a Answer
		switch {
		case task == TaskRating && len(m.GoldValues) > 0:
			a.Value = m.GoldValues[k]
		case task == TaskBox && len(m.GoldBoxes) > 0:
			a.Boxes = m.GoldBoxes[k]
		case (task == TaskChoice || task == TaskMulti) && len(m.GoldLabels) > 0:
			a.Label = m.GoldLabels[k]
		default:
			return nil, chain.Wrap(chain.ErrInvalidRequest, "the gold of %s job %d must be given as %s", task, j.ID, goldField(task))
		}
		if err := j.CheckAnswer(it, a); err != nil {
			return nil, fmt.Errorf("gold: %w", err)
		}
		g.has[it], g.labels[it], g.values[it], g.boxes[it] = true, int(a.Label), a.Value, a.Boxes
	}
	return g, nil
}

func goldField(task string) string {
	switch task {
	case TaskRating:
		return "gold_values"
	case TaskBox:
		return "gold_boxes"
	}
	return "gold_labels"
}

// settle judges the answers, pays, slashes, refunds and records the
// results. gold nil with the job past ForfeitAt is a forfeit: no slashing,
// and the whole escrow goes to the qualifying workers.
// A large job only starts closing here (see closing.go).
func settle(ctx *chain.Context, j *Job, gold *goldSet, m *MsgClose) error {
	forfeit := ctx.Block.Height >= j.ForfeitAt
	if closesOverBlocks(j) {
		startClosing(ctx, j, m, gold, forfeit)
		return nil
	}
	workers := Workers(ctx.KV, j)
	v, err := judge(ctx.KV, j, workers, gold)
	if err != nil {
		return chain.Wrap(chain.ErrInternal, "label job %d: %v", j.ID, err)
	}
	return settleVerdict(ctx, j, workers, v, forfeit)
}

// settleVerdict pays, slashes, refunds and records the results of v.
func settleVerdict(ctx *chain.Context, j *Job, workers []Worker, v *verdict, forfeit bool) error {
	if err := payOrSlash(ctx, j, workers, v, forfeit); err != nil {
		return err
	}
	if err := payOut(ctx, j, workers); err != nil {
		return err
	}
	return record(ctx, j, &Results{Job: j.ID, Labels: j.Labels, Method: v.method, Forfeit: forfeit, Items: v.items})
}

// payOrSlash records each worker's score and decides its pay, or slashes
// it. A forfeit pays the whole escrow pro rata to revealed answers x score
// and slashes nobody: the requester broke the protocol, so its missing
// gold must not cost the workers.
func payOrSlash(ctx *chain.Context, j *Job, workers []Worker, v *verdict, forfeit bool) error {
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
	var weights []uint64
	var totalWeight uint64
	if forfeit {
		weights = make([]uint64, len(workers))
	}
	for i := range workers {
		w := &workers[i]
		w.Settled = true
		w.ScorePPM = uint32(v.scores[i].PPM())
		w.AccuracyPPM = uint32(v.accuracy[i].PPM())
		w.GoldAnswers, w.GoldCorrect = v.goldAnswers[i], v.goldCorrect[i]
		switch {
		case w.Committed == 0:
			// Joined and did nothing: neither paid nor slashed.
		case v.scores[i] >= bar && w.Revealed > 0:
			if forfeit {
				weights[i] = uint64(w.Revealed) * uint64(v.scores[i])
				totalWeight += weights[i]
			} else {
				w.Paid = chain.MulDiv(uint64(w.Revealed)*j.Reward, uint64(v.scores[i]), uint64(truth.One))
			}
		case !forfeit:
			w.Reason = v.reasons[i]
			if w.Reason == "" {
				w.Reason = ReasonSpam
			}
			taken, err := chain.Slash(ctx, w.Address, Pool, w.Reason, j.Stake, chain.Address{})
			if err != nil {
				return fmt.Errorf("label job %d: slash %s: %w", j.ID, w.Address, err)
			}
			w.Slashed = taken
			j.Slashed += taken
		}
	}
	if forfeit && totalWeight > 0 {
		shareForfeit(ctx, j, workers, weights, totalWeight)
	}
	return nil
}

// shareForfeit splits a forfeited job's whole escrow by weight.
func shareForfeit(ctx *chain.Context, j *Job, workers []Worker, weights []uint64, totalWeight uint64) {
	pool := chain.EscrowBalance(ctx, j.Escrow())
	var sum uint64
	top := -1
	for i := range workers {
		if weights[i] == 0 {
			continue
		}
		workers[i].Paid = chain.MulDiv(pool, weights[i], totalWeight)
		sum += workers[i].Paid
		if top < 0 || weights[i] > weights[top] {
			top = i
		}
	}
	workers[top].Paid += pool - sum // rounding dust to the heaviest worker
}

// payOut releases each worker's pay from escrow, frees the stake the job
// held and stores the settled worker records.
func payOut(ctx *chain.Context, j *Job, workers []Worker) error {
	for i := range workers {
		w := &workers[i]
		if w.Paid > 0 {
			if err := chain.Release(ctx, j.Escrow(), w.Address, w.Paid); err != nil {
				return fmt.Errorf("label job %d: pay %s: %w", j.ID, w.Address, err)
			}
			j.Paid += w.Paid
		}
		used := InUse(ctx.KV, w.Address)
		chain.SetUint64(ctx.KV, inUseKey(w.Address), used-min(used, j.Stake))
		putWorker(ctx.KV, j.ID, w)
		ctx.Emit("label_settle", "job", chain.U64(j.ID), "worker", w.Address.String(), "score_ppm", chain.U64(uint64(w.ScorePPM)),
			"paid", chain.U64(w.Paid), "slashed", chain.U64(w.Slashed), "reason", w.Reason)
	}
	return nil
}

// record refunds the rest of the escrow, closes the job and stores its
// results with their CID.
func record(ctx *chain.Context, j *Job, res *Results) error {
	refunded, err := chain.Refund(ctx, j.Escrow())
	if err != nil {
		return fmt.Errorf("label job %d: refund: %w", j.ID, err)
	}
	j.Refunded = refunded
	j.Status = StatusClosed
	if res.Forfeit {
		j.Status = StatusForfeited
	}
	j.Closed = ctx.Block.Height
	if j.Source != nil {
		// A job that labelled nothing still settles: the export's own
		// writes are dropped and the reason recorded.
		if err := ctx.Isolated(func(sub *chain.Context) error { return exportResults(sub, j, res, Workers(sub.KV, j)) }); err != nil {
			ctx.Emit("label_export_error", "job", chain.U64(j.ID), "error", err.Error())
		}
	}
	enc := EncodeResults(res)
	j.ResultsCID = chain.BlobCID(enc)
	chain.NoteBlob(ctx, j.ResultsCID, j.Requester, uint64(len(enc))) // nodes keep the results' blob
	ctx.KV.Set(resultKey(j.ID), enc)
	ctx.KV.Delete(dueKey(j.ForfeitAt, j.ID))
	putJob(ctx.KV, j)
	ctx.Emit("label_close", "job", chain.U64(j.ID), "status", j.Status, "paid", chain.U64(j.Paid), "slashed", chain.U64(j.Slashed),
		"refunded", chain.U64(refunded), "results_cid", j.ResultsCID)
	return nil
}

// GetResults loads a closed job's results.
func GetResults(kv store.KV, id uint64) (Results, error) {
	var r Results
	raw := kv.Get(resultKey(id))
	if raw == nil {
		return r, chain.Wrap(chain.ErrNotFound, "label job %d has no results (not closed yet?)", id)
	}
	if err := resultsDec.Unmarshal(raw, &r); err != nil {
		panic(fmt.Errorf("corrupt state at key %q (%T): %w", resultKey(id), &r, err)) // chain.Get's corrupt-data policy
	}
	if !bytes.Equal(chain.Marshal(&r), raw) {
		panic(fmt.Errorf("corrupt state at key %q (%T): not in canonical form", resultKey(id), &r))
	}
	return r, nil
}

// resultsDec decodes a job's results as chain.Unmarshal does, but for
// the array limit: a job has up to MaxItems items, more than the 65,536
// elements the chain's decoder takes (a bound for hostile transactions;
// the results are the chain's own record).
var resultsDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   16,
		MaxArrayElements:  max(MaxItems, 65536),
		MaxMapPairs:       65536,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err) // the options are constants
	}
	return dm
}()

func be64u(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// endBlock settles forfeited jobs whose grace period has ended, at most
// MaxForfeitsPerBlock per block, each in its own write buffer so that one
// failure cannot block the others.
func endBlock(ctx *chain.Context) error {
	type due struct {
		key []byte
		job uint64
	}
	var list []due
	ctx.KV.Iterate(prefixDue, func(k, _ []byte) bool {
		rest := k[len(prefixDue):]
		if len(rest) != 16 || int64(be64u(rest[:8])) > ctx.Block.Height || len(list) == MaxForfeitsPerBlock {
			return false
		}
		list = append(list, due{key: append([]byte{}, k...), job: be64u(rest[8:])})
		return true
	})
	for _, d := range list {
		j, err := GetJob(ctx.KV, d.job)
		if err != nil || j.Status != StatusOpen {
			ctx.KV.Delete(d.key)
			continue
		}
		if err := ctx.Isolated(func(sub *chain.Context) error { return settle(sub, &j, nil, nil) }); err != nil {
			// Leave the job open for a close message; stop retrying it here.
			ctx.KV.Delete(d.key)
			ctx.Emit("label_forfeit_error", "job", chain.U64(j.ID), "error", err.Error())
		}
	}
	stepClosing(ctx)
	return nil
}
