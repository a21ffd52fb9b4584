// Command trainer is the reference workload of Tenun's compute market: it
// trains a small multilayer perceptron (64 inputs, one ReLU hidden layer,
// softmax over 10 classes) on the 8x8 handwritten digits data set and writes
// the model (float, zkML's float format), the model quantized for zkML, and
// its metrics as JSON.
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
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// trainKernels, set by kernels.go in builds with -tags tenunkernels, trains
// with the sandbox's tensor kernels instead of the pure-Go loops below.
var trainKernels func(m *model, ds *dataset, train, test []int, cfg config, rng *splitmix64) (epochLoss []float64, trainEval, testEval evaluation)

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

	m := newModel(cfg.hidden, &ds.perm, &rng)
	var epochLoss []float64
	var trainEval, testEval evaluation
	if trainKernels != nil {
		epochLoss, trainEval, testEval = trainKernels(m, ds, train, test, cfg, &rng)
	} else {
		b := newBatch(min(cfg.batch, len(train)), m.stride)
		epochLoss = make([]float64, 0, cfg.epochs)
		for range cfg.epochs {
			rng.shuffle(train)
			epochLoss = append(epochLoss, m.trainEpoch(ds, train, cfg.batch, cfg.lr, b))
		}
		trainEval = m.evaluate(ds, train, b)
		testEval = m.evaluate(ds, test, b)
	}

	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.outDir, "model.json"), m.json(), 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.outDir, "quantized.json"), m.quantize(ds, train).json(), 0o644); err != nil {
		return fmt.Errorf("write quantized model: %w", err)
	}
	metrics := metricsJSON(cfg, len(ds.labels), len(train), len(test), epochLoss, trainEval, testEval)
	if err := os.WriteFile(filepath.Join(cfg.outDir, "metrics.json"), metrics, 0o644); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	fmt.Printf("trained %d epochs on %d samples: train accuracy %.4f, test accuracy %.4f\n",
		cfg.epochs, len(train), trainEval.accuracy(), testEval.accuracy())
	return nil
}

// dataset holds the pixels already scaled to [0,1], one row of numInputs
// (inQuads quads) per sample. The pixels are stored reordered, the same way
// for every sample: perm[p] is the pixel in place p, the pixels most often 0
// (the image's border) last. A mini-batch's last few quads are then often 0
// for all its samples, and the products over the inputs skip them (see
// batch.quads), about 15% of their work on the digits. The order depends
// only on the data, so it is the same everywhere.
type dataset struct {
	x      []quad // samples x inQuads, pixels in perm's order
	labels []int
	quads  []int // per sample: its quads up to the last one that is not 0
	perm   [numInputs]int
}

func (d *dataset) row(i int) []quad { return d.x[i*inQuads : (i+1)*inQuads] }

// reorder sorts the pixels as described at dataset and sets d.quads.
func (d *dataset) reorder() {
	var zeros [numInputs]int
	for i := range d.labels {
		for t, q := range d.row(i) {
			for k, v := range q {
				if v == 0 {
					zeros[4*t+k]++
				}
			}
		}
	}
	for p := range d.perm {
		d.perm[p] = p
	}
	slices.SortStableFunc(d.perm[:], func(a, b int) int { return zeros[a] - zeros[b] })
	d.quads = make([]int, len(d.labels))
	for i := range d.labels {
		row := d.row(i)
		orig := [inQuads]quad(row)
		for p, q := range d.perm {
			row[p/4][p%4] = orig[q/4][q%4]
		}
		for t, q := range row {
			if q != (quad{}) {
				d.quads[i] = t + 1
			}
		}
	}
}

// loadDataset reads the data set whole and splits it into lines by hand:
// bufio.Scanner and strconv per field are what loading spent its time on in
// the wasm build.
func loadDataset(path string) (*dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read data set: %w", err)
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b { // gzip magic, whatever the file name says
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("open gzip data set: %w", err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(zr); err != nil {
			return nil, fmt.Errorf("read data set: %w", err)
		}
		raw = buf.Bytes()
	}
	rows := bytes.Count(raw, []byte{'\n'}) + 1
	ds := &dataset{x: make([]quad, 0, rows*inQuads), labels: make([]int, 0, rows)}
	var fields [numInputs + 1]int
	for line := 1; len(raw) > 0; line++ {
		text := raw
		if end := bytes.IndexByte(raw, '\n'); end >= 0 {
			text, raw = raw[:end], raw[end+1:]
		} else {
			raw = nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		if err := parseRow(text, fields[:]); err != nil {
			if line == 1 && len(ds.labels) == 0 {
				continue // tolerate a header line
			}
			return nil, fmt.Errorf("data set line %d: %w", line, err)
		}
		var x [inQuads]quad
		for i, v := range fields[:numInputs] {
			if v < 0 || v > pixelMax {
				return nil, fmt.Errorf("data set line %d: pixel %d outside 0..%d", line, v, pixelMax)
			}
			x[i/4][i%4] = float64(v) / pixelMax
		}
		ds.x = append(ds.x, x[:]...)
		label := fields[numInputs]
		if label < 0 || label >= numClasses {
			return nil, fmt.Errorf("data set line %d: class %d outside 0..%d", line, label, numClasses-1)
		}
		ds.labels = append(ds.labels, label)
	}
	if len(ds.labels) == 0 {
		return nil, errors.New("data set is empty")
	}
	ds.reorder()
	return ds, nil
}

// parseRow parses text, len(out) comma-separated integers, into out. Rows
// of plain digits, every row of a well-formed file, are parsed here in one
// pass; anything else goes to parseFields.
func parseRow(text []byte, out []int) error {
	n, v, digits := 0, 0, 0
	for _, c := range text {
		switch {
		case c >= '0' && c <= '9' && digits < 9:
			v = v*10 + int(c-'0')
			digits++
		case c == ',' && digits > 0 && n < len(out)-1:
			out[n] = v
			n, v, digits = n+1, 0, 0
		default:
			return parseFields(text, out)
		}
	}
	if digits == 0 || n != len(out)-1 {
		return parseFields(text, out)
	}
	out[n] = v
	return nil
}

// parseFields is parseRow for any row: fields may have white space around
// them and a sign, and errors say what is wrong.
func parseFields(text []byte, out []int) error {
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

// How training is laid out, and why.
//
// Nearly all the time goes into five matrix products per mini-batch: the two
// layers forward, the hidden deltas, and the steps of w2 and w1. They all go
// through one kernel, mulAdd, shaped by the costs of the wasm build (Go's
// wasm output compiled by wazero): there a float load or store costs about
// ten machine instructions instead of one, as Go folds no constant offset
// into it and wazero bounds-checks every access; a loop iteration is a jump
// through the function's br_table dispatch, which spills and reloads the
// values live across it; and a call costs a hundred-odd instructions. So:
//
//   - mulAdd is register-blocked: a step loads six quads and feeds every
//     value to several multiply-adds, whose eight sums stay in locals. That
//     is three quarters of a load per multiply-add, where the textbook loops
//     need two or three. Eight sums is as many as stay in registers: Go's
//     wasm backend has sixteen float registers, and the last step's eight
//     products are all live at the end of the loop body.
//   - Its operands are packed (see quad), so a step reads them at fixed
//     offsets from two addresses, and each call and loop iteration does a
//     lot of work.
//   - The gradient sums are taken over the whole batch and added to the
//     weights directly, so no gradient is stored and reloaded.
//   - The passes between the products work on whole quads, written out,
//     without loops over a quad's values, passing quads by value (arrays of
//     four stay in memory) or branching on floats (see relu).
//
// The native build gains from all this too, if less. Every sum runs in a
// fixed order, the same in every build: over the inputs, hidden units,
// classes or samples, in index order.

// quad holds four consecutive values of a matrix row; pair and group hold
// the same quad of two and four consecutive rows. The matrices mulAdd reads
// are slices of pairs and groups: row by row, quad by quad, two or four rows
// interleaved.
type (
	quad  [4]float64
	pair  [2]quad
	group [4]quad
)

const (
	unitBlock  = 4                    // the hidden layer is padded to a multiple of this many units
	rowBlock   = 4                    // a batch is padded to a multiple of this many samples (zero rows)
	inQuads    = numInputs / 4        // quads per row of inputs
	classQuads = (numClasses + 3) / 4 // quads per row of classes; the two past numClasses are 0
)

// setCol sets d to column e of g (the values e of its quads): transposing a
// group is four of these.
func setCol(d *quad, g *group, e int) { d[0], d[1], d[2], d[3] = g[0][e], g[1][e], g[2][e], g[3][e] }

// setCol2 sets d to column e of the group of rows a[0], a[1], c[0], c[1].
func setCol2(d *quad, a, c *pair, e int) { d[0], d[1], d[2], d[3] = a[0][e], a[1][e], c[0][e], c[1][e] }

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// model is the MLP: w1 is hidden x numInputs (its columns in the data set's
// pixel order) and w2 is numClasses x hidden, both packed as pairs of rows.
// In memory the hidden layer is padded to stride units, a multiple of
// unitBlock, and w2 to 2*classQuads rows: the padding's weights and biases
// start at 0 and stay exactly 0 (a padding unit's activation is 0, so every
// gradient term it gets is +0, and the padding classes are never stepped),
// and json writes only the real ones.
type model struct {
	hidden, stride int
	place          [numInputs]int // place[i]: pixel i's column of w1
	w1             []pair         // stride/2 x inQuads
	b1             []float64      // stride
	w2             []pair         // 2*classQuads x stride/4, the last pair (padding classes) 0
	b2             [numClasses]float64
	w2t            []pair // w2 transposed, stride/2 x classQuads; refreshed after each step
}

func newModel(hidden int, perm *[numInputs]int, rng *splitmix64) *model {
	stride := roundUp(hidden, unitBlock)
	m := &model{
		hidden: hidden,
		stride: stride,
		w1:     make([]pair, stride/2*inQuads),
		b1:     make([]float64, stride),
		w2:     make([]pair, 2*classQuads*stride/4),
		w2t:    make([]pair, stride/2*classQuads),
	}
	for p, i := range perm {
		m.place[i] = p
	}
	// He-uniform for the ReLU layer, Glorot-uniform for the softmax layer.
	// math.Sqrt is exactly rounded by IEEE 754, so it is safe here.
	lim1 := math.Sqrt(6.0 / numInputs)
	for j := range hidden {
		for i := range numInputs {
			*m.w1At(j, m.place[i]) = (float64(2*rng.float()) - 1) * lim1
		}
	}
	lim2 := math.Sqrt(6.0 / float64(hidden+numClasses))
	for k := range numClasses {
		for j := range hidden {
			*m.w2At(k, j) = (float64(2*rng.float()) - 1) * lim2
		}
	}
	m.transposeW2()
	return m
}

func (m *model) w1At(j, p int) *float64 { return &m.w1[j/2*inQuads+p/4][j%2][p%4] }
func (m *model) w2At(k, j int) *float64 { return &m.w2[k/2*(m.stride/4)+j/4][k%2][j%4] }

// transposeW2 sets w2t from w2.
func (m *model) transposeW2() {
	sq := m.stride / 4
	for kq := range classQuads {
		for t := range sq {
			a, c := &m.w2[2*kq*sq+t], &m.w2[(2*kq+1)*sq+t] // classes 4kq..4kq+3 by units 4t..4t+3
			d, e := &m.w2t[2*t*classQuads+kq], &m.w2t[(2*t+1)*classQuads+kq]
			setCol2(&d[0], a, c, 0)
			setCol2(&d[1], a, c, 1)
			setCol2(&e[0], a, c, 2)
			setCol2(&e[1], a, c, 3)
		}
	}
}

// mulAdd adds alpha times the dot products of x's two rows with each group
// of y's rows to d: with n = len(x) quads per row, for each group y[g*n :
// (g+1)*n], its rows c < 4 and x's rows a < 2,
//
//	d[g][a][c] += alpha * (x's row a · the group's row c),
//
// each dot product summing in order. A step reads a pair and a group: 24
// loads for 32 multiply-adds.
func mulAdd(d []pair, alpha float64, x []pair, y []group) {
	n := len(x)
	d = d[:len(y)/n]
	for g := range d {
		yg := y[g*n : (g+1)*n]
		var s00, s01, s02, s03, s10, s11, s12, s13 float64
		for t := range yg {
			a, c := &x[t], &yg[t]
			s00, s10 = s00+float64(a[0][0]*c[0][0]), s10+float64(a[1][0]*c[0][0])
			s01, s11 = s01+float64(a[0][0]*c[1][0]), s11+float64(a[1][0]*c[1][0])
			s02, s12 = s02+float64(a[0][0]*c[2][0]), s12+float64(a[1][0]*c[2][0])
			s03, s13 = s03+float64(a[0][0]*c[3][0]), s13+float64(a[1][0]*c[3][0])
			s00, s10 = s00+float64(a[0][1]*c[0][1]), s10+float64(a[1][1]*c[0][1])
			s01, s11 = s01+float64(a[0][1]*c[1][1]), s11+float64(a[1][1]*c[1][1])
			s02, s12 = s02+float64(a[0][1]*c[2][1]), s12+float64(a[1][1]*c[2][1])
			s03, s13 = s03+float64(a[0][1]*c[3][1]), s13+float64(a[1][1]*c[3][1])
			s00, s10 = s00+float64(a[0][2]*c[0][2]), s10+float64(a[1][2]*c[0][2])
			s01, s11 = s01+float64(a[0][2]*c[1][2]), s11+float64(a[1][2]*c[1][2])
			s02, s12 = s02+float64(a[0][2]*c[2][2]), s12+float64(a[1][2]*c[2][2])
			s03, s13 = s03+float64(a[0][2]*c[3][2]), s13+float64(a[1][2]*c[3][2])
			s00, s10 = s00+float64(a[0][3]*c[0][3]), s10+float64(a[1][3]*c[0][3])
			s01, s11 = s01+float64(a[0][3]*c[1][3]), s11+float64(a[1][3]*c[1][3])
			s02, s12 = s02+float64(a[0][3]*c[2][3]), s12+float64(a[1][3]*c[2][3])
			s03, s13 = s03+float64(a[0][3]*c[3][3]), s13+float64(a[1][3]*c[3][3])
		}
		p := &d[g]
		p[0][0], p[0][1], p[0][2], p[0][3] = p[0][0]+float64(alpha*s00), p[0][1]+float64(alpha*s01), p[0][2]+float64(alpha*s02), p[0][3]+float64(alpha*s03)
		p[1][0], p[1][1], p[1][2], p[1][3] = p[1][0]+float64(alpha*s10), p[1][1]+float64(alpha*s11), p[1][2]+float64(alpha*s12), p[1][3]+float64(alpha*s13)
	}
}

// batch holds one mini-batch: its inputs, activations and deltas, each
// packed the ways the products read them. Rows past the batch's samples, up
// to a multiple of rowBlock, are padding: zero inputs and zero deltas, so
// they add exactly +0 to every gradient sum. Transposed matrices (rows over
// units, inputs or classes, quads over samples) have b.groups quads per row.
// A batch is allocated once, so training does not touch the allocator (and
// the GC stays idle).
type batch struct {
	rows   int // capacity in samples, a multiple of rowBlock
	groups int // the batch's sample count, padded, over 4
	quads  int // quads of inputs, up to the last one that is not 0 for some sample (see dataset)

	x   []group // inputs: groups of 4 samples, quads rows long
	xt  []group // inputs, transposed: groups of 4 inputs
	ht  []pair  // w1·x, transposed: pairs of units
	hu  []group // hidden activations, transposed: groups of 4 units
	hs  []group // hidden activations: groups of 4 samples, stride/4 quads rows long
	zt  []pair  // logits, probabilities, then output deltas, transposed: pairs of classes; the padding pair stays 0
	dz  []group // output deltas: groups of 4 samples, classQuads rows long
	dht []pair  // hidden deltas, transposed: pairs of units
}

func newBatch(size, stride int) *batch {
	rows := roundUp(size, rowBlock)
	g := rows / 4
	return &batch{
		rows: rows,
		x:    make([]group, g*inQuads),
		xt:   make([]group, inQuads*g),
		ht:   make([]pair, stride/2*g),
		hu:   make([]group, stride/4*g),
		hs:   make([]group, g*stride/4),
		zt:   make([]pair, classQuads*2*g),
		dz:   make([]group, g*classQuads),
		dht:  make([]pair, stride/2*g),
	}
}

// forward runs the samples idx (at most b.rows) through the model, leaving
// the inputs, the hidden activations and the class probabilities in b.
func (m *model) forward(b *batch, ds *dataset, idx []int) {
	n := len(idx)
	groups := roundUp(n, rowBlock) / 4
	quads := 1
	for _, id := range idx {
		quads = max(quads, ds.quads[id])
	}
	b.groups, b.quads = groups, quads
	sq := m.stride / 4

	clear(b.x[:groups*quads]) // with the padding rows
	for r, id := range idx {
		x, row := b.x[r/4*quads:(r/4+1)*quads], ds.row(id)
		for t := range x {
			x[t][r%4] = row[t]
		}
	}

	// Hidden layer: h = relu(w1·x + b1), computed transposed into ht, then
	// written four units to a group (hu) and by sample (hs), for the
	// products that read it.
	ht := b.ht[:m.stride/2*groups]
	clear(ht)
	for jp := range m.stride / 2 {
		mulAdd(ht[jp*groups:(jp+1)*groups], 1, m.w1[jp*inQuads:jp*inQuads+quads], b.x[:groups*quads])
	}
	for t := range sq {
		bias0, bias1, bias2, bias3 := m.b1[4*t], m.b1[4*t+1], m.b1[4*t+2], m.b1[4*t+3]
		for g := range groups {
			a, c := &ht[2*t*groups+g], &ht[(2*t+1)*groups+g] // units 4t, 4t+1 and 4t+2, 4t+3
			u, h := &b.hu[t*groups+g], &b.hs[g*sq+t]
			u[0][0], u[0][1], u[0][2], u[0][3] = relu(a[0][0]+bias0), relu(a[0][1]+bias0), relu(a[0][2]+bias0), relu(a[0][3]+bias0)
			u[1][0], u[1][1], u[1][2], u[1][3] = relu(a[1][0]+bias1), relu(a[1][1]+bias1), relu(a[1][2]+bias1), relu(a[1][3]+bias1)
			u[2][0], u[2][1], u[2][2], u[2][3] = relu(c[0][0]+bias2), relu(c[0][1]+bias2), relu(c[0][2]+bias2), relu(c[0][3]+bias2)
			u[3][0], u[3][1], u[3][2], u[3][3] = relu(c[1][0]+bias3), relu(c[1][1]+bias3), relu(c[1][2]+bias3), relu(c[1][3]+bias3)
			setCol(&h[0], u, 0)
			setCol(&h[1], u, 1)
			setCol(&h[2], u, 2)
			setCol(&h[3], u, 3)
		}
	}

	// Output layer: z = w2·h + b2, then the softmax.
	zt := b.zt[:numClasses/2*groups]
	clear(b.zt[:2*classQuads*groups]) // with the padding classes' pair
	for kp := range numClasses / 2 {
		mulAdd(zt[kp*groups:(kp+1)*groups], 1, m.w2[kp*sq:(kp+1)*sq], b.hs[:groups*sq])
	}
	for r := range n {
		var z [numClasses]float64
		for k := range z {
			z[k] = *b.zAt(groups, r, k) + m.b2[k]
		}
		maxZ := z[0]
		for _, v := range z {
			if v > maxZ {
				maxZ = v
			}
		}
		sum := 0.0
		for k, v := range z {
			z[k] = exp(v - maxZ) // shifted so exp never overflows
			sum += z[k]
		}
		for k, v := range z {
			*b.zAt(groups, r, k) = v / sum
		}
	}
}

// zAt returns class k's logit, probability or delta for row r.
func (b *batch) zAt(groups, r, k int) *float64 { return &b.zt[k/2*groups+r/4][k%2][r%4] }

// relu is max(z, 0). Go compiles a choice between two floats to a branch,
// which in the wasm build is a trip through the function's dispatch loop; a
// choice between integers becomes a select instruction. So the choice is
// made on the bits: a float is above 0 exactly when its bits, read as a
// signed integer, are.
func relu(z float64) float64 {
	b := math.Float64bits(z)
	if int64(b) <= 0 {
		b = 0
	}
	return math.Float64frombits(b)
}

// loss is the cross-entropy loss of row r, whose class is label.
func (b *batch) loss(groups, r, label int) float64 {
	return -log(max(*b.zAt(groups, r, label), 1e-300))
}

// trainEpoch runs mini-batch SGD over idx in order and returns the mean loss.
func (m *model) trainEpoch(ds *dataset, idx []int, size int, lr float64, b *batch) float64 {
	total := 0.0
	for start := 0; start < len(idx); start += size {
		total += m.trainBatch(ds, idx[start:min(start+size, len(idx))], lr, b)
	}
	return total / float64(len(idx))
}

// trainBatch takes one gradient step on the samples idx and returns their
// summed loss.
func (m *model) trainBatch(ds *dataset, idx []int, lr float64, b *batch) float64 {
	n := len(idx)
	m.forward(b, ds, idx)
	groups, quads := b.groups, b.quads
	total := 0.0
	for r, id := range idx {
		label := ds.labels[id]
		total += b.loss(groups, r, label)
		*b.zAt(groups, r, label) -= 1 // the output delta: p minus the one-hot label
	}
	for r := n; r < 4*groups; r++ { // padding rows: no delta
		for k := range numClasses {
			*b.zAt(groups, r, k) = 0
		}
	}
	zt, dht := b.zt[:numClasses/2*groups], b.dht[:m.stride/2*groups]
	for kq := range classQuads {
		for g := range groups {
			a, c, d := &b.zt[2*kq*groups+g], &b.zt[(2*kq+1)*groups+g], &b.dz[g*classQuads+kq]
			setCol2(&d[0], a, c, 0)
			setCol2(&d[1], a, c, 1)
			setCol2(&d[2], a, c, 2)
			setCol2(&d[3], a, c, 3)
		}
	}
	for g := range groups {
		for t := range quads {
			x, d := &b.x[g*quads+t], &b.xt[t*groups+g]
			setCol(&d[0], x, 0)
			setCol(&d[1], x, 1)
			setCol(&d[2], x, 2)
			setCol(&d[3], x, 3)
		}
	}

	// The step: w -= lr/n * (the sum over the batch of each sample's
	// gradient). First the hidden deltas, with w2 as the forward pass used
	// it: dh[r][j] = relu'(h[r][j]) * sum_k dz[r][k]*w2[k][j]; b1's step
	// sums them as it goes.
	step := -lr / float64(n)
	clear(dht)
	for jp := range m.stride / 2 {
		mulAdd(dht[jp*groups:(jp+1)*groups], 1, m.w2t[jp*classQuads:(jp+1)*classQuads], b.dz[:groups*classQuads])
		s0, s1 := 0.0, 0.0
		for g := range groups {
			d, u := &dht[jp*groups+g], &b.hu[jp/2*groups+g]
			h0, h1 := &u[jp%2*2], &u[jp%2*2+1] // units 2jp and 2jp+1
			e00, e01, e02, e03 := gate(h0[0], d[0][0]), gate(h0[1], d[0][1]), gate(h0[2], d[0][2]), gate(h0[3], d[0][3])
			e10, e11, e12, e13 := gate(h1[0], d[1][0]), gate(h1[1], d[1][1]), gate(h1[2], d[1][2]), gate(h1[3], d[1][3])
			d[0], d[1] = quad{e00, e01, e02, e03}, quad{e10, e11, e12, e13}
			s0, s1 = s0+e00+e01+e02+e03, s1+e10+e11+e12+e13
		}
		m.b1[2*jp] += float64(step * s0)
		m.b1[2*jp+1] += float64(step * s1)
	}
	sq := m.stride / 4
	for kp := range numClasses / 2 {
		mulAdd(m.w2[kp*sq:(kp+1)*sq], step, zt[kp*groups:(kp+1)*groups], b.hu[:sq*groups])
	}
	for k := range numClasses {
		m.b2[k] += float64(step * sumRow(zt, groups, k))
	}
	m.transposeW2()
	for jp := range m.stride / 2 {
		mulAdd(m.w1[jp*inQuads:jp*inQuads+quads], step, dht[jp*groups:(jp+1)*groups], b.xt[:quads*groups])
	}
	return total
}

// gate returns d if h > 0, else 0: the ReLU's gradient, h being the unit's
// activation; see relu.
func gate(h, d float64) float64 {
	b := math.Float64bits(d)
	if int64(math.Float64bits(h)) <= 0 {
		b = 0
	}
	return math.Float64frombits(b)
}

// sumRow returns the sum of row r of m, packed as pairs with n quads per
// row, in order.
func sumRow(m []pair, n, r int) float64 {
	s := 0.0
	for _, p := range m[r/2*n : (r/2+1)*n] {
		q := &p[r%2]
		s = s + q[0] + q[1] + q[2] + q[3]
	}
	return s
}

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

func (m *model) evaluate(ds *dataset, idx []int, b *batch) evaluation {
	var e evaluation
	for start := 0; start < len(idx); start += b.rows {
		chunk := idx[start:min(start+b.rows, len(idx))]
		m.forward(b, ds, chunk)
		groups := b.groups
		for r, id := range chunk {
			label := ds.labels[id]
			e.loss += b.loss(groups, r, label)
			pred := 0
			for k := 1; k < numClasses; k++ {
				if *b.zAt(groups, r, k) > *b.zAt(groups, r, pred) {
					pred = k
				}
			}
			e.confusion[label][pred]++
			if pred == label {
				e.correct++
			}
			e.n++
		}
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
	if k >= -1021 && k <= 1023 {
		// y*2^k is then a normal float, so the product is exact, as
		// math.Ldexp's result is; this skips a call that is dear in the
		// wasm build.
		return y * math.Float64frombits(uint64(k+1023)<<52)
	}
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

// floatLayers returns the weights in natural pixel order: w[0][j][i]
// connects pixel i to hidden unit j, w[1][k][j] hidden unit j to class k.
func (m *model) floatLayers() (w [2][][]float64, b [2][]float64) {
	w[0] = make([][]float64, m.hidden)
	for j := range m.hidden {
		w[0][j] = make([]float64, numInputs)
		for i := range numInputs {
			w[0][j][i] = *m.w1At(j, m.place[i])
		}
	}
	w[1] = make([][]float64, numClasses)
	for k := range numClasses {
		w[1][k] = make([]float64, m.hidden)
		for j := range m.hidden {
			w[1][k][j] = *m.w2At(k, j)
		}
	}
	b[0] = append([]float64{}, m.b1[:m.hidden]...)
	b[1] = append([]float64{}, m.b2[:]...)
	return w, b
}

// json is the float model in zkML's float format ("tenun-zkml-float/v1":
// `tenun zk quantize --float` reads it): sizes, the input scale (integer
// pixel = float input x in_scale), weights[layer][out][in], bias[layer][out].
func (m *model) json() []byte {
	w, b := m.floatLayers()
	var j jsonBuf
	j.raw("{")
	j.key(true, "format")
	j.str("tenun-zkml-float/v1")
	j.key(false, "sizes")
	j.raw("[")
	j.int(numInputs)
	j.raw(",")
	j.int(m.hidden)
	j.raw(",")
	j.int(numClasses)
	j.raw("]")
	j.key(false, "in_scale")
	j.int(pixelMax)
	j.key(false, "weights")
	j.raw("[")
	for l := range w {
		if l > 0 {
			j.raw(",")
		}
		j.raw("[")
		for r, row := range w[l] {
			if r > 0 {
				j.raw(",")
			}
			j.floats(row)
		}
		j.raw("]")
	}
	j.raw("]")
	j.key(false, "bias")
	j.raw("[")
	j.floats(b[0])
	j.raw(",")
	j.floats(b[1])
	j.raw("]")
	j.raw("\n}\n")
	return j.b
}

// Quantization inside the job, so that the job's verified output holds the
// integer model zkML proves and the chain commits to: the same rules as
// zkml/model.Quantize (int8 weights at 127/max|W| per layer, biases in the
// accumulator scale, the hidden shift from the 99.9th percentile of positive
// pre-activations on the training rows, 8-bit saturating activations, 5-bit
// inputs). Written as "tenun-zkml-mlp/v1" without the commitment, which
// readers (and the chain) recompute.
const (
	qInBits     = 5
	qActBits    = 8
	qActMax     = 1<<qActBits - 1
	qWeightOff  = 128
	qMaxFlag    = 12
	qPercentile = 0.999
)

func bitLen(v uint64) int {
	n := 0
	for v != 0 {
		v >>= 1
		n++
	}
	return n
}

type quantized struct {
	sizes    [3]int
	shift    int
	biasBits [2]int
	w        [2][][]int
	b        [2][]int64
}

func (m *model) quantize(ds *dataset, rows []int) quantized {
	w, b := m.floatLayers()
	q := quantized{sizes: [3]int{numInputs, m.hidden, numClasses}}
	inMax := [2]int64{1<<qInBits - 1, qActMax}
	for l := range 2 {
		q.biasBits[l] = bitLen(uint64(int64(q.sizes[l])*inMax[l]*qWeightOff)) + 1
	}
	// acts: integer inputs of the current layer on the calibration rows.
	acts := make([][]int64, len(rows))
	for r, s := range rows {
		acts[r] = make([]int64, numInputs)
		row := ds.row(s)
		for i := range numInputs {
			p := m.place[i]
			acts[r][i] = int64(math.Round(row[p/4][p%4] * pixelMax))
		}
	}
	inScale := float64(pixelMax)
	for l := range 2 {
		maxW := 0.0
		for _, row := range w[l] {
			for _, v := range row {
				maxW = max(maxW, math.Abs(v))
			}
		}
		ws := 1.0
		if maxW > 0 {
			ws = 127 / maxW
		}
		bmax := float64(int64(1)<<(q.biasBits[l]-1) - 1)
		q.w[l] = make([][]int, len(w[l]))
		q.b[l] = make([]int64, len(w[l]))
		for j, row := range w[l] {
			q.w[l][j] = make([]int, len(row))
			for i, v := range row {
				q.w[l][j][i] = int(math.Max(-127, math.Min(127, math.Round(v*ws))))
			}
			q.b[l][j] = int64(math.Max(-bmax, math.Min(bmax, math.Round(float64(b[l][j]*ws)*inScale))))
		}
		if l == 1 {
			break
		}
		zs := layerProducts(q.w[l], q.b[l], acts)
		var pos []int64
		for _, zr := range zs {
			for _, z := range zr {
				if z > 0 {
					pos = append(pos, z)
				}
			}
		}
		shift := 0
		if len(pos) > 0 {
			p := nthSmallest(pos, min(len(pos)-1, int(qPercentile*float64(len(pos)))))
			shift = max(0, bitLen(uint64(p))-qActBits)
		}
		zb := bitLen(uint64(int64(q.sizes[0])*inMax[0]*qWeightOff) + 1<<(q.biasBits[0]-1))
		q.shift = min(max(shift, zb+1-qActBits-qMaxFlag), zb-qActBits)
		inScale = inScale * ws / float64(int64(1)<<q.shift)
	}
	return q
}

// nthSmallest returns the k-th smallest of a (0-based), reordering a: the
// value a sort would put at a[k], found by quickselect (deterministic
// pivots: the median of three) in linear time instead of a sort's n log n.
func nthSmallest(a []int64, k int) int64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// layerProducts returns the integer pre-activations b[j] + sum_i w[j][i]*x[i]
// of every calibration row x in acts. The kernel build replaces it with a
// matrix product on the tensor kernels, which is exact here (small
// integers in float64) and so writes the same bytes.
var layerProducts = func(w [][]int, b []int64, acts [][]int64) [][]int64 {
	zs := make([][]int64, len(acts))
	for r, x := range acts {
		zs[r] = make([]int64, len(w))
		for j, row := range w {
			z := b[j]
			for i, v := range row {
				z += int64(v) * x[i]
			}
			zs[r][j] = z
		}
	}
	return zs
}

func (q quantized) json() []byte {
	var j jsonBuf
	j.raw("{")
	j.key(true, "format")
	j.str("tenun-zkml-mlp/v1")
	j.key(false, "arch")
	j.raw("{\"sizes\":[")
	j.int(q.sizes[0])
	j.raw(",")
	j.int(q.sizes[1])
	j.raw(",")
	j.int(q.sizes[2])
	j.raw("],\"in_bits\":")
	j.int(qInBits)
	j.raw(",\"shifts\":[")
	j.int(q.shift)
	j.raw("],\"bias_bits\":[")
	j.int(q.biasBits[0])
	j.raw(",")
	j.int(q.biasBits[1])
	j.raw("]}")
	j.key(false, "layers")
	j.raw("[")
	for l := range 2 {
		if l > 0 {
			j.raw(",")
		}
		j.raw("{\"weights\":[")
		for r, row := range q.w[l] {
			if r > 0 {
				j.raw(",")
			}
			j.raw("[")
			for i, v := range row {
				if i > 0 {
					j.raw(",")
				}
				j.int(v)
			}
			j.raw("]")
		}
		j.raw("],\"bias\":[")
		for i, v := range q.b[l] {
			if i > 0 {
				j.raw(",")
			}
			j.b = strconv.AppendInt(j.b, v, 10)
		}
		j.raw("]}")
	}
	j.raw("]")
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
