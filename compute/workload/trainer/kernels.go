//go:build tenunkernels

package main

// Training on the sandbox's tensor kernels (built with -tags tenunkernels).
//
// The same model, data, split, initial weights and shuffles as the pure
// build, but every product, activation, softmax and loss is one call to the
// deterministic kernels of package job, which in the sandbox are host
// functions running as native code and natively the same Go code. The
// matrices are plain row-major: batch x inputs, hidden x inputs (w1),
// classes x hidden (w2). The sums run in other orders than the pure build's
// (each kernel's own, fixed), so the two builds write different, equally
// reproducible, models.

import "github.com/tenun-chain/tenun/compute/sdk/job"

func init() {
	trainKernels = trainWithKernels
	layerProducts = layerProductsWithKernels
}

// layerProductsWithKernels is layerProducts as one matrix product. Every
// operand is an integer well inside float64's 53 bits (weights to 127,
// activations to 2^16, 64 terms), so each sum is exact in any order and the
// result is the integer loop's, bit for bit; it just runs as native code.
func layerProductsWithKernels(w [][]int, b []int64, acts [][]int64) [][]int64 {
	rows, outs := len(acts), len(w)
	if rows == 0 || outs == 0 {
		return make([][]int64, rows)
	}
	ins := len(w[0])
	x, wf, z := make([]float64, rows*ins), make([]float64, outs*ins), make([]float64, rows*outs)
	for r, a := range acts {
		for i, v := range a[:ins] {
			x[r*ins+i] = float64(v)
		}
	}
	for j, row := range w {
		for i, v := range row {
			wf[j*ins+i] = float64(v)
		}
	}
	job.MatMul(job.TransB, rows, outs, ins, 1, x, wf, z)
	zs := make([][]int64, rows)
	for r := range rows {
		zs[r] = make([]int64, outs)
		for j := range outs {
			zs[r][j] = b[j] + int64(z[r*outs+j])
		}
	}
	return zs
}

type kernelNet struct {
	h              int
	w1, b1, w2, b2 []float64
	// x is the data set's samples as one row-major matrix, so that loading
	// a batch is one copy per sample rather than a loop in wasm.
	x []float64
}

type kernelBatch struct {
	x, hid, dh, z, tmpH, tmpC []float64
	labels, pred              []int32
}

func newKernelBatch(rows, h int) *kernelBatch {
	return &kernelBatch{
		x: make([]float64, rows*numInputs), hid: make([]float64, rows*h), dh: make([]float64, rows*h),
		z: make([]float64, rows*numClasses), tmpH: make([]float64, h), tmpC: make([]float64, numClasses),
		labels: make([]int32, rows), pred: make([]int32, rows),
	}
}

func trainWithKernels(m *model, ds *dataset, train, test []int, cfg config, rng *splitmix64) ([]float64, evaluation, evaluation) {
	h := m.hidden
	net := &kernelNet{h: h, w1: make([]float64, h*numInputs), b1: make([]float64, h), w2: make([]float64, numClasses*h), b2: make([]float64, numClasses)}
	net.x = make([]float64, 0, len(ds.x)*4)
	for _, q := range ds.x {
		net.x = append(net.x, q[:]...)
	}
	for j := range h {
		for p := range numInputs {
			net.w1[j*numInputs+p] = *m.w1At(j, p)
		}
		for k := range numClasses {
			net.w2[k*h+j] = *m.w2At(k, j)
		}
	}
	b := newKernelBatch(min(cfg.batch, len(train)), h)
	epochLoss := make([]float64, 0, cfg.epochs)
	for e := range cfg.epochs {
		rng.shuffle(train)
		total := 0.0
		for start := 0; start < len(train); start += cfg.batch {
			total += net.step(ds, train[start:min(start+cfg.batch, len(train))], cfg.lr, b)
		}
		epochLoss = append(epochLoss, total/float64(len(train)))
		job.Progress(e+1, cfg.epochs)
	}
	trainEval, testEval := net.evaluate(ds, train, b), net.evaluate(ds, test, b)

	for j := range h {
		for p := range numInputs {
			*m.w1At(j, p) = net.w1[j*numInputs+p]
		}
		for k := range numClasses {
			*m.w2At(k, j) = net.w2[k*h+j]
		}
	}
	copy(m.b1, net.b1)
	copy(m.b2[:], net.b2)
	m.transposeW2()
	return epochLoss, trainEval, testEval
}

// forward loads the samples idx into b and leaves the hidden activations in
// b.hid and the class probabilities in b.z.
func (net *kernelNet) forward(ds *dataset, idx []int, b *kernelBatch) int {
	n, h := len(idx), net.h
	for r, id := range idx {
		copy(b.x[r*numInputs:(r+1)*numInputs], net.x[id*numInputs:(id+1)*numInputs])
		b.labels[r] = int32(ds.labels[id])
	}
	x, hid, z := b.x[:n*numInputs], b.hid[:n*h], b.z[:n*numClasses]
	job.MatMul(job.TransB, n, h, numInputs, 1, x, net.w1, hid)
	job.AddRow(n, h, net.b1, hid)
	job.Relu(hid, hid)
	job.MatMul(job.TransB, n, numClasses, h, 1, hid, net.w2, z)
	job.AddRow(n, numClasses, net.b2, z)
	job.Softmax(n, numClasses, z, z)
	return n
}

// step takes one gradient step on the samples idx and returns their summed loss.
func (net *kernelNet) step(ds *dataset, idx []int, lr float64, b *kernelBatch) float64 {
	n := net.forward(ds, idx, b)
	h := net.h
	x, hid, dh, z, labels := b.x[:n*numInputs], b.hid[:n*h], b.dh[:n*h], b.z[:n*numClasses], b.labels[:n]
	loss := job.CrossEntropy(n, numClasses, z, labels)
	job.OneHotSub(n, numClasses, labels, z) // z is now the output delta
	step := -lr / float64(n)
	job.MatMul(0, n, h, numClasses, 1, z, net.w2, dh) // with w2 before its step
	job.ReluGrad(hid, dh, dh)
	job.MatMul(job.TransA|job.Accumulate, numClasses, h, n, step, z, hid, net.w2)
	job.SumRows(n, numClasses, z, b.tmpC)
	job.Axpy(step, b.tmpC, net.b2)
	job.MatMul(job.TransA|job.Accumulate, h, numInputs, n, step, dh, x, net.w1)
	job.SumRows(n, h, dh, b.tmpH)
	job.Axpy(step, b.tmpH, net.b1)
	return loss
}

func (net *kernelNet) evaluate(ds *dataset, idx []int, b *kernelBatch) evaluation {
	var e evaluation
	rows := len(b.labels)
	for start := 0; start < len(idx); start += rows {
		chunk := idx[start:min(start+rows, len(idx))]
		n := net.forward(ds, chunk, b)
		e.loss += job.CrossEntropy(n, numClasses, b.z[:n*numClasses], b.labels[:n])
		job.ArgMaxRows(n, numClasses, b.z[:n*numClasses], b.pred[:n])
		for r := range n {
			label, pred := int(b.labels[r]), int(b.pred[r])
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
