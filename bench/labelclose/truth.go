package labelclose

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

// The typed jobs' shape: ratings 0 to 100, boxes on 320x320 images.
const (
	ratingMax = 100
	imageSide = 320
	maxBoxes  = 4
)

// jobTruth is the true answers of a bench job and how its workers answer.
type jobTruth struct {
	task    string
	classes int
	labels  []int
	values  []int64
	boxes   [][]truth.Box
}

func newTruth(task string, items, classes int) *jobTruth {
	t := &jobTruth{task: task, classes: classes}
	switch task {
	case label.TaskRating:
		t.values = workforce.RatingTruth(items, 0, ratingMax, 1)
	case label.TaskBox:
		t.boxes = workforce.BoxImages(items, imageSide, imageSide, classes, maxBoxes, 1)
	default:
		t.labels = workforce.Labels(items, classes, nil, 1)
	}
	return t
}

// gold is the close message's gold for items.
func (t *jobTruth) gold(items []uint32) *label.MsgClose {
	m := &label.MsgClose{GoldItems: items}
	for _, i := range items {
		switch t.task {
		case label.TaskRating:
			m.GoldValues = append(m.GoldValues, t.values[i])
		case label.TaskBox:
			m.GoldBoxes = append(m.GoldBoxes, toBoxes(t.boxes[i]))
		default:
			m.GoldLabels = append(m.GoldLabels, uint32(t.labels[i]))
		}
	}
	return m
}

// answer is worker w's answer to item: an honest worker is right 80% of
// the time (choice) or near the truth (ratings within 3, box corners
// within 2 pixels); the others answer at random.
func (t *jobTruth) answer(honest bool, w int, item uint32) label.Answer {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, item), uint64(w)))
	x := binary.BigEndian.Uint32(h[:])
	jitter := func(k int, d int64) int64 { return int64(h[4+k%28])%(2*d+1) - d }
	switch t.task {
	case label.TaskRating:
		if honest {
			return label.Answer{Value: min(max(t.values[item]+jitter(0, 3), 0), ratingMax)}
		}
		return label.Answer{Value: int64(x % (ratingMax + 1))}
	case label.TaskBox:
		if !honest {
			s := int64(x%100 + 10)
			return label.Answer{Boxes: []label.Box{{X: x >> 8 % 200, Y: x >> 16 % 200, W: uint32(s), H: uint32(s), Class: x >> 24 % uint32(t.classes)}}}
		}
		var out []label.Box
		for k, b := range t.boxes[item] {
			x0, y0 := max(b.X+jitter(4*k, 2), 0), max(b.Y+jitter(4*k+1, 2), 0)
			x1, y1 := min(b.X+b.W+jitter(4*k+2, 2), imageSide), min(b.Y+b.H+jitter(4*k+3, 2), imageSide)
			if x1 > x0 && y1 > y0 {
				out = append(out, label.Box{X: uint32(x0), Y: uint32(y0), W: uint32(x1 - x0), H: uint32(y1 - y0), Class: uint32(b.Class)})
			}
		}
		return label.Answer{Boxes: out}
	}
	if honest && x%10 < 8 {
		return label.Answer{Label: uint32(t.labels[item])}
	}
	return label.Answer{Label: x >> 8 % uint32(t.classes)}
}

// right reports whether the chain's verdict on an item is right.
func (t *jobTruth) right(it *label.ItemResult) bool {
	switch t.task {
	case label.TaskRating:
		d := it.Value - t.values[it.Item]
		return 20*max(d, -d) <= ratingMax
	case label.TaskBox:
		bs := make([]truth.Box, len(it.Boxes))
		for k, b := range it.Boxes {
			bs[k] = truth.Box{X: int64(b.X), Y: int64(b.Y), W: int64(b.W), H: int64(b.H), Class: int(b.Class)}
		}
		return truth.BoxQuality(bs, t.boxes[it.Item]) >= truth.MatchIoU
	}
	return int(it.Label) == t.labels[it.Item]
}

func toBoxes(bs []truth.Box) []label.Box {
	out := make([]label.Box, len(bs))
	for k, b := range bs {
		out[k] = label.Box{X: uint32(b.X), Y: uint32(b.Y), W: uint32(b.W), H: uint32(b.H), Class: uint32(b.Class)}
	}
	return out
}
