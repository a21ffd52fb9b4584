package truth_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/truth/floatref"
)

func pct(p truth.Prob) float64 { return 100 * float64(p) / float64(truth.One) }

func TestZZCompare(t *testing.T) {
	for _, s := range []string{"d_product", "d_possent", "s_rel", "bluebirds", "rte", "temp"} {
		d, err := truth.LoadDir(filepath.Join("../../../shared/crowd", s), truth.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pos, _ := d.ClassIndex("1")
		a := &d.Answers
		for _, m := range []struct {
			name string
			fx   func(*truth.Answers, truth.Options) (*truth.Result, error)
			fl   func(*truth.Answers, floatref.DSOptions) *floatref.Result
		}{
			{"mv", truth.MajorityVote, func(a *truth.Answers, o floatref.DSOptions) *floatref.Result { return floatref.MajorityVote(a, nil) }},
			{"ds", truth.DawidSkene, floatref.DawidSkene},
			{"best", truth.Best, floatref.Best},
		} {
			t0 := time.Now()
			r, err := m.fx(a, truth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			dt := time.Since(t0)
			t1 := time.Now()
			fr := m.fl(a, floatref.DSOptions{})
			dt2 := time.Since(t1)
			sc := truth.Evaluate(r, d.Truth, pos)
			fs := floatref.Evaluate(a, fr, d.Truth, pos)
			fmt.Printf("%-10s %-5s fixed %6.2f %6.2f it=%d %v | float %6.2f %6.2f it=%d %v\n", s, m.name, pct(sc.Accuracy()), pct(sc.F1()), r.Iterations, dt, 100*fs.Accuracy, 100*fs.F1, fr.Iterations, dt2)
		}
	}
}
