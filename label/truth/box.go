package truth

import (
	"cmp"
	"fmt"
	"slices"
)

// Bounding boxes. A box is in integer pixels, X and Y its top-left corner,
// with a class. Matching is greedy by IoU, highest first, ties broken by
// index, so every node pairs the same boxes.

// Box is an axis-aligned box with a class.
type Box struct {
	X, Y, W, H int64
	Class      int
}

func (b Box) area() uint64 { return uint64(b.W) * uint64(b.H) }

// MaxBoxCoord bounds coordinates so areas and weighted sums fit in 64 bits.
const MaxBoxCoord = 1 << 16

// MaxBoxesPerAnswer bounds the boxes of one answer.
const MaxBoxesPerAnswer = 64

// MatchIoU is the IoU at which two boxes are the same object: matching
// across workers, against gold, and precision and recall at 0.5.
const MatchIoU = One / 2

// IoU is the intersection over union of two boxes in [0, One].
func IoU(a, b Box) Prob {
	x1, y1 := max(a.X, b.X), max(a.Y, b.Y)
	x2, y2 := min(a.X+a.W, b.X+b.W), min(a.Y+a.H, b.Y+b.H)
	if x2 <= x1 || y2 <= y1 {
		return 0
	}
	inter := uint64(x2-x1) * uint64(y2-y1)
	return Ratio(inter, a.area()+b.area()-inter)
}

// Pair is a matched pair of boxes: indexes into the two lists, and their IoU.
type Pair struct {
	A, B int
	IoU  Prob
}

// MatchBoxes pairs boxes of a with boxes of b one to one, greedily by IoU
// (highest first; ties by index), keeping pairs with IoU >= min; with
// sameClass only boxes of the same class pair. O(len(a) x len(b) log).
func MatchBoxes(a, b []Box, minIoU Prob, sameClass bool) []Pair {
	var cand []Pair
	for i, x := range a {
		for j, y := range b {
			if sameClass && x.Class != y.Class {
				continue
			}
			if v := IoU(x, y); v >= minIoU && v > 0 {
				cand = append(cand, Pair{A: i, B: j, IoU: v})
			}
		}
	}
	slices.SortFunc(cand, func(p, q Pair) int {
		if c := cmp.Compare(q.IoU, p.IoU); c != 0 {
			return c
		}
		if c := cmp.Compare(p.A, q.A); c != 0 {
			return c
		}
		return cmp.Compare(p.B, q.B)
	})
	usedA, usedB := make([]bool, len(a)), make([]bool, len(b))
	var out []Pair
	for _, p := range cand {
		if !usedA[p.A] && !usedB[p.B] {
			usedA[p.A], usedB[p.B] = true, true
			out = append(out, p)
		}
	}
	return out
}

// BoxQuality scores boxes against reference boxes in [0, One]: the IoU
// summed over pairs of the same class matched at MatchIoU, divided by the
// larger of the two counts, so it is mean IoU times recall when the boxes
// are too few and times precision when they are too many. Both empty: One.
func BoxQuality(boxes, ref []Box) Prob {
	n := max(len(boxes), len(ref))
	if n == 0 {
		return One
	}
	var sum uint64
	for _, p := range MatchBoxes(boxes, ref, MatchIoU, true) {
		sum += uint64(p.IoU)
	}
	return Prob(sum / uint64(n))
}

// BoxAnswer is one worker's boxes for one item (possibly none).
type BoxAnswer struct {
	Item, Worker int
	Boxes        []Box
}

// BoxAnswers is the input to FuseBoxes and BoxEM.
type BoxAnswers struct {
	Items, Workers, Classes int
	List                    []BoxAnswer
}

// Validate checks sizes, coordinates and classes.
func (a *BoxAnswers) Validate() error {
	if a == nil {
		return fmt.Errorf("truth: nil box answers")
	}
	if a.Items < 0 || a.Workers < 0 || a.Classes < 1 || a.Classes > MaxClasses {
		return fmt.Errorf("truth: box answers of %d items, %d workers, %d classes", a.Items, a.Workers, a.Classes)
	}
	for n, x := range a.List {
		if x.Item < 0 || x.Item >= a.Items || x.Worker < 0 || x.Worker >= a.Workers {
			return fmt.Errorf("truth: box answer %d (item %d, worker %d) out of range", n, x.Item, x.Worker)
		}
		if len(x.Boxes) > MaxBoxesPerAnswer {
			return fmt.Errorf("truth: box answer %d has %d boxes, at most %d", n, len(x.Boxes), MaxBoxesPerAnswer)
		}
		for k, b := range x.Boxes {
			if err := checkBox(b, a.Classes); err != nil {
				return fmt.Errorf("truth: box answer %d box %d: %w", n, k, err)
			}
		}
	}
	return nil
}

func checkBox(b Box, classes int) error {
	if b.X < 0 || b.Y < 0 || b.W < 1 || b.H < 1 || b.X+b.W > MaxBoxCoord || b.Y+b.H > MaxBoxCoord {
		return fmt.Errorf("box (%d,%d %dx%d) outside 0..%d", b.X, b.Y, b.W, b.H, MaxBoxCoord)
	}
	if b.Class < 0 || b.Class >= classes {
		return fmt.Errorf("box class %d, want 0..%d", b.Class, classes-1)
	}
	return nil
}

// BoxOptions: Gold holds reference boxes per item where HasGold is set
// (both nil: no gold). Gold items keep their boxes.
type BoxOptions struct {
	Gold    [][]Box
	HasGold []bool
}

func (o *BoxOptions) gold(i int) bool { return o.HasGold != nil && o.HasGold[i] }

// BoxItem is the verdict on one item.
type BoxItem struct {
	Boxes []Box
	Votes int // answers to the item
	Gold  bool
}

// BoxWorker is what the fusion learned about one worker. Quality is the
// mean BoxQuality of its answers against the gold (gold items) and against
// the boxes fused from the other workers (other items), each counted by its
// answers. MeanIoU and Recall are over the reference boxes it was compared
// with (matched at MatchIoU, same class).
type BoxWorker struct {
	Answers, GoldAnswers int
	Quality, GoldQuality Prob
	MeanIoU, Recall      Prob
	Single               bool // at most one box in every answer, with at least 3 answers
	Constant             bool // the same boxes in every answer (at least 3)
}

// BoxResult is the output of FuseBoxes and BoxEM.
type BoxResult struct {
	Method  string
	Items   []BoxItem
	Workers []BoxWorker
}

func (a *BoxAnswers) byItem() (start, idx []int) {
	start = make([]int, a.Items+1)
	for _, x := range a.List {
		start[x.Item+1]++
	}
	for i := range a.Items {
		start[i+1] += start[i]
	}
	idx = make([]int, len(a.List))
	fill := slices.Clone(start[:a.Items])
	for n, x := range a.List {
		idx[fill[x.Item]] = n
		fill[x.Item]++
	}
	return start, idx
}

// boxWeightFloor keeps every worker's weight positive.
const boxWeightFloor = One / 64

// fuseItem fuses the answers list[idx...] of one item, weighting worker w
// by weight[w]. Answers are taken by weight, highest first (ties by
// worker); each answer's boxes are matched at MatchIoU to the clusters so
// far (by their first box) without reusing a cluster the worker already
// joined; unmatched boxes open clusters. A cluster is kept when the weight
// of its members is more than half the weight of the item's answers; its
// box is the weighted mean of the members' corners and its class the
// heaviest class (lowest on a tie). skip (-1: none) is left out.
func fuseItem(list []BoxAnswer, idx []int, weight []Prob, skip, classes int) []Box {
	order := make([]int, 0, len(idx))
	var total uint64
	for _, n := range idx {
		if list[n].Worker == skip {
			continue
		}
		order = append(order, n)
		total += uint64(weight[list[n].Worker])
	}
	if len(order) == 0 {
		return nil
	}
	slices.SortFunc(order, func(p, q int) int {
		wp, wq := weight[list[p].Worker], weight[list[q].Worker]
		if c := cmp.Compare(wq, wp); c != 0 {
			return c
		}
		return cmp.Compare(list[p].Worker, list[q].Worker)
	})
	type member struct {
		b Box
		w uint64
	}
	var reps []Box
	var clusters [][]member
	for _, n := range order {
		x := list[n]
		w := uint64(weight[x.Worker])
		matched := make([]bool, len(x.Boxes))
		for _, p := range MatchBoxes(x.Boxes, reps, MatchIoU, false) {
			clusters[p.B] = append(clusters[p.B], member{x.Boxes[p.A], w})
			matched[p.A] = true
		}
		for k, b := range x.Boxes {
			if !matched[k] {
				reps = append(reps, b)
				clusters = append(clusters, []member{{b, w}})
			}
		}
	}
	var out []Box
	cw := make([]uint64, classes)
	for _, c := range clusters {
		var sw uint64
		for _, m := range c {
			sw += m.w
		}
		if 2*sw <= total {
			continue
		}
		// Weights are Q32 (at most 2^32), coordinates at most 2^16, members
		// at most the item's answers: the sums fit in 64 bits.
		var x1, y1, x2, y2 uint64
		clear(cw)
		for _, m := range c {
			x1 += m.w * uint64(m.b.X)
			y1 += m.w * uint64(m.b.Y)
			x2 += m.w * uint64(m.b.X+m.b.W)
			y2 += m.w * uint64(m.b.Y+m.b.H)
			cw[m.b.Class] += m.w
		}
		r := func(s uint64) int64 { return int64((s + sw/2) / sw) }
		b := Box{X: r(x1), Y: r(y1)}
		b.W, b.H = max(r(x2)-b.X, 1), max(r(y2)-b.Y, 1)
		for k := range cw {
			if cw[k] > cw[b.Class] {
				b.Class = k
			}
		}
		out = append(out, b)
	}
	return out
}

// FuseBoxes fuses each item's answers with the given worker weights (nil:
// equal) and scores every worker against the others' fused boxes and the
// gold.
func FuseBoxes(a *BoxAnswers, weights []Prob, opt BoxOptions) (*BoxResult, error) {
	if err := a.check(&opt); err != nil {
		return nil, err
	}
	if weights != nil && len(weights) != a.Workers {
		return nil, fmt.Errorf("truth: %d weights for %d workers", len(weights), a.Workers)
	}
	w := make([]Prob, a.Workers)
	for n := range w {
		w[n] = One
		if weights != nil {
			w[n] = max(min(weights[n], One), boxWeightFloor)
		}
	}
	method := "fuse"
	if weights != nil {
		method = "weighted-fuse"
	}
	return a.fuse(method, w, &opt), nil
}

func (a *BoxAnswers) check(opt *BoxOptions) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if opt.Gold == nil && opt.HasGold == nil {
		return nil
	}
	if len(opt.Gold) != a.Items || len(opt.HasGold) != a.Items {
		return fmt.Errorf("truth: box gold has %d entries and %d flags, want one per item (%d)", len(opt.Gold), len(opt.HasGold), a.Items)
	}
	for i, g := range opt.Gold {
		if !opt.HasGold[i] {
			continue
		}
		if len(g) > MaxBoxesPerAnswer {
			return fmt.Errorf("truth: gold of item %d has %d boxes, at most %d", i, len(g), MaxBoxesPerAnswer)
		}
		for _, b := range g {
			if err := checkBox(b, a.Classes); err != nil {
				return fmt.Errorf("truth: gold of item %d: %w", i, err)
			}
		}
	}
	return nil
}

// fuse is FuseBoxes after the checks: one pass over all the items.
func (a *BoxAnswers) fuse(method string, w []Prob, opt *BoxOptions) *BoxResult {
	p := &BoxPass{Weights: w}
	p.init(a.Workers)
	start, idx := a.byItem()
	items := make([]BoxItem, a.Items)
	for i := range items {
		items[i] = p.item(a, start, idx, i, opt)
	}
	p.Next = a.Items
	res := p.result(method)
	res.Items = items
	return res
}

// BoxPass is a fuse pass over a job's items stopped between items, so
// that a long fusion can be spread over many calls (the chain fuses a
// bounded amount per block): the weights of the pass, the next item and
// each worker's sums so far. A pass split over calls gives exactly the
// bits of one fuse.
type BoxPass struct {
	Weights     []Prob   `cbor:"1,keyasint"`
	Next        int      `cbor:"2,keyasint"`
	QSum        []uint64 `cbor:"3,keyasint"`
	GSum        []uint64 `cbor:"4,keyasint"`
	IoUSum      []uint64 `cbor:"5,keyasint"`
	Matched     []uint64 `cbor:"6,keyasint"`
	Refs        []uint64 `cbor:"7,keyasint"`
	Answers     []uint64 `cbor:"8,keyasint"`
	GoldAnswers []uint64 `cbor:"9,keyasint"`
	First       [][]Box  `cbor:"10,keyasint"`
	NotConstant []bool   `cbor:"11,keyasint"`
	NotSingle   []bool   `cbor:"12,keyasint"`
}

// NewBoxPass starts a fuse pass with the given worker weights: nil for
// equal weights (FuseBoxes with nil, BoxEM's first round), else clamped
// as FuseBoxes clamps them (BoxEM's later rounds pass the qualities).
func NewBoxPass(workers int, weights []Prob) (*BoxPass, error) {
	if weights != nil && len(weights) != workers {
		return nil, fmt.Errorf("truth: %d weights for %d workers", len(weights), workers)
	}
	p := &BoxPass{Weights: make([]Prob, workers)}
	for n := range p.Weights {
		p.Weights[n] = One
		if weights != nil {
			p.Weights[n] = max(min(weights[n], One), boxWeightFloor)
		}
	}
	p.init(workers)
	return p, nil
}

func (p *BoxPass) init(workers int) {
	p.QSum, p.GSum, p.IoUSum = make([]uint64, workers), make([]uint64, workers), make([]uint64, workers)
	p.Matched, p.Refs, p.Answers, p.GoldAnswers = make([]uint64, workers), make([]uint64, workers), make([]uint64, workers), make([]uint64, workers)
	p.First, p.NotConstant, p.NotSingle = make([][]Box, workers), make([]bool, workers), make([]bool, workers)
}

func (p *BoxPass) fits(a *BoxAnswers) error {
	n := a.Workers
	if len(p.Weights) != n || len(p.QSum) != n || len(p.GSum) != n || len(p.IoUSum) != n || len(p.Matched) != n || len(p.Refs) != n ||
		len(p.Answers) != n || len(p.GoldAnswers) != n || len(p.First) != n || len(p.NotConstant) != n || len(p.NotSingle) != n {
		return fmt.Errorf("truth: box pass does not fit %d workers", n)
	}
	if p.Next < 0 || p.Next > a.Items {
		return fmt.Errorf("truth: box pass at item %d of %d", p.Next, a.Items)
	}
	return nil
}

// Done reports that the pass has fused every item.
func (p *BoxPass) Done(a *BoxAnswers) bool { return p.Next >= a.Items }

// BoxItemWork is the work of fusing one item of votes answers drawing
// boxes boxes in all: a fusion of the item and one leave-one-out fusion
// per answer, each matching every box.
func BoxItemWork(votes, boxes int) int { return (votes + 1) * (boxes + 1) }

// Step fuses items from p.Next on until budget work units (BoxItemWork)
// are spent or maxItems items fused, at least one item, and returns their
// verdicts (items p.Next-len(out) to p.Next-1) and the work done.
func (p *BoxPass) Step(a *BoxAnswers, opt BoxOptions, budget, maxItems int) ([]BoxItem, int, error) {
	if err := a.check(&opt); err != nil {
		return nil, 0, err
	}
	if err := p.fits(a); err != nil {
		return nil, 0, err
	}
	start, idx := a.byItem()
	var out []BoxItem
	work := 0
	for p.Next < a.Items {
		ids := idx[start[p.Next]:start[p.Next+1]]
		boxes := 0
		for _, n := range ids {
			boxes += len(a.List[n].Boxes)
		}
		cost := BoxItemWork(len(ids), boxes)
		if len(out) > 0 && (work+cost > budget || len(out) >= maxItems) {
			break
		}
		work += cost
		out = append(out, p.item(a, start, idx, p.Next, &opt))
		p.Next++
	}
	return out, work, nil
}

// Result is what the pass learned about each worker (Items nil: Step
// returned them); the pass must be done.
func (p *BoxPass) Result(a *BoxAnswers, method string) (*BoxResult, error) {
	if err := p.fits(a); err != nil {
		return nil, err
	}
	if !p.Done(a) {
		return nil, fmt.Errorf("truth: box pass at item %d of %d is not done", p.Next, a.Items)
	}
	return p.result(method), nil
}

// item fuses item i and adds its answers to the workers' sums.
func (p *BoxPass) item(a *BoxAnswers, start, idx []int, i int, opt *BoxOptions) BoxItem {
	w := p.Weights
	ids := idx[start[i]:start[i+1]]
	it := BoxItem{Votes: len(ids), Gold: opt.gold(i)}
	if it.Gold {
		it.Boxes = slices.Clone(opt.Gold[i])
	} else {
		it.Boxes = fuseItem(a.List, ids, w, -1, a.Classes)
	}
	for _, n := range ids {
		x := a.List[n]
		k := x.Worker
		ref := it.Boxes
		if !it.Gold {
			if len(ids) < 2 {
				continue // nothing to check it against
			}
			ref = fuseItem(a.List, ids, w, x.Worker, a.Classes)
		}
		if p.Answers[k] == 0 {
			p.First[k] = slices.Clone(x.Boxes)
		} else if !slices.Equal(p.First[k], x.Boxes) {
			p.NotConstant[k] = true
		}
		if len(x.Boxes) > 1 {
			p.NotSingle[k] = true
		}
		p.Answers[k]++
		q := BoxQuality(x.Boxes, ref)
		p.QSum[k] += uint64(q)
		if it.Gold {
			p.GoldAnswers[k]++
			p.GSum[k] += uint64(q)
		}
		for _, m := range MatchBoxes(x.Boxes, ref, MatchIoU, true) {
			p.IoUSum[k] += uint64(m.IoU)
			p.Matched[k]++
		}
		p.Refs[k] += uint64(len(ref))
	}
	return it
}

// result turns the workers' sums into their figures.
func (p *BoxPass) result(method string) *BoxResult {
	res := &BoxResult{Method: method, Workers: make([]BoxWorker, len(p.Weights))}
	for n := range res.Workers {
		wr := &res.Workers[n]
		if p.Answers[n] == 0 {
			continue
		}
		wr.Answers, wr.GoldAnswers = int(p.Answers[n]), int(p.GoldAnswers[n])
		wr.Constant, wr.Single = !p.NotConstant[n], !p.NotSingle[n]
		if wr.Answers < 3 {
			wr.Constant, wr.Single = false, false
		}
		wr.Quality = Prob(p.QSum[n] / p.Answers[n])
		if wr.GoldAnswers > 0 {
			wr.GoldQuality = Prob(p.GSum[n] / p.GoldAnswers[n])
		}
		if p.Matched[n] > 0 {
			wr.MeanIoU = Prob(p.IoUSum[n] / p.Matched[n])
		}
		if p.Refs[n] > 0 {
			wr.Recall = Ratio(p.Matched[n], p.Refs[n])
		} else {
			wr.Recall = One
		}
	}
	return res
}

// BoxEM fuses with equal weights, then again with each worker weighted by
// the quality the first pass gave it, for rounds rounds in all (default 3):
// workers who draw boxes nobody else draws, or too few, lose their say.
func BoxEM(a *BoxAnswers, rounds int, opt BoxOptions) (*BoxResult, error) {
	if err := a.check(&opt); err != nil {
		return nil, err
	}
	if rounds < 1 {
		rounds = 3
	}
	w := make([]Prob, a.Workers)
	for n := range w {
		w[n] = One
	}
	var res *BoxResult
	for range rounds {
		res = a.fuse("em", w, &opt)
		for n := range w {
			w[n] = max(res.Workers[n].Quality, boxWeightFloor)
		}
	}
	return res, nil
}

// BoxScore is fused boxes against true boxes: MeanIoU over the true boxes
// (each its best match's IoU, same class, 0 when unmatched) and, per
// class, the true positives, false positives and false negatives at
// MatchIoU.
type BoxScore struct {
	Items, TrueBoxes int
	MeanIoU          Prob
	TP, FP, FN       []int
}

// EvaluateBoxes scores predicted boxes against the truth, item by item,
// where has is set.
func EvaluateBoxes(pred, truth [][]Box, has []bool, classes int) BoxScore {
	s := BoxScore{TP: make([]int, classes), FP: make([]int, classes), FN: make([]int, classes)}
	var iou uint64
	for i := range truth {
		if !has[i] || i >= len(pred) {
			continue
		}
		s.Items++
		s.TrueBoxes += len(truth[i])
		for _, p := range MatchBoxes(pred[i], truth[i], 1, true) {
			iou += uint64(p.IoU)
		}
		hit := MatchBoxes(pred[i], truth[i], MatchIoU, true)
		usedP, usedT := make([]bool, len(pred[i])), make([]bool, len(truth[i]))
		for _, p := range hit {
			usedP[p.A], usedT[p.B] = true, true
			s.TP[truth[i][p.B].Class]++
		}
		for k, b := range pred[i] {
			if !usedP[k] && b.Class < classes {
				s.FP[b.Class]++
			}
		}
		for k, b := range truth[i] {
			if !usedT[k] {
				s.FN[b.Class]++
			}
		}
	}
	if s.TrueBoxes > 0 {
		s.MeanIoU = Prob(iou / uint64(s.TrueBoxes))
	}
	return s
}
