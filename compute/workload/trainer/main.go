// Command trainer is the reference workload of Tenun's compute market: it
// trains a small multilayer perceptron (64 inputs, one ReLU hidden layer,
// softmax over 10 classes) on the 8x8 handwritten digits data set and writes
// the model and its metrics as JSON.
//
// It is built for GOOS=wasip1 GOARCH=wasm and run in the sandbox, and natively
// as the benchmark baseline. Both must write the same bytes, on every run and
// on every provider, so the program follows a few rules:
//
//   - no goroutines, no clock, no map iteration, no math/rand (own splitmix64);
//   - every a*b+c is written float64(a*b)+c: the explicit conversion forbids
//     the compiler from fusing it into an FMA, which arm64, ppc64, s390x and
//     GOAMD64=v3 would otherwise do, changing the last bits;
//   - exp and log are implemented here in plain Go, because package math uses
//     assembly for them on some architectures (amd64 Exp and Log), and that
//     may round differently from the pure-Go code the wasm build uses.
//
// Usage (inside the sandbox the defaults point at /in and /out):
//
//	trainer -data /in/digits.csv.gz -out /out [-epochs 30] [-quick]
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

const (
	numInputs  = 64 // 8x8 pixels
	numClasses = 10
	pixelMax   = 16 // pixel values are 0..16

	// quickEpochs is what -quick trains for: enough to exercise every code
	// path in tests while staying well under a second natively.
	quickEpochs = 2
)

type config struct {
	dataPath string
	outDir   string
	epochs   int
	hidden   int
	batch    int
	lr       float64
	seed     uint64
	holdout  int // percent of samples kept aside for the test metrics
}

func main() {
	var cfg config
	var quick bool
	flag.StringVar(&cfg.dataPath, "data", "/in/digits.csv.gz", "labelled data set: CSV rows of 64 pixels then the class, optionally gzip-compressed")
	flag.StringVar(&cfg.outDir, "out", "/out", "directory to write model.json and metrics.json into")
	flag.IntVar(&cfg.epochs, "epochs", 30, "passes over the training set")
	flag.IntVar(&cfg.hidden, "hidden", 64, "hidden units")
	flag.IntVar(&cfg.batch, "batch", 16, "mini-batch size")
	flag.Float64Var(&cfg.lr, "lr", 0.1, "learning rate")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed for the split, the initial weights and the shuffles")
	flag.IntVar(&cfg.holdout, "holdout", 20, "percent of the samples held out for testing")
	flag.BoolVar(&quick, "quick", false, fmt.Sprintf("train for %d epochs only (tests, smoke runs)", quickEpochs))
	flag.Parse()
	if quick {
		cfg.epochs = quickEpochs
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "trainer:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if cfg.epochs < 0 || cfg.hidden < 1 || cfg.batch < 1 || cfg.holdout < 0 || cfg.holdout >= 100 || !(cfg.lr > 0) {
		return errors.New("invalid hyperparameters: need epochs>=0, hidden>=1, batch>=1, 0<=holdout<100, lr>0")
	}
	ds, err := loadDataset(cfg.dataPath)
	if err != nil {
		return err
	}

	rng := splitmix64(cfg.seed)
	order := rng.perm(len(ds.labels))
	nTest := len(order) * cfg.holdout / 100
	test, train := order[:nTest], order[nTest:]
	if len(train) == 0 {
		return errors.New("no training samples left after the holdout")
	}

	m := newModel(cfg.hidden, &rng)
	s := newScratch(cfg.hidden)
	epochLoss := make([]float64, 0, cfg.epochs)
	for range cfg.epochs {
		rng.shuffle(train)
		epochLoss = append(epochLoss, m.trainEpoch(ds, train, cfg.batch, cfg.lr, s))
	}

	trainEval := m.evaluate(ds, train, s)
	testEval := m.evaluate(ds, test, s)

	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.outDir, "model.json"), m.json(), 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	metrics := metricsJSON(cfg, len(ds.labels), len(train), len(test), epochLoss, trainEval, testEval)
	if err := os.WriteFile(filepath.Join(cfg.outDir, "metrics.json"), metrics, 0o644); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	fmt.Printf("trained %d epochs on %d samples: train accuracy %.4f, test accuracy %.4f\n",
		cfg.epochs, len(train), trainEval.accuracy(), testEval.accuracy())
	return nil
}

// dataset holds the pixels already scaled to [0,1], one row of numInputs per sample.
type dataset struct {
	x      []float64
	labels []int
}

func (d *dataset) row(i int) []float64 { return d.x[i*numInputs : (i+1)*numInputs : (i+1)*numInputs] }

func loadDataset(path string) (*dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read data set: %w", err)
	}
	var r io.Reader = bytes.NewReader(raw)
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b { // gzip magic, whatever the file name says
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("open gzip data set: %w", err)
		}
		r = zr
	}
	ds := &dataset{}
	sc := bufio.NewScanner(r)
	var fields [numInputs + 1]int
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if err := parseRow(text, fields[:]); err != nil {
			if line == 1 && len(ds.labels) == 0 {
				continue // tolerate a header line
			}
			return nil, fmt.Errorf("data set line %d: %w", line, err)
		}
		for _, v := range fields[:numInputs] {
			if v < 0 || v > pixelMax {
				return nil, fmt.Errorf("data set line %d: pixel %d outside 0..%d", line, v, pixelMax)
			}
			ds.x = append(ds.x, float64(v)/pixelMax)
		}
		label := fields[numInputs]
		if label < 0 || label >= numClasses {
			return nil, fmt.Errorf("data set line %d: class %d outside 0..%d", line, label, numClasses-1)
		}
		ds.labels = append(ds.labels, label)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read data set: %w", err)
	}
	if len(ds.labels) == 0 {
		return nil, errors.New("data set is empty")
	}
	return ds, nil
}

func parseRow(text []byte, out []int) error {
	for i := range out {
		end := bytes.IndexByte(text, ',')
		if i == len(out)-1 {
			if end >= 0 {
				return fmt.Errorf("more than %d fields", len(out))
			}
			end = len(text)
		} else if end < 0 {
			return fmt.Errorf("want %d fields, got %d", len(out), i+1)
		}
		v, err := strconv.Atoi(string(bytes.TrimSpace(text[:end])))
		if err != nil {
			return fmt.Errorf("field %d: %w", i+1, err)
		}
		out[i] = v
		if end < len(text) {
			text = text[end+1:]
		}
	}
	return nil
}

// model is the MLP: w1 is hidden x numInputs, w2 is numClasses x hidden, row-major.
type model struct {
	hidden int
	w1, b1 []float64
	w2, b2 []float64
}

func newModel(hidden int, rng *splitmix64) *model {
	m := &model{
		hidden: hidden,
		w1:     make([]float64, hidden*numInputs),
		b1:     make([]float64, hidden),
		w2:     make([]float64, numClasses*hidden),
		b2:     make([]float64, numClasses),
	}
	// He-uniform for the ReLU layer, Glorot-uniform for the softmax layer.
	// math.Sqrt is exactly rounded by IEEE 754, so it is safe here.
	lim1 := math.Sqrt(6.0 / numInputs)
	for i := range m.w1 {
		m.w1[i] = (float64(2*rng.float()) - 1) * lim1
	}
	lim2 := math.Sqrt(6.0 / float64(hidden+numClasses))
	for i := range m.w2 {
		m.w2[i] = (float64(2*rng.float()) - 1) * lim2
	}
	return m
}

// scratch holds the per-sample activations and the batch gradients, allocated
// once so training does not touch the allocator (and so the GC stays idle).
type scratch struct {
	h, p, dh           []float64
	gw1, gb1, gw2, gb2 []float64
}

func newScratch(hidden int) *scratch {
	return &scratch{
		h: make([]float64, hidden), p: make([]float64, numClasses), dh: make([]float64, hidden),
		gw1: make([]float64, hidden*numInputs), gb1: make([]float64, hidden),
		gw2: make([]float64, numClasses*hidden), gb2: make([]float64, numClasses),
	}
}

// forward fills s.h and s.p for input x and returns the loss for label.
func (m *model) forward(x []float64, label int, s *scratch) float64 {
	xa := (*[numInputs]float64)(x)
	for j := range m.hidden {
		w := (*[numInputs]float64)(m.w1[j*numInputs:])
		s.h[j] = max(dot(w[:], xa[:])+m.b1[j], 0) // ReLU
	}
	h := s.h[:m.hidden]
	maxZ := math.Inf(-1)
	for k := range numClasses {
		z := dot(m.w2[k*m.hidden:(k+1)*m.hidden], h) + m.b2[k]
		s.p[k] = z
		maxZ = max(maxZ, z)
	}
	sum := 0.0
	for k := range numClasses {
		e := exp(s.p[k] - maxZ) // shifted so exp never overflows
		s.p[k] = e
		sum += e
	}
	for k := range numClasses {
		s.p[k] /= sum
	}
	return -log(max(s.p[label], 1e-300))
}

// The kernels below do eight elements per step through *[8]float64, so the
// compiler checks bounds once per step instead of per element, and, in the
// wasm build, where each basic block is a separate dispatch, a step is one
// block instead of eight. They are where nearly all the time goes.

// dot returns the sum of a[i]*b[i]; len(b) must be at least len(a).
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	sum := 0.0
	i := 0
	for ; i+8 <= len(a); i += 8 {
		a8, b8 := (*[8]float64)(a[i:]), (*[8]float64)(b[i:])
		sum += float64(a8[0]*b8[0]) + float64(a8[1]*b8[1]) + float64(a8[2]*b8[2]) + float64(a8[3]*b8[3]) +
			float64(a8[4]*b8[4]) + float64(a8[5]*b8[5]) + float64(a8[6]*b8[6]) + float64(a8[7]*b8[7])
	}
	for ; i < len(a); i++ {
		sum += float64(a[i] * b[i])
	}
	return sum
}

// axpy adds alpha*x[i] to y[i]; len(x) must be at least len(y).
func axpy(alpha float64, x, y []float64) {
	x = x[:len(y)]
	i := 0
	for ; i+8 <= len(y); i += 8 {
		x8, y8 := (*[8]float64)(x[i:]), (*[8]float64)(y[i:])
		y8[0] += float64(alpha * x8[0])
		y8[1] += float64(alpha * x8[1])
		y8[2] += float64(alpha * x8[2])
		y8[3] += float64(alpha * x8[3])
		y8[4] += float64(alpha * x8[4])
		y8[5] += float64(alpha * x8[5])
		y8[6] += float64(alpha * x8[6])
		y8[7] += float64(alpha * x8[7])
	}
	for ; i < len(y); i++ {
		y[i] += float64(alpha * x[i])
	}
}

// trainEpoch runs mini-batch SGD over idx in order and returns the mean loss.
func (m *model) trainEpoch(ds *dataset, idx []int, batch int, lr float64, s *scratch) float64 {
	total := 0.0
	for start := 0; start < len(idx); start += batch {
		end := min(start+batch, len(idx))
		clear(s.gw1)
		clear(s.gb1)
		clear(s.gw2)
		clear(s.gb2)
		for _, n := range idx[start:end] {
			x, label := ds.row(n), ds.labels[n]
			total += m.forward(x, label, s)
			m.backward(x, label, s)
		}
		step := lr / float64(end-start)
		update(m.w1, s.gw1, step)
		update(m.b1, s.gb1, step)
		update(m.w2, s.gw2, step)
		update(m.b2, s.gb2, step)
	}
	return total / float64(len(idx))
}

// backward adds the gradient of the cross-entropy loss of the sample last
// passed to forward into the batch gradients.
func (m *model) backward(x []float64, label int, s *scratch) {
	h := s.h[:m.hidden]
	dh := s.dh[:m.hidden]
	clear(dh)
	for k := range numClasses {
		dz := s.p[k]
		if k == label {
			dz -= 1
		}
		s.gb2[k] += dz
		axpy(dz, h, s.gw2[k*m.hidden:(k+1)*m.hidden])
		axpy(dz, m.w2[k*m.hidden:(k+1)*m.hidden], dh)
	}
	for j, hj := range h {
		if hj <= 0 { // ReLU gradient
			continue
		}
		s.gb1[j] += dh[j]
		axpy(dh[j], x, s.gw1[j*numInputs:(j+1)*numInputs])
	}
}

// update takes one gradient step: w -= step*g.
func update(w, g []float64, step float64) { axpy(-step, g, w) }

type evaluation struct {
	n, correct int
	loss       float64
	confusion  [numClasses][numClasses]int // [true][predicted]
}

func (e evaluation) accuracy() float64 {
	if e.n == 0 {
		return 0
	}
	return float64(e.correct) / float64(e.n)
}

func (m *model) evaluate(ds *dataset, idx []int, s *scratch) evaluation {
	var e evaluation
	for _, n := range idx {
		label := ds.labels[n]
		e.loss += m.forward(ds.row(n), label, s)
		pred := 0
		for k := 1; k < numClasses; k++ {
			if s.p[k] > s.p[pred] {
				pred = k
			}
		}
		e.confusion[label][pred]++
		if pred == label {
			e.correct++
		}
		e.n++
	}
	if e.n > 0 {
		e.loss /= float64(e.n)
	}
	return e
}

// splitmix64 is a tiny, well-known PRNG with a fixed output sequence, so the
// split, the initial weights and the shuffles are the same everywhere.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1) with 53 random bits.
func (s *splitmix64) float() float64 { return float64(s.next()>>11) * 0x1p-53 }

// intn returns a value in [0, n) by rejection, avoiding modulo bias.
func (s *splitmix64) intn(n int) int {
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	for {
		if v := s.next(); v < limit {
			return int(v % uint64(n))
		}
	}
}

func (s *splitmix64) shuffle(a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := s.intn(i + 1)
		a[i], a[j] = a[j], a[i]
	}
}

func (s *splitmix64) perm(n int) []int {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	s.shuffle(a)
	return a
}

// exp is Go's pure-Go math.Exp (FreeBSD's e_exp.c) with every product rounded
// explicitly, so no build of this program can fuse or reorder it.
func exp(x float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)

		p1 = 1.66666666666666657415e-01  /* 0x3FC55555; 0x55555555 */
		p2 = -2.77777777770155933842e-03 /* 0xBF66C16C; 0x16BEBD93 */
		p3 = 6.61375632143793436117e-05  /* 0x3F11566A; 0xAF25DE2C */
		p4 = -1.65339022054652515390e-06 /* 0xBEBBBD41; 0xC5D26BF1 */
		p5 = 4.13813679705723846039e-08  /* 0x3E663769; 0x72BEA4D0 */
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case math.IsInf(x, -1):
		return 0
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(float64(log2e*x) - 0.5)
	case x > 0:
		k = int(float64(log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*ln2Hi)
	lo := float64(float64(k) * ln2Lo)
	r := hi - lo
	t := float64(r * r)
	poly := p4 + float64(t*p5)
	poly = p3 + float64(t*poly)
	poly = p2 + float64(t*poly)
	poly = p1 + float64(t*poly)
	c := r - float64(t*poly)
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	return math.Ldexp(y, k) // exact scaling by 2^k (pure Go on every 64-bit target but s390x, where it is exact too)
}

// log is Go's pure-Go math.Log (FreeBSD's e_log.c) with every product
// rounded explicitly; see exp.
func log(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 /* 3fe62e42 fee00000 */
		ln2Lo = 1.90821492927058770002e-10 /* 3dea39ef 35793c76 */
		l1    = 6.666666666666735130e-01   /* 3FE55555 55555593 */
		l2    = 3.999999999940941908e-01   /* 3FD99999 9997FA04 */
		l3    = 2.857142874366239149e-01   /* 3FD24924 94229359 */
		l4    = 2.222219843214978396e-01   /* 3FCC71C5 1D8E78AF */
		l5    = 1.818357216161805012e-01   /* 3FC74664 96CB03DE */
		l6    = 1.531383769920937332e-01   /* 3FC39A09 D078C69F */
		l7    = 1.479819860511658591e-01   /* 3FC2F112 DF3E5244 */
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := l5 + float64(s4*l7)
	t1 = l3 + float64(s4*t1)
	t1 = l1 + float64(s4*t1)
	t1 = float64(s2 * t1)
	t2 := l4 + float64(s4*l6)
	t2 = l2 + float64(s4*t2)
	t2 = float64(s4 * t2)
	r := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}

// jsonBuf writes the small, fixed-shape JSON documents by hand: field order is
// fixed and floats use strconv's shortest round-trip form, so bytes are stable.
type jsonBuf struct{ b []byte }

func (j *jsonBuf) raw(s string) { j.b = append(j.b, s...) }
func (j *jsonBuf) key(first bool, k string) {
	if !first {
		j.b = append(j.b, ',')
	}
	j.b = append(j.b, "\n  "...)
	j.b = strconv.AppendQuote(j.b, k)
	j.b = append(j.b, ": "...)
}
func (j *jsonBuf) float(v float64) { j.b = strconv.AppendFloat(j.b, v, 'g', -1, 64) }
func (j *jsonBuf) int(v int)       { j.b = strconv.AppendInt(j.b, int64(v), 10) }
func (j *jsonBuf) str(s string)    { j.b = strconv.AppendQuote(j.b, s) }
func (j *jsonBuf) floats(vs []float64) {
	j.b = append(j.b, '[')
	for i, v := range vs {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		j.float(v)
	}
	j.b = append(j.b, ']')
}

func (m *model) json() []byte {
	var j jsonBuf
	j.raw("{")
	j.key(true, "format")
	j.str("tenun-mlp/v1")
	j.key(false, "inputs")
	j.int(numInputs)
	j.key(false, "input_scale")
	j.float(1.0 / pixelMax)
	j.key(false, "hidden")
	j.int(m.hidden)
	j.key(false, "hidden_activation")
	j.str("relu")
	j.key(false, "classes")
	j.int(numClasses)
	j.key(false, "w1")
	j.floats(m.w1)
	j.key(false, "b1")
	j.floats(m.b1)
	j.key(false, "w2")
	j.floats(m.w2)
	j.key(false, "b2")
	j.floats(m.b2)
	j.raw("\n}\n")
	return j.b
}

func metricsJSON(cfg config, samples, nTrain, nTest int, epochLoss []float64, train, test evaluation) []byte {
	var j jsonBuf
	j.raw("{")
	j.key(true, "format")
	j.str("tenun-trainer-metrics/v1")
	j.key(false, "samples")
	j.int(samples)
	j.key(false, "train_samples")
	j.int(nTrain)
	j.key(false, "test_samples")
	j.int(nTest)
	j.key(false, "epochs")
	j.int(cfg.epochs)
	j.key(false, "hidden")
	j.int(cfg.hidden)
	j.key(false, "batch")
	j.int(cfg.batch)
	j.key(false, "learning_rate")
	j.float(cfg.lr)
	j.key(false, "seed")
	j.b = strconv.AppendUint(j.b, cfg.seed, 10)
	j.key(false, "epoch_loss")
	j.floats(epochLoss)
	j.key(false, "train_loss")
	j.float(train.loss)
	j.key(false, "train_accuracy")
	j.float(train.accuracy())
	j.key(false, "test_loss")
	j.float(test.loss)
	j.key(false, "test_accuracy")
	j.float(test.accuracy())
	j.key(false, "test_confusion")
	j.raw("[")
	for i, row := range test.confusion {
		if i > 0 {
			j.raw(",")
		}
		j.raw("[")
		for k, v := range row {
			if k > 0 {
				j.raw(",")
			}
			j.int(v)
		}
		j.raw("]")
	}
	j.raw("]")
	j.raw("\n}\n")
	return j.b
}
