package workforce

import (
	"fmt"

	"github.com/tenun-chain/tenun/label/truth"
)

// The synthetic typed sets that ship in datasets/labels. Their noise model
// is NewTyped's: honest workers (8) rate with a bias uniform in ±5% of the
// span and Gaussian noise of 2% to 6% of the span; flip each label of a
// multi-label item with probability 3% to 10%; draw each box with corners
// moved by Gaussian noise of 2% to 6% of its side, miss it with probability
// up to 5% and give a random class with probability 1.5% to 5%. One
// spammer answers uniformly at random, one constant worker always gives
// the same answer, one copier repeats an honest worker where it answered
// first, and (boxes) one lazy worker draws one box per image. Each item
// gets SynthPerItem answers from distinct workers at random.

// Sizes of the synthetic sets.
const (
	SynthRatingItems = 2000
	SynthMultiItems  = 1000
	SynthBoxItems    = 400
	SynthPerItem     = 5
	SynthImage       = 640
)

// SynthLabels are the classes of the synthetic multi-label and box sets.
var SynthLabels = []string{"car", "person", "sign"}

func synthIDs(prefix string, n int) []string {
	out := make([]string, n)
	width := len(fmt.Sprint(n - 1))
	for i := range out {
		out[i] = fmt.Sprintf("%s%0*d", prefix, width, i)
	}
	return out
}

func synthCrowd(lazy int, seed uint64) (*TypedCrowd, error) {
	return NewTyped(TypedMix{Honest: 8, Spammers: 1, Constant: 1, Copiers: 1, Lazy: lazy, Seed: seed})
}

func allTrue(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

// SynthRatings is the synthetic rating set: values in [-100, 100].
func SynthRatings(seed uint64) (*truth.TypedSet, error) {
	c, err := synthCrowd(0, seed)
	if err != nil {
		return nil, err
	}
	t := RatingTruth(SynthRatingItems, -100, 100, seed)
	r, err := c.AnswerRatings(t, -100, 100, SynthPerItem, seed)
	if err != nil {
		return nil, err
	}
	return &truth.TypedSet{Task: truth.TaskSpec{Kind: truth.SetRating, Min: -100, Max: 100},
		ItemIDs: synthIDs("r", r.Items), WorkerIDs: synthIDs("w", r.Workers), Ratings: r,
		HasTruth: allTrue(r.Items), RatingTruth: t}, nil
}

// SynthMulti is the synthetic multi-label set over SynthLabels.
func SynthMulti(seed uint64) (*truth.TypedSet, error) {
	c, err := synthCrowd(0, seed)
	if err != nil {
		return nil, err
	}
	k := len(SynthLabels)
	t := MultiTruth(SynthMultiItems, k, seed)
	m := &truth.MultiSet{Items: len(t), Workers: len(c.Workers), Labels: k}
	as, err := c.assignments(len(t), SynthPerItem, newRand(seed, 3))
	if err != nil {
		return nil, err
	}
	for i, ws := range as {
		given := map[int]uint32{}
		for _, w := range ws {
			tm, ok := given[c.Workers[w].Target]
			v := c.Mark(w, t[i], k, tm, ok && c.Workers[w].Kind == Copier)
			given[w] = v
			m.List = append(m.List, truth.MultiAnswer{Item: i, Worker: w, Mask: v})
		}
	}
	return &truth.TypedSet{Task: truth.TaskSpec{Kind: truth.SetMulti, Labels: SynthLabels},
		ItemIDs: synthIDs("m", m.Items), WorkerIDs: synthIDs("w", m.Workers), Multi: m,
		HasTruth: allTrue(m.Items), MultiTruth: t}, nil
}

// SynthBoxes is the synthetic box set: SynthImage-pixel square images with
// one to four objects of SynthLabels.
func SynthBoxes(seed uint64) (*truth.TypedSet, error) {
	c, err := synthCrowd(1, seed)
	if err != nil {
		return nil, err
	}
	k := len(SynthLabels)
	t := BoxImages(SynthBoxItems, SynthImage, SynthImage, k, 4, seed)
	b, err := c.AnswerBoxes(t, SynthImage, SynthImage, k, SynthPerItem, seed)
	if err != nil {
		return nil, err
	}
	return &truth.TypedSet{Task: truth.TaskSpec{Kind: truth.SetBox, Width: SynthImage, Height: SynthImage, Labels: SynthLabels},
		ItemIDs: synthIDs("b", b.Items), WorkerIDs: synthIDs("w", b.Workers), Boxes: b,
		HasTruth: allTrue(b.Items), BoxTruth: t}, nil
}
