package label

import (
	"crypto/sha256"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label/truth"
)

// Pool is the stake pool annotators bond into.
const Pool = "label"

// Limits. Every loop over a job's items, answers or workers is bounded by
// these, and so is the truth inference at close (see the package doc).
const (
	MaxTitleLen    = 200
	MaxLabels      = 16
	MaxLabelLen    = 64
	MaxItems       = 100_000
	MaxBoxes       = truth.MaxBoxesPerAnswer // boxes one answer may draw, at most
	MaxImageSide   = truth.MaxBoxCoord       // pixels, for box jobs
	MaxRatingSpan  = 1_000_000               // max - min of a rating job
	MaxInstructLen = 4096
	MaxExamples    = 8
	MaxExampleLen  = 512
	MaxInlineItems = 2048
	MaxItemBytes   = 2048
	MaxRedundancy  = 9
	MaxAnswerSlots = 1 << 20 // items x max redundancy (multi-label: x labels, one yes/no answer each)
	MaxWorkers     = 256
	MaxBatch       = 256 // items per assignment round; entries per commit or reveal
	MinGraceBlocks = 10
	MaxPhaseBlocks = 1_000_000
	ppm            = 1_000_000
)

// Item kinds: what a page shows for an item.
const (
	KindText = "text" // a string
	KindGrid = "grid" // a square grayscale image as numbers, e.g. an 8x8 digit with values 0..16
	// KindImage items are the CIDs of registered blobs holding an image
	// (PNG, JPEG, GIF or WebP); the labeling page fetches each by its CID
	// and checks it, so an item is exactly the picture the job committed to.
	KindImage = "image"
)

// Task types: what an answer is.
const (
	TaskChoice = "choice" // one label of the set (the default, "")
	TaskMulti  = "multi"  // each label a yes/no question: the answer is a bit mask over the labels
	TaskRating = "rating" // an integer in [RatingMin, RatingMax]
	TaskBox    = "box"    // boxes on a Width x Height image, each with a class from the labels
)

// Box is one bounding box of an answer, in pixels: X, Y the top-left
// corner, W and H at least 1, inside the job's image; Class indexes the
// labels.
type Box struct {
	X     uint32 `json:"x" cbor:"1,keyasint"`
	Y     uint32 `json:"y" cbor:"2,keyasint"`
	W     uint32 `json:"w" cbor:"3,keyasint"`
	H     uint32 `json:"h" cbor:"4,keyasint"`
	Class uint32 `json:"class" cbor:"5,keyasint"`
}

// Answer is one answer of any task type: Label for choice (an index) and
// multi (a bit mask), Value for ratings, Boxes for box jobs.
type Answer struct {
	Label uint32 `json:"label"`
	Value int64  `json:"value,omitempty"`
	Boxes []Box  `json:"boxes,omitempty"`
}

// Blob item formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// MsgCreateJob posts a labeling job and locks its budget in escrow.
// Items are either inline (Items) or a registered blob (ItemsCID with
// ItemCount and ItemFormat), never both.
type MsgCreateJob struct {
	Title      string   `json:"title" cbor:"1,keyasint"`
	Labels     []string `json:"labels" cbor:"2,keyasint"`
	Items      []string `json:"items,omitempty" cbor:"3,keyasint,omitempty"`
	ItemsCID   string   `json:"items_cid,omitempty" cbor:"4,keyasint,omitempty"`
	ItemCount  uint32   `json:"item_count,omitempty" cbor:"5,keyasint,omitempty"`
	ItemKind   string   `json:"item_kind" cbor:"6,keyasint"`
	ItemFormat string   `json:"item_format,omitempty" cbor:"7,keyasint,omitempty"`
	// Redundancy answers per item at first; items whose confidence stays
	// below ConfidencePPM get more, up to MaxRedundancy.
	Redundancy    uint32 `json:"redundancy" cbor:"8,keyasint"`
	MaxRedundancy uint32 `json:"max_redundancy" cbor:"9,keyasint"`
	ConfidencePPM uint32 `json:"confidence_ppm" cbor:"10,keyasint"`
	Reward        uint64 `json:"reward" cbor:"11,keyasint"` // utnn per answer at full quality
	Stake         uint64 `json:"stake" cbor:"12,keyasint"`  // utnn an annotator must have bonded (and risks)
	// Phases, in blocks: commits until DeadlineBlocks after creation, reveals
	// RevealBlocks more, then the requester has GraceBlocks to close.
	DeadlineBlocks int64      `json:"deadline_blocks" cbor:"13,keyasint"`
	RevealBlocks   int64      `json:"reveal_blocks" cbor:"14,keyasint"`
	GraceBlocks    int64      `json:"grace_blocks" cbor:"15,keyasint"`
	QualityPPM     uint32     `json:"quality_ppm" cbor:"16,keyasint"`                 // score below which a worker is slashed, unpaid
	BatchSize      uint32     `json:"batch_size" cbor:"17,keyasint"`                  // items per assignment round
	MaxPerWorker   uint32     `json:"max_per_worker" cbor:"18,keyasint"`              // items one worker may get in all
	GoldHash       chain.Hash `json:"gold_hash,omitzero" cbor:"19,keyasint,omitzero"` // zero: no gold
	// Task is the task type ("" is TaskChoice). Rating jobs declare their
	// range; box jobs the image size and the most boxes per answer.
	Task      string `json:"task,omitempty" cbor:"20,keyasint,omitempty"`
	RatingMin int64  `json:"rating_min,omitempty" cbor:"21,keyasint,omitempty"`
	RatingMax int64  `json:"rating_max,omitempty" cbor:"22,keyasint,omitempty"`
	Width     uint32 `json:"width,omitempty" cbor:"23,keyasint,omitempty"`
	Height    uint32 `json:"height,omitempty" cbor:"24,keyasint,omitempty"`
	MaxBoxes  uint32 `json:"max_boxes,omitempty" cbor:"25,keyasint,omitempty"`
	// Instructions and worked examples for the labeling page.
	Instructions string   `json:"instructions,omitempty" cbor:"26,keyasint,omitempty"`
	Examples     []string `json:"examples,omitempty" cbor:"27,keyasint,omitempty"`
	// Source takes the items from a data-market dataset version (with
	// ItemCount its record count) instead of Items or ItemsCID.
	Source *DataSource `json:"source,omitempty" cbor:"40,keyasint,omitempty"`
}

func (*MsgCreateJob) Type() string { return "label/create-job" }

// Count is the number of items of the job.
func (m *MsgCreateJob) Count() uint32 {
	if m.ItemsCID != "" || m.Source != nil {
		return m.ItemCount
	}
	return uint32(len(m.Items))
}

func (m *MsgCreateJob) ValidateBasic() error {
	bad := func(format string, args ...any) error { return chain.Wrap(chain.ErrInvalidRequest, format, args...) }
	if m.Title == "" || len(m.Title) > MaxTitleLen {
		return bad("title must be 1 to %d characters", MaxTitleLen)
	}
	if err := m.validateTask(); err != nil {
		return err
	}
	for i, l := range m.Labels {
		if l == "" || len(l) > MaxLabelLen {
			return bad("label %d must be 1 to %d characters", i, MaxLabelLen)
		}
		for _, o := range m.Labels[:i] {
			if o == l {
				return bad("label %q appears twice", l)
			}
		}
	}
	switch m.ItemKind {
	case KindText, KindGrid, KindImage:
	default:
		return bad("item kind %q: want %q, %q or %q", m.ItemKind, KindText, KindGrid, KindImage)
	}
	if m.Source != nil {
		if err := m.Source.validate(m); err != nil {
			return err
		}
	} else if m.ItemsCID != "" {
		if len(m.Items) > 0 {
			return bad("give inline items or an items CID, not both")
		}
		if _, err := chain.ParseBlobCID(m.ItemsCID); err != nil {
			return err
		}
		if m.ItemCount == 0 || m.ItemCount > MaxItems {
			return bad("item count %d: want 1 to %d", m.ItemCount, MaxItems)
		}
		if m.ItemFormat != FormatJSONL && m.ItemFormat != FormatCSV {
			return bad("item format %q: want %q or %q", m.ItemFormat, FormatJSONL, FormatCSV)
		}
	} else {
		if len(m.Items) == 0 || len(m.Items) > MaxInlineItems {
			return bad("%d inline items: want 1 to %d (use a blob for more)", len(m.Items), MaxInlineItems)
		}
		if m.ItemCount != 0 || m.ItemFormat != "" {
			return bad("item count and format are for blob items only")
		}
		for i, it := range m.Items {
			if it == "" || len(it) > MaxItemBytes {
				return bad("item %d must be 1 to %d bytes", i, MaxItemBytes)
			}
			if err := checkImageItem(m.ItemKind, i, it); err != nil {
				return err
			}
		}
	}
	n := m.Count()
	switch {
	case m.Redundancy == 0 || m.Redundancy > m.MaxRedundancy || m.MaxRedundancy > MaxRedundancy:
		return bad("want 1 <= redundancy (%d) <= max redundancy (%d) <= %d", m.Redundancy, m.MaxRedundancy, MaxRedundancy)
	case uint64(n)*uint64(m.MaxRedundancy) > MaxAnswerSlots:
		return bad("%d items x max redundancy %d = %d answer slots, at most %d", n, m.MaxRedundancy, uint64(n)*uint64(m.MaxRedundancy), MaxAnswerSlots)
	case TaskOf(m.Task) == TaskMulti && uint64(n)*uint64(m.MaxRedundancy)*uint64(len(m.Labels)) > MaxAnswerSlots:
		return bad("a multi job's %d items x max redundancy %d x %d labels = %d yes/no answers, at most %d", n, m.MaxRedundancy, len(m.Labels),
			uint64(n)*uint64(m.MaxRedundancy)*uint64(len(m.Labels)), MaxAnswerSlots)
	case m.ConfidencePPM > ppm || m.QualityPPM > ppm:
		return bad("confidence and quality are parts per million, at most %d", ppm)
	case m.Reward == 0:
		return bad("reward per answer must be positive")
	case m.DeadlineBlocks < 1 || m.DeadlineBlocks > MaxPhaseBlocks || m.RevealBlocks < 1 || m.RevealBlocks > MaxPhaseBlocks:
		return bad("deadline and reveal phase must be 1 to %d blocks", MaxPhaseBlocks)
	case m.GraceBlocks < MinGraceBlocks || m.GraceBlocks > MaxPhaseBlocks:
		return bad("grace period must be %d to %d blocks", MinGraceBlocks, MaxPhaseBlocks)
	case m.BatchSize == 0 || m.BatchSize > MaxBatch:
		return bad("batch size %d: want 1 to %d", m.BatchSize, MaxBatch)
	case m.MaxPerWorker == 0 || m.MaxPerWorker > n:
		return bad("max items per worker %d: want 1 to the item count %d", m.MaxPerWorker, n)
	}
	return nil
}

// checkImageItem refuses an image item that is not a blob CID.
func checkImageItem(kind string, i int, item string) error {
	if kind != KindImage {
		return nil
	}
	if _, err := chain.ParseBlobCID(item); err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "item %d of an image job must be the CID of an image blob: %v", i, err)
	}
	return nil
}

// ExtraFee makes the requester pay up front for the inference at close,
// which grows with the answer slots: 1 utnn per 8 slots.
func (m *MsgCreateJob) ExtraFee() uint64 {
	return uint64(m.Count()) * uint64(m.MaxRedundancy) / 8
}

// MsgJoin joins a job as an annotator and takes the first batch of items.
type MsgJoin struct {
	Job uint64 `json:"job" cbor:"1,keyasint"`
}

func (*MsgJoin) Type() string           { return "label/join" }
func (m *MsgJoin) ValidateBasic() error { return nil }

// MsgMore asks for the next batch of items; every item assigned so far must
// be committed.
type MsgMore struct {
	Job uint64 `json:"job" cbor:"1,keyasint"`
}

func (*MsgMore) Type() string           { return "label/more" }
func (m *MsgMore) ValidateBasic() error { return nil }

// CommitEntry is one committed answer.
type CommitEntry struct {
	Item uint32     `json:"item" cbor:"1,keyasint"`
	Hash chain.Hash `json:"hash" cbor:"2,keyasint"` // CommitAnswerHash
}

// MsgCommit commits answers to assigned items, in increasing item order.
type MsgCommit struct {
	Job     uint64        `json:"job" cbor:"1,keyasint"`
	Entries []CommitEntry `json:"entries" cbor:"2,keyasint"`
}

func (*MsgCommit) Type() string { return "label/commit" }
func (m *MsgCommit) ValidateBasic() error {
	if len(m.Entries) == 0 || len(m.Entries) > MaxBatch {
		return chain.Wrap(chain.ErrInvalidRequest, "%d entries: want 1 to %d", len(m.Entries), MaxBatch)
	}
	for i, e := range m.Entries {
		if e.Hash.IsZero() {
			return chain.Wrap(chain.ErrInvalidRequest, "entry %d: commit hash is missing (all zeros)", i)
		}
		if i > 0 && e.Item <= m.Entries[i-1].Item {
			return chain.Wrap(chain.ErrInvalidRequest, "entries must be in increasing item order without repeats (item %d after %d)", e.Item, m.Entries[i-1].Item)
		}
	}
	return nil
}

// RevealEntry opens one commit.
type RevealEntry struct {
	Item  uint32     `json:"item" cbor:"1,keyasint"`
	Label uint32     `json:"label" cbor:"2,keyasint"` // index into the job's labels (choice), bit mask (multi)
	Salt  chain.Hash `json:"salt" cbor:"3,keyasint"`
	Value int64      `json:"value,omitempty" cbor:"4,keyasint,omitempty"` // rating jobs
	Boxes []Box      `json:"boxes,omitempty" cbor:"5,keyasint,omitempty"` // box jobs
}

// Answer is the entry's answer.
func (e *RevealEntry) Answer() Answer { return Answer{Label: e.Label, Value: e.Value, Boxes: e.Boxes} }

// MsgReveal reveals committed answers, in increasing item order.
type MsgReveal struct {
	Job     uint64        `json:"job" cbor:"1,keyasint"`
	Entries []RevealEntry `json:"entries" cbor:"2,keyasint"`
}

func (*MsgReveal) Type() string { return "label/reveal" }
func (m *MsgReveal) ValidateBasic() error {
	if len(m.Entries) == 0 || len(m.Entries) > MaxBatch {
		return chain.Wrap(chain.ErrInvalidRequest, "%d entries: want 1 to %d", len(m.Entries), MaxBatch)
	}
	for i, e := range m.Entries {
		if e.Salt.IsZero() {
			return chain.Wrap(chain.ErrInvalidRequest, "entry %d: salt is missing (all zeros)", i)
		}
		if len(e.Boxes) > MaxBoxes {
			return chain.Wrap(chain.ErrInvalidRequest, "entry %d: %d boxes, at most %d", i, len(e.Boxes), MaxBoxes)
		}
		if i > 0 && e.Item <= m.Entries[i-1].Item {
			return chain.Wrap(chain.ErrInvalidRequest, "entries must be in increasing item order without repeats (item %d after %d)", e.Item, m.Entries[i-1].Item)
		}
	}
	return nil
}

// MsgClose settles a job. The requester sends the gold (items in increasing
// order, their labels, the salt) that matches the job's gold hash; after the
// grace period anyone may send it without gold to settle a forfeited job.
type MsgClose struct {
	Job        uint64     `json:"job" cbor:"1,keyasint"`
	GoldItems  []uint32   `json:"gold_items,omitempty" cbor:"2,keyasint,omitempty"`
	GoldLabels []uint32   `json:"gold_labels,omitempty" cbor:"3,keyasint,omitempty"`
	Salt       chain.Hash `json:"salt,omitzero" cbor:"4,keyasint,omitzero"`
	// Rating and box jobs: the gold answers, one per gold item (GoldLabels
	// then stays empty; multi-label gold are masks in GoldLabels).
	GoldValues []int64 `json:"gold_values,omitempty" cbor:"5,keyasint,omitempty"`
	GoldBoxes  [][]Box `json:"gold_boxes,omitempty" cbor:"6,keyasint,omitempty"`
}

func (*MsgClose) Type() string { return "label/close" }
func (m *MsgClose) ValidateBasic() error {
	n, kinds := len(m.GoldItems), 0
	for _, l := range []int{len(m.GoldLabels), len(m.GoldValues), len(m.GoldBoxes)} {
		if l > 0 {
			kinds++
			n = l
		}
	}
	if kinds > 1 || n != len(m.GoldItems) {
		return chain.Wrap(chain.ErrInvalidRequest, "%d gold items but %d gold labels, %d values, %d box lists: want one answer of one kind per item",
			len(m.GoldItems), len(m.GoldLabels), len(m.GoldValues), len(m.GoldBoxes))
	}
	for i, bs := range m.GoldBoxes {
		if len(bs) > MaxBoxes {
			return chain.Wrap(chain.ErrInvalidRequest, "gold item %d has %d boxes, at most %d", i, len(bs), MaxBoxes)
		}
	}
	if len(m.GoldItems) > MaxItems {
		return chain.Wrap(chain.ErrInvalidRequest, "%d gold items, at most %d", len(m.GoldItems), MaxItems)
	}
	if len(m.GoldItems) > 0 && m.Salt.IsZero() {
		return chain.Wrap(chain.ErrInvalidRequest, "gold salt is missing (all zeros)")
	}
	for i := 1; i < len(m.GoldItems); i++ {
		if m.GoldItems[i] <= m.GoldItems[i-1] {
			return chain.Wrap(chain.ErrInvalidRequest, "gold items must be in increasing order without repeats")
		}
	}
	return nil
}

// commitPreimage and goldPreimage are hashed in canonical CBOR after a
// domain tag, so a commit can never be replayed as a gold hash or for
// another job, item or worker.
type commitPreimage struct {
	Job    uint64        `cbor:"1,keyasint"`
	Item   uint32        `cbor:"2,keyasint"`
	Label  uint32        `cbor:"3,keyasint"`
	Salt   chain.Hash    `cbor:"4,keyasint"`
	Worker chain.Address `cbor:"5,keyasint"`
	// Typed answers; absent for choice and multi, so those hashes are as before.
	Value int64 `cbor:"6,keyasint,omitempty"`
	Boxes []Box `cbor:"7,keyasint,omitempty"`
}

type goldPreimage struct {
	Items  []uint32   `cbor:"1,keyasint"`
	Labels []uint32   `cbor:"2,keyasint"`
	Salt   chain.Hash `cbor:"3,keyasint"`
	Values []int64    `cbor:"4,keyasint,omitempty"`
	Boxes  [][]Box    `cbor:"5,keyasint,omitempty"`
}

// CommitHash is what a worker commits for its label of an item.
func CommitHash(job uint64, item, label uint32, salt chain.Hash, worker chain.Address) chain.Hash {
	return CommitAnswerHash(job, item, Answer{Label: label}, salt, worker)
}

// CommitAnswerHash is what a worker commits for its answer to an item, of
// any task type.
func CommitAnswerHash(job uint64, item uint32, a Answer, salt chain.Hash, worker chain.Address) chain.Hash {
	h := sha256.New()
	h.Write([]byte("tenun/label/commit/v1\x00"))
	h.Write(chain.Marshal(commitPreimage{Job: job, Item: item, Label: a.Label, Salt: salt, Worker: worker, Value: a.Value, Boxes: a.Boxes}))
	return chain.Hash(h.Sum(nil))
}

// GoldHash is what a requester commits for its gold questions: items in
// increasing order, their labels, and a secret salt.
func GoldHash(items, labels []uint32, salt chain.Hash) chain.Hash {
	return GoldAnswersHash(items, labels, nil, nil, salt)
}

// GoldAnswersHash is GoldHash for any task type: labels (choice, multi),
// values (rating) or box lists (box), one per gold item.
func GoldAnswersHash(items, labels []uint32, values []int64, boxes [][]Box, salt chain.Hash) chain.Hash {
	if items == nil {
		items = []uint32{}
	}
	if labels == nil {
		labels = []uint32{}
	}
	h := sha256.New()
	h.Write([]byte("tenun/label/gold/v1\x00"))
	h.Write(chain.Marshal(goldPreimage{Items: items, Labels: labels, Salt: salt, Values: values, Boxes: boxes}))
	return chain.Hash(h.Sum(nil))
}

// TaskOf is a task type with the default filled in.
func TaskOf(t string) string {
	if t == "" {
		return TaskChoice
	}
	return t
}

// validateTask checks the task type and its parameters, the labels, the
// instructions and the examples.
func (m *MsgCreateJob) validateTask() error {
	bad := func(format string, args ...any) error { return chain.Wrap(chain.ErrInvalidRequest, format, args...) }
	minLabels := 2
	switch TaskOf(m.Task) {
	case TaskChoice:
	case TaskMulti, TaskBox:
		minLabels = 1 // one yes/no question; one box class
	case TaskRating:
		minLabels = 0
		if m.RatingMax <= m.RatingMin || m.RatingMax-m.RatingMin > MaxRatingSpan || m.RatingMin < -MaxRatingSpan || m.RatingMax > MaxRatingSpan {
			return bad("rating range [%d, %d]: want min < max, a span of at most %d and both within ±%d", m.RatingMin, m.RatingMax, MaxRatingSpan, MaxRatingSpan)
		}
	default:
		return bad("task %q: want %q, %q, %q or %q", m.Task, TaskChoice, TaskMulti, TaskRating, TaskBox)
	}
	if TaskOf(m.Task) != TaskRating && (m.RatingMin != 0 || m.RatingMax != 0) {
		return bad("a rating range is for rating jobs only")
	}
	if TaskOf(m.Task) == TaskBox {
		if m.Width == 0 || m.Height == 0 || m.Width > MaxImageSide || m.Height > MaxImageSide {
			return bad("image size %dx%d: want 1 to %d pixels a side", m.Width, m.Height, MaxImageSide)
		}
		if m.MaxBoxes == 0 || m.MaxBoxes > MaxBoxes {
			return bad("max boxes %d: want 1 to %d", m.MaxBoxes, MaxBoxes)
		}
	} else if m.Width != 0 || m.Height != 0 || m.MaxBoxes != 0 {
		return bad("image size and max boxes are for box jobs only")
	}
	if len(m.Labels) < minLabels || len(m.Labels) > MaxLabels {
		return bad("%d labels: want %d to %d for a %s job", len(m.Labels), minLabels, MaxLabels, TaskOf(m.Task))
	}
	if len(m.Instructions) > MaxInstructLen {
		return bad("instructions are %d bytes, at most %d", len(m.Instructions), MaxInstructLen)
	}
	if len(m.Examples) > MaxExamples {
		return bad("%d examples, at most %d", len(m.Examples), MaxExamples)
	}
	for i, e := range m.Examples {
		if e == "" || len(e) > MaxExampleLen {
			return bad("example %d must be 1 to %d bytes", i, MaxExampleLen)
		}
	}
	return nil
}
