package label

import (
	"encoding/binary"
	"fmt"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Job statuses.
const (
	StatusOpen      = "open"
	StatusClosed    = "closed"    // settled by the requester with the gold
	StatusForfeited = "forfeited" // settled without gold after the grace period
)

// Job is a labeling job's on-chain record.
type Job struct {
	ID            uint64        `json:"id" cbor:"1,keyasint"`
	Requester     chain.Address `json:"requester" cbor:"2,keyasint"`
	Title         string        `json:"title" cbor:"3,keyasint"`
	Labels        []string      `json:"labels" cbor:"4,keyasint"`
	ItemKind      string        `json:"item_kind" cbor:"5,keyasint"`
	ItemCount     uint32        `json:"item_count" cbor:"6,keyasint"`
	ItemsCID      string        `json:"items_cid,omitempty" cbor:"7,keyasint,omitempty"` // empty: inline items
	ItemFormat    string        `json:"item_format,omitempty" cbor:"8,keyasint,omitempty"`
	Redundancy    uint32        `json:"redundancy" cbor:"9,keyasint"`
	MaxRedundancy uint32        `json:"max_redundancy" cbor:"10,keyasint"`
	ConfidencePPM uint32        `json:"confidence_ppm" cbor:"11,keyasint"`
	Reward        uint64        `json:"reward" cbor:"12,keyasint"`
	Stake         uint64        `json:"stake" cbor:"13,keyasint"`
	QualityPPM    uint32        `json:"quality_ppm" cbor:"14,keyasint"`
	BatchSize     uint32        `json:"batch_size" cbor:"15,keyasint"`
	MaxPerWorker  uint32        `json:"max_per_worker" cbor:"16,keyasint"`
	GoldHash      chain.Hash    `json:"gold_hash,omitzero" cbor:"17,keyasint,omitzero"` // zero: no gold
	Budget        uint64        `json:"budget" cbor:"18,keyasint"`
	Created       int64         `json:"created" cbor:"19,keyasint"`
	CommitEnd     int64         `json:"commit_end" cbor:"20,keyasint"` // last block that accepts joins and commits
	RevealEnd     int64         `json:"reveal_end" cbor:"21,keyasint"` // last block that accepts reveals
	ForfeitAt     int64         `json:"forfeit_at" cbor:"22,keyasint"` // from this block the job settles without gold
	Status        string        `json:"status" cbor:"23,keyasint"`
	Workers       uint32        `json:"workers" cbor:"24,keyasint"`
	Assigned      uint64        `json:"assigned" cbor:"25,keyasint"`
	Committed     uint64        `json:"committed" cbor:"26,keyasint"`
	Revealed      uint64        `json:"revealed" cbor:"27,keyasint"`
	Paid          uint64        `json:"paid" cbor:"28,keyasint"`
	Refunded      uint64        `json:"refunded" cbor:"29,keyasint"`
	Slashed       uint64        `json:"slashed" cbor:"30,keyasint"`
	ResultsCID    string        `json:"results_cid,omitempty" cbor:"31,keyasint,omitempty"`
	Closed        int64         `json:"closed,omitempty" cbor:"32,keyasint,omitempty"`
	Overlap       uint64        `json:"overlap" cbor:"33,keyasint"` // extra answer slots opened by dynamic overlap
	// Task type and its parameters (see MsgCreateJob); "" is TaskChoice.
	Task         string      `json:"task,omitempty" cbor:"34,keyasint,omitempty"`
	RatingMin    int64       `json:"rating_min,omitempty" cbor:"35,keyasint,omitempty"`
	RatingMax    int64       `json:"rating_max,omitempty" cbor:"36,keyasint,omitempty"`
	Width        uint32      `json:"width,omitempty" cbor:"37,keyasint,omitempty"`
	Height       uint32      `json:"height,omitempty" cbor:"38,keyasint,omitempty"`
	MaxBoxes     uint32      `json:"max_boxes,omitempty" cbor:"39,keyasint,omitempty"`
	Instructions string      `json:"instructions,omitempty" cbor:"40,keyasint,omitempty"`
	Examples     []string    `json:"examples,omitempty" cbor:"41,keyasint,omitempty"`
	Source       *DataSource `json:"source,omitempty" cbor:"50,keyasint,omitempty"`   // items from a dataset version
	Labelled     uint64      `json:"labelled,omitempty" cbor:"51,keyasint,omitempty"` // the labelled dataset made at close
}

// TaskType is the job's task type, the default filled in.
func (j *Job) TaskType() string { return TaskOf(j.Task) }

// CheckAnswer refuses an answer that does not fit the job's task: a label
// outside the set, a mask with bits beyond the labels, a rating outside the
// range, too many boxes, a box outside the image or of an unknown class.
func (j *Job) CheckAnswer(item uint32, a Answer) error {
	bad := func(format string, args ...any) error {
		return chain.Wrap(chain.ErrInvalidRequest, "item %d of label job %d: "+format, append([]any{item, j.ID}, args...)...)
	}
	k := uint64(len(j.Labels))
	typed := a.Value != 0 || len(a.Boxes) > 0
	switch j.TaskType() {
	case TaskChoice:
		if uint64(a.Label) >= k {
			return chain.Wrap(chain.ErrInvalidRequest, "label %d is outside label job %d's label set (%d labels, 0 to %d)", a.Label, j.ID, k, k-1)
		}
	case TaskMulti:
		if uint64(a.Label)>>k != 0 {
			return bad("label mask %#x has bits beyond the %d labels", a.Label, k)
		}
	case TaskRating:
		if a.Value < j.RatingMin || a.Value > j.RatingMax {
			return bad("rating %d is outside the range [%d, %d]", a.Value, j.RatingMin, j.RatingMax)
		}
		typed = a.Label != 0 || len(a.Boxes) > 0
	case TaskBox:
		if uint32(len(a.Boxes)) > j.MaxBoxes {
			return bad("%d boxes, at most %d", len(a.Boxes), j.MaxBoxes)
		}
		for n, b := range a.Boxes {
			if b.W == 0 || b.H == 0 || uint64(b.X)+uint64(b.W) > uint64(j.Width) || uint64(b.Y)+uint64(b.H) > uint64(j.Height) {
				return bad("box %d (%d,%d %dx%d) is empty or outside the %dx%d image", n, b.X, b.Y, b.W, b.H, j.Width, j.Height)
			}
			if uint64(b.Class) >= k {
				return bad("box %d has class %d, outside the %d labels", n, b.Class, k)
			}
		}
		typed = a.Label != 0 || a.Value != 0
	}
	if typed {
		return bad("the answer has fields a %s job does not take", j.TaskType())
	}
	return nil
}

// Escrow is the id of the job's escrow.
func (j *Job) Escrow() string { return fmt.Sprintf("label/%d", j.ID) }

// Worker is one annotator's record in a job.
type Worker struct {
	Address   chain.Address `json:"address" cbor:"1,keyasint"`
	Index     uint32        `json:"index" cbor:"2,keyasint"` // join order: the worker's index in the inference
	Joined    int64         `json:"joined" cbor:"3,keyasint"`
	Rounds    uint32        `json:"rounds" cbor:"4,keyasint"`
	Assigned  uint32        `json:"assigned" cbor:"5,keyasint"`
	Pending   uint32        `json:"pending" cbor:"6,keyasint"` // assigned but not committed
	Committed uint32        `json:"committed" cbor:"7,keyasint"`
	Revealed  uint32        `json:"revealed" cbor:"8,keyasint"`
	// Set at close.
	Settled     bool   `json:"settled" cbor:"9,keyasint"`
	ScorePPM    uint32 `json:"score_ppm" cbor:"10,keyasint"`
	AccuracyPPM uint32 `json:"accuracy_ppm" cbor:"11,keyasint"` // estimated by the inference
	GoldAnswers uint32 `json:"gold_answers" cbor:"12,keyasint"`
	GoldCorrect uint32 `json:"gold_correct" cbor:"13,keyasint"`
	Paid        uint64 `json:"paid" cbor:"14,keyasint"`
	Slashed     uint64 `json:"slashed" cbor:"15,keyasint"`
	Reason      string `json:"reason,omitempty" cbor:"16,keyasint,omitempty"`
}

// Task states.
const (
	TaskAssigned  = "assigned"
	TaskCommitted = "committed"
	TaskRevealed  = "revealed"
)

// Task is one item assigned to one worker.
type Task struct {
	Item      uint32     `json:"item" cbor:"1,keyasint"`
	Round     uint32     `json:"round" cbor:"2,keyasint"`
	State     string     `json:"state" cbor:"3,keyasint"`
	Commit    chain.Hash `json:"commit,omitzero" cbor:"4,keyasint,omitzero"`
	Committed int64      `json:"committed,omitempty" cbor:"5,keyasint,omitempty"` // height
	Label     uint32     `json:"label" cbor:"6,keyasint"`                         // meaningful once revealed
	Value     int64      `json:"value,omitempty" cbor:"7,keyasint,omitempty"`     // rating jobs, once revealed
	Boxes     []Box      `json:"boxes,omitempty" cbor:"8,keyasint,omitempty"`     // box jobs, once revealed
}

// itemState counts an item's answer slots and revealed votes.
type itemState struct {
	Need      uint32   `cbor:"1,keyasint"` // answers wanted: redundancy, raised by dynamic overlap
	Assigned  uint32   `cbor:"2,keyasint"`
	Committed uint32   `cbor:"3,keyasint"`
	Revealed  uint32   `cbor:"4,keyasint"`
	Votes     []uint32 `cbor:"5,keyasint"` // revealed answers per label
}

// Keys. Ids and item indexes are big-endian so prefixes iterate in order.
var (
	keySeq       = []byte("label/seq")
	prefixJob    = []byte("label/job/")
	prefixDue    = []byte("label/due/")
	prefixInUse  = []byte("label/use/")
	prefixResult = []byte("label/res/")
)

func jobKey(id uint64) []byte { return chain.Key(prefixJob, chain.Uint64Bytes(id)) }
func itemKey(id uint64, i uint32) []byte {
	return chain.Key([]byte("label/item/"), chain.Uint64Bytes(id), binary.BigEndian.AppendUint32(nil, i))
}
func textKey(id uint64, i uint32) []byte {
	return chain.Key([]byte("label/text/"), chain.Uint64Bytes(id), binary.BigEndian.AppendUint32(nil, i))
}
func workerPrefix(id uint64) []byte { return chain.Key([]byte("label/w/"), chain.Uint64Bytes(id)) }
func workerKey(id uint64, a chain.Address) []byte {
	return chain.Key(workerPrefix(id), a[:])
}
func taskPrefix(id uint64) []byte { return chain.Key([]byte("label/t/"), chain.Uint64Bytes(id)) }
func workerTaskPrefix(id uint64, a chain.Address) []byte {
	return chain.Key(taskPrefix(id), a[:])
}
func taskKey(id uint64, a chain.Address, i uint32) []byte {
	return chain.Key(workerTaskPrefix(id, a), binary.BigEndian.AppendUint32(nil, i))
}
func dueKey(height int64, id uint64) []byte {
	return chain.Key(prefixDue, chain.Uint64Bytes(uint64(height)), chain.Uint64Bytes(id))
}
func inUseKey(a chain.Address) []byte { return chain.Key(prefixInUse, a[:]) }
func resultKey(id uint64) []byte      { return chain.Key(prefixResult, chain.Uint64Bytes(id)) }

// GetJob loads a job.
func GetJob(kv store.KV, id uint64) (Job, error) {
	var j Job
	if !chain.Get(kv, jobKey(id), &j) {
		return j, chain.Wrap(chain.ErrNotFound, "label job %d", id)
	}
	return j, nil
}

func putJob(kv store.KV, j *Job) { chain.Put(kv, jobKey(j.ID), j) }

// GetWorker loads a worker's record in a job.
func GetWorker(kv store.KV, job uint64, a chain.Address) (Worker, bool) {
	var w Worker
	ok := chain.Get(kv, workerKey(job, a), &w)
	return w, ok
}

func putWorker(kv store.KV, job uint64, w *Worker) { chain.Put(kv, workerKey(job, w.Address), w) }

func getTask(kv store.KV, job uint64, a chain.Address, item uint32) (Task, bool) {
	var t Task
	ok := chain.Get(kv, taskKey(job, a, item), &t)
	return t, ok
}

func putTask(kv store.KV, job uint64, a chain.Address, t *Task) {
	chain.Put(kv, taskKey(job, a, t.Item), t)
}

// getItem returns an item's counters; an item nobody was assigned yet has
// no record and starts at the job's redundancy.
func getItem(kv store.KV, j *Job, i uint32) itemState {
	var s itemState
	if !chain.Get(kv, itemKey(j.ID, i), &s) {
		s = itemState{Need: j.Redundancy, Votes: make([]uint32, len(j.Labels))}
	}
	return s
}

func putItem(kv store.KV, j *Job, i uint32, s *itemState) { chain.Put(kv, itemKey(j.ID, i), s) }

// InUse is the stake of a that backs its open jobs: bonded stake beyond it
// is what a new join may use, so one stake cannot back many jobs at once.
func InUse(kv store.KV, a chain.Address) uint64 { return chain.GetUint64(kv, inUseKey(a)) }

// WorkerTasks lists a worker's tasks in a job, in item order.
func WorkerTasks(kv store.KV, job uint64, a chain.Address) []Task {
	out := []Task{}
	chain.Each(kv, workerTaskPrefix(job, a), func(_ []byte, t Task) bool {
		out = append(out, t)
		return true
	})
	return out
}

// Workers lists a job's workers in join order.
func Workers(kv store.KV, j *Job) []Worker {
	out := make([]Worker, j.Workers)
	chain.Each(kv, workerPrefix(j.ID), func(_ []byte, w Worker) bool {
		if w.Index < j.Workers {
			out[w.Index] = w
		}
		return true
	})
	return out
}

// ItemText returns an inline item's text.
func ItemText(kv store.KV, job uint64, i uint32) string { return string(kv.Get(textKey(job, i))) }
