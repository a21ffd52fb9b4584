package truth_test

import (
	"fmt"
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/truth/floatref"
)

func TestZZGold(t *testing.T) {
	d, err := truth.LoadDir("../../../shared/crowd/d_possent", truth.LoadOptions{Qualification: true})
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := d.ClassIndex("1")
	a := &d.Answers
	fmt.Println(a.Items, a.Workers, len(a.List))
	opt := truth.Options{Gold: d.Gold}
	for name, f := range map[string]func(*truth.Answers, truth.Options) (*truth.Result, error){
		"mv": truth.MajorityVote, "ds": truth.DawidSkene, "best": truth.Best,
		"wv": func(a *truth.Answers, o truth.Options) (*truth.Result, error) { return truth.WeightedVote(a, nil, o) },
	} {
		r, err := f(a, opt)
		if err != nil {
			t.Fatal(err)
		}
		sc := truth.Evaluate(r, d.Truth, pos)
		fmt.Println(name, pct(sc.Accuracy()), pct(sc.F1()), sc.Scored)
	}
	fr := floatref.WeightedVote(a, floatref.GoldReputation(a, d.Gold), d.Gold)
	fs := floatref.Evaluate(a, fr, d.Truth, pos)
	fmt.Println("float wv", 100*fs.Accuracy)
	r, _ := truth.DawidSkene(a, truth.Options{})
	sc := truth.Evaluate(r, d.Truth, pos)
	fmt.Println("ds nogold with qual items", pct(sc.Accuracy()))
}
