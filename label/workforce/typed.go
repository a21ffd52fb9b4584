package workforce

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tenun-chain/tenun/label/truth"
)

// Lazy is a box worker who draws one box per image: the largest object,
// roughly.
const Lazy Kind = 4

// TypedMix describes a crowd for rating, multi-label and box tasks. Honest
// workers have noise; the others cheat.
type TypedMix struct {
	Honest, Spammers, Constant, Copiers, Lazy int
	Seed                                      uint64
}

// TypedWorker is one simulated worker of a typed task.
type TypedWorker struct {
	Kind Kind
	// Ratings: an honest worker answers truth + Bias + N(0, Noise²),
	// rounded and clamped to the range. Multi-label: it flips each label
	// with probability Flip. Boxes: it moves each corner by N(0, Jitter²)
	// times the box side, misses a box with probability Miss and gives a
	// wrong class with probability Flip.
	Bias, Noise, Flip, Jitter, Miss float64
	Target                          int // a copier's honest target
}

// TypedCrowd answers rating, multi-label and box items.
type TypedCrowd struct {
	Workers []TypedWorker
	r       *rand.Rand
}

// NewTyped draws a typed crowd: honest workers first, then spammers,
// constant answerers, copiers and lazy workers. noise scales the honest
// workers' noise (1: the documented defaults).
func NewTyped(m TypedMix) (*TypedCrowd, error) {
	if m.Honest < 0 || m.Spammers < 0 || m.Constant < 0 || m.Copiers < 0 || m.Lazy < 0 {
		return nil, fmt.Errorf("workforce: negative worker count in %+v", m)
	}
	if m.Copiers > 0 && m.Honest == 0 {
		return nil, fmt.Errorf("workforce: copiers need an honest worker to copy")
	}
	r := rand.New(rand.NewPCG(m.Seed, 0x7479706564)) // "typed"
	c := &TypedCrowd{r: r}
	for range m.Honest {
		c.Workers = append(c.Workers, TypedWorker{Kind: Honest,
			Bias: (2*r.Float64() - 1) * 0.05, Noise: 0.02 + 0.04*r.Float64(), // of the span
			Flip: 0.03 + 0.07*r.Float64(), Jitter: 0.02 + 0.04*r.Float64(), Miss: 0.05 * r.Float64()})
	}
	for _, k := range []struct {
		kind Kind
		n    int
	}{{Spammer, m.Spammers}, {Constant, m.Constant}, {Copier, m.Copiers}, {Lazy, m.Lazy}} {
		for range k.n {
			w := TypedWorker{Kind: k.kind}
			if k.kind == Copier {
				w.Target = r.IntN(m.Honest)
			}
			c.Workers = append(c.Workers, w)
		}
	}
	return c, nil
}

// Kinds returns each worker's kind.
func (c *TypedCrowd) Kinds() []Kind {
	out := make([]Kind, len(c.Workers))
	for i, w := range c.Workers {
		out[i] = w.Kind
	}
	return out
}

// RatingTruth draws n true values uniformly in the middle 80% of [lo, hi].
func RatingTruth(n int, lo, hi int64, seed uint64) []int64 {
	r := rand.New(rand.NewPCG(seed, 0x726174))
	span := float64(hi - lo)
	out := make([]int64, n)
	for i := range out {
		out[i] = lo + int64(math.Round(span*(0.1+0.8*r.Float64())))
	}
	return out
}

// Rate is worker w's rating of an item whose value is t in [lo, hi];
// target is the copier's target's answer where it has one (ok).
func (c *TypedCrowd) Rate(w int, t, lo, hi int64, target int64, ok bool) int64 {
	wk := &c.Workers[w]
	span := float64(hi - lo)
	var v float64
	switch wk.Kind {
	case Honest:
		v = float64(t) + span*(wk.Bias+wk.Noise*c.r.NormFloat64())
	case Constant:
		v = float64(lo) + span/2
	case Copier:
		if ok {
			return target
		}
		fallthrough
	default: // spammers, lazy
		v = float64(lo) + span*c.r.Float64()
	}
	return min(max(int64(math.Round(v)), lo), hi)
}

// MultiTruth draws n label masks over k labels, each label yes with
// probability 0.3.
func MultiTruth(n, k int, seed uint64) []uint32 {
	r := rand.New(rand.NewPCG(seed, 0x6d756c7469))
	out := make([]uint32, n)
	for i := range out {
		for l := range k {
			if r.Float64() < 0.3 {
				out[i] |= 1 << l
			}
		}
	}
	return out
}

// Mark is worker w's label mask for an item whose true mask is t.
func (c *TypedCrowd) Mark(w int, t uint32, k int, target uint32, ok bool) uint32 {
	wk := &c.Workers[w]
	switch wk.Kind {
	case Honest:
		for l := range k {
			if c.r.Float64() < wk.Flip {
				t ^= 1 << l
			}
		}
		return t
	case Constant:
		return 1 // the first label, always
	case Copier:
		if ok {
			return target
		}
	}
	return uint32(c.r.IntN(1 << k))
}

// BoxImages draws n images of width x height with 1 to maxBoxes objects
// each, sides 8% to 30% of the image, classes uniform over classes.
func BoxImages(n int, width, height int64, classes, maxBoxes int, seed uint64) [][]truth.Box {
	r := rand.New(rand.NewPCG(seed, 0x626f78))
	out := make([][]truth.Box, n)
	for i := range out {
		for range 1 + r.IntN(maxBoxes) {
			w := int64(float64(width) * (0.08 + 0.22*r.Float64()))
			h := int64(float64(height) * (0.08 + 0.22*r.Float64()))
			out[i] = append(out[i], truth.Box{X: r.Int64N(width - w), Y: r.Int64N(height - h), W: w, H: h, Class: r.IntN(classes)})
		}
	}
	return out
}

// Draw is worker w's boxes for an image of width x height whose objects
// are t; target is the copier's target's boxes where it has them.
func (c *TypedCrowd) Draw(w int, t []truth.Box, width, height int64, classes int, target []truth.Box, ok bool) []truth.Box {
	wk := &c.Workers[w]
	r := c.r
	clamp := func(b truth.Box) truth.Box {
		b.X, b.Y = min(max(b.X, 0), width-1), min(max(b.Y, 0), height-1)
		b.W, b.H = min(max(b.W, 1), width-b.X), min(max(b.H, 1), height-b.Y)
		return b
	}
	jitter := func(b truth.Box, s float64) truth.Box {
		x1 := float64(b.X) + s*float64(b.W)*r.NormFloat64()
		y1 := float64(b.Y) + s*float64(b.H)*r.NormFloat64()
		x2 := float64(b.X+b.W) + s*float64(b.W)*r.NormFloat64()
		y2 := float64(b.Y+b.H) + s*float64(b.H)*r.NormFloat64()
		return clamp(truth.Box{X: int64(math.Round(x1)), Y: int64(math.Round(y1)), W: int64(math.Round(x2 - x1)), H: int64(math.Round(y2 - y1)), Class: b.Class})
	}
	switch wk.Kind {
	case Honest:
		var out []truth.Box
		for _, b := range t {
			if r.Float64() < wk.Miss {
				continue
			}
			nb := jitter(b, wk.Jitter)
			if r.Float64() < wk.Flip/2 {
				nb.Class = r.IntN(classes)
			}
			out = append(out, nb)
		}
		return out
	case Lazy:
		big := 0
		for k, b := range t {
			if b.W*b.H > t[big].W*t[big].H {
				big = k
			}
		}
		return []truth.Box{jitter(t[big], 0.03)}
	case Constant:
		return []truth.Box{clamp(truth.Box{X: width / 4, Y: height / 4, W: width / 2, H: height / 2})}
	case Copier:
		if ok {
			return target
		}
	}
	var out []truth.Box // spammers: random boxes
	for range 1 + r.IntN(3) {
		w, h := width/10+r.Int64N(width/4), height/10+r.Int64N(height/4)
		out = append(out, truth.Box{X: r.Int64N(width - w), Y: r.Int64N(height - h), W: w, H: h, Class: r.IntN(classes)})
	}
	return out
}

// assignments gives each item perItem distinct workers at random, copiers
// after their target where both were drawn.
func (c *TypedCrowd) assignments(items, perItem int, r *rand.Rand) ([][]int, error) {
	n := len(c.Workers)
	if perItem < 1 || perItem > n {
		return nil, fmt.Errorf("workforce: %d answers per item from %d workers", perItem, n)
	}
	out := make([][]int, items)
	for i := range out {
		p := r.Perm(n)[:perItem]
		// Copiers last, so their target may already have answered.
		var first, last []int
		for _, w := range p {
			if c.Workers[w].Kind == Copier {
				last = append(last, w)
			} else {
				first = append(first, w)
			}
		}
		out[i] = append(first, last...)
	}
	return out, nil
}

// AnswerRatings has perItem workers rate each item.
func (c *TypedCrowd) AnswerRatings(t []int64, lo, hi int64, perItem int, seed uint64) (*truth.Ratings, error) {
	as, err := c.assignments(len(t), perItem, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return nil, err
	}
	out := &truth.Ratings{Items: len(t), Workers: len(c.Workers), Min: lo, Max: hi}
	for i, ws := range as {
		given := map[int]int64{}
		for _, w := range ws {
			tv, ok := given[c.Workers[w].Target]
			v := c.Rate(w, t[i], lo, hi, tv, ok && c.Workers[w].Kind == Copier)
			given[w] = v
			out.List = append(out.List, truth.Rating{Item: i, Worker: w, Value: v})
		}
	}
	return out, nil
}

// AnswerBoxes has perItem workers draw on each image.
func (c *TypedCrowd) AnswerBoxes(t [][]truth.Box, width, height int64, classes, perItem int, seed uint64) (*truth.BoxAnswers, error) {
	as, err := c.assignments(len(t), perItem, rand.New(rand.NewPCG(seed, 2)))
	if err != nil {
		return nil, err
	}
	out := &truth.BoxAnswers{Items: len(t), Workers: len(c.Workers), Classes: classes}
	for i, ws := range as {
		given := map[int][]truth.Box{}
		for _, w := range ws {
			tb, ok := given[c.Workers[w].Target]
			b := c.Draw(w, t[i], width, height, classes, tb, ok && c.Workers[w].Kind == Copier)
			given[w] = b
			out.List = append(out.List, truth.BoxAnswer{Item: i, Worker: w, Boxes: b})
		}
	}
	return out, nil
}

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
