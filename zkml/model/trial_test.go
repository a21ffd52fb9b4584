package model

import (
	"fmt"
	"testing"
	"time"
)

func shiftImg(x []int, dx, dy int) []int {
	out := make([]int, 64)
	for r := 0; r < 8; r++ {
		for c := 0; c < 8; c++ {
			sr, sc := r-dy, c-dx
			if sr >= 0 && sr < 8 && sc >= 0 && sc < 8 {
				out[r*8+c] = x[sr*8+sc]
			}
		}
	}
	return out
}

func TestTrial(t *testing.T) {
	ds, err := LoadCSV("../../../shared/data/digits/digits.csv.gz")
	if err != nil {
		t.Skip(err)
	}
	train, _ := ds.Slice(0, DigitsTrainRows)
	test, _ := ds.Slice(DigitsTrainRows, DigitsRows)
	aug := &Dataset{}
	for r := range train.X {
		for _, d := range [][2]int{{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			aug.X = append(aug.X, shiftImg(train.X[r], d[0], d[1]))
			aug.Y = append(aug.Y, train.Y[r])
		}
	}
	for _, h := range []int{12, 24, 32} {
		for _, cfg := range []TrainConfig{{Epochs: 100, LR: 0.002}, {Epochs: 200, LR: 0.001, L2: 1e-3}, {Epochs: 30, LR: 0.002, L2: 1e-4}} {
			for _, d := range []*Dataset{train, aug} {
				cfg.Hidden = []int{h}
				cfg.Seed = 1
				ep := cfg.Epochs
				if d == aug {
					cfg.Epochs = ep / 5
				}
				t0 := time.Now()
				f, err := Train(d, 10, cfg)
				if err != nil {
					t.Fatal(err)
				}
				fc := 0
				for r := range test.X {
					x := make([]float64, 64)
					for i, v := range test.X[r] {
						x[i] = float64(v) / 16
					}
					if f.Predict(x) == test.Y[r] {
						fc++
					}
				}
				m, err := Quantize(f, train, QuantizeConfig{Percentile: 0.999})
				if err != nil {
					t.Fatal(err)
				}
				c, _ := m.Accuracy(test)
				fmt.Printf("h=%d aug=%v cfg=%+v float=%d quant=%d shifts=%v %v\n", h, d == aug, cfg, fc, c, m.Arch.Shifts, time.Since(t0))
				cfg.Epochs = ep
			}
		}
	}
}
