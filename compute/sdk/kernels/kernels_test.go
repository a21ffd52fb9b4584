package kernels

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// rng is splitmix64, so inputs are the same on every architecture.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// values returns n floats spread over many magnitudes and both signs, so
// that rounding differences (a fused multiply-add, another order) show.
func (r *rng) values(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		mant := float64(r.next()>>11) * 0x1p-53
		exp := int(r.next()%20) - 10
		v[i] = math.Ldexp(mant, exp)
		if r.next()&1 == 1 {
			v[i] = -v[i]
		}
	}
	return v
}

// reference is the matrix product written the plainest way: one dot product
// per output, summed over k in order.
func reference(flags, m, n, k int, alpha float64, a, b, c []float64) {
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				x, y := a[i*k+p], b[p*n+j]
				if flags&TransA != 0 {
					x = a[p*m+i]
				}
				if flags&TransB != 0 {
					y = b[j*k+p]
				}
				s += float64(x * y)
			}
			v := float64(alpha * s)
			if flags&Accumulate != 0 {
				v = c[i*n+j] + v
			}
			c[i*n+j] = v
		}
	}
}

// Every layout and blocking path sums in the reference's order, so the
// results are equal bit for bit, for shapes that leave remainders.
func TestMatMulMatchesReference(t *testing.T) {
	r := rng(1)
	for flags := range AllFlags + 1 {
		for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 4, 4}, {9, 13, 6}, {16, 64, 64}, {2, 300, 3}, {0, 3, 3}, {3, 3, 0}} {
			m, n, k := s[0], s[1], s[2]
			a, b := r.values(m*k), r.values(k*n)
			c0 := r.values(m * n)
			got, want := append([]float64(nil), c0...), append([]float64(nil), c0...)
			MatMul(flags, m, n, k, -0.37, a, b, got)
			reference(flags, m, n, k, -0.37, a, b, want)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("flags %d, %dx%dx%d: c[%d] = %v, want %v", flags, m, n, k, i, got[i], want[i])
				}
			}
		}
	}
}

func TestExpLogMatchMath(t *testing.T) {
	r := rng(2)
	for _, x := range r.values(2000) {
		for _, v := range []float64{x, x * 50} {
			if e, want := Exp(v), math.Exp(v); math.Abs(e-want) > 1e-15*math.Abs(want) {
				t.Fatalf("Exp(%v) = %v, math.Exp %v", v, e, want)
			}
			if l, want := Log(math.Abs(v)), math.Log(math.Abs(v)); math.Abs(l-want) > 1e-15*math.Max(1, math.Abs(want)) {
				t.Fatalf("Log(%v) = %v, math.Log %v", math.Abs(v), l, want)
			}
		}
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	x := []float64{1, 2, 3, -1, -1, -1}
	p := make([]float64, 6)
	Softmax(2, 3, x, p)
	for i, row := range [][]float64{p[:3], p[3:]} {
		if s := Sum(row); math.Abs(s-1) > 1e-15 {
			t.Errorf("row %d sums to %v", i, s)
		}
	}
	if p[3] != p[4] || p[4] != p[5] || !(p[2] > p[1] && p[1] > p[0]) {
		t.Errorf("softmax %v", p)
	}
	labels := []int32{2, 0}
	loss := CrossEntropy(2, 3, p, labels)
	if want := -Log(p[2]) - Log(p[3]); loss != want {
		t.Errorf("loss %v, want %v", loss, want)
	}
	OneHotSub(2, 3, labels, p)
	if Sum(p) > 1e-15 || Sum(p) < -1e-15 {
		t.Errorf("gradient rows should sum to 0: %v", p)
	}
	out := make([]int32, 2)
	ArgMaxRows(2, 3, x, out)
	if out[0] != 2 || out[1] != 0 {
		t.Errorf("argmax %v", out)
	}
}

// The kernels give the same bits on arm64 (which fuses x*y+z unless told
// not to) as on this machine: a program hashing every kernel's results
// (internal/digest) is built for both and the arm64 build runs under
// qemu-user.
func TestSameBitsAcrossArchitectures(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program for another architecture")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain to cross-compile with")
	}
	var runner []string
	if runtime.GOARCH != "arm64" {
		qemu, err := exec.LookPath("qemu-aarch64")
		if err != nil {
			qemu, err = exec.LookPath("qemu-aarch64-static")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "SKIP: kernels: qemu-aarch64 is not installed (apt-get install qemu-user); the arm64 bit-for-bit comparison did not run")
			t.Skip("SKIPPED: qemu-aarch64 is not installed (apt-get install qemu-user), so the arm64 comparison did not run")
		}
		runner = []string{qemu}
	}
	dir := t.TempDir()
	digest := func(goarch string, runner ...string) string {
		bin := filepath.Join(dir, "digest-"+goarch)
		build := exec.Command(goBin, "build", "-o", bin, "./internal/digest")
		build.Env = append(os.Environ(), "GOARCH="+goarch, "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("%s: build: %v\n%s", goarch, err, out)
		}
		out, err := exec.Command(append(runner, bin)[0], append(runner, bin)[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: run: %v", goarch, err)
		}
		return strings.TrimSpace(string(out))
	}
	here := digest(runtime.GOARCH)
	arm := digest("arm64", runner...)
	if here != arm || len(here) != 64 {
		t.Fatalf("kernel results differ: %s on %s, %s on arm64", here, runtime.GOARCH, arm)
	}
	t.Logf("same bits on %s and arm64 (run with %q): %s", runtime.GOARCH, runner, here[:16])
}
