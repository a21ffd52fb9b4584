package label

import (
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
)

// AnswersAgree, by task type: what a worker sees as agreement before pay.
func TestAnswersAgree(t *testing.T) {
	choice := &Job{Labels: []string{"a", "b", "c"}}
	multi := &Job{Task: TaskMulti, Labels: []string{"car", "person", "sign"}}
	rating := &Job{Task: TaskRating, RatingMin: -100, RatingMax: 100}
	box := &Job{Task: TaskBox, Labels: []string{"car", "sign"}, Width: 320, Height: 240, MaxBoxes: 4}
	car := Box{X: 10, Y: 10, W: 100, H: 50, Class: 0}
	nearCar := Box{X: 14, Y: 12, W: 100, H: 50, Class: 0}
	for _, c := range []struct {
		name   string
		j      *Job
		a      Answer
		others []Answer
		want   bool
	}{
		{"choice with the majority", choice, Answer{Label: 1}, []Answer{{Label: 1}, {Label: 1}, {Label: 2}}, true},
		{"choice against it", choice, Answer{Label: 2}, []Answer{{Label: 1}, {Label: 1}, {Label: 2}}, false},
		{"choice in a tie", choice, Answer{Label: 0}, []Answer{{Label: 0}, {Label: 1}}, true},
		{"multi per-label majority", multi, Answer{Label: 0b101}, []Answer{{Label: 0b101}, {Label: 0b001}, {Label: 0b101}}, true},
		{"multi with an extra label", multi, Answer{Label: 0b111}, []Answer{{Label: 0b101}, {Label: 0b101}}, false},
		{"rating near the median", rating, Answer{Value: 30}, []Answer{{Value: 25}, {Value: 40}, {Value: -90}}, true},
		{"rating far from it", rating, Answer{Value: 80}, []Answer{{Value: 25}, {Value: 40}, {Value: -90}}, false},
		{"box matching another's", box, Answer{Boxes: []Box{car}}, []Answer{{Boxes: []Box{nearCar}}}, true},
		{"box of another class", box, Answer{Boxes: []Box{{X: 10, Y: 10, W: 100, H: 50, Class: 1}}}, []Answer{{Boxes: []Box{nearCar}}}, false},
		{"lazy: one box where others draw three", box, Answer{Boxes: []Box{car}}, []Answer{{Boxes: []Box{nearCar, {X: 200, Y: 10, W: 20, H: 20}, {X: 250, Y: 100, W: 20, H: 20}}}}, false},
	} {
		if got := AnswersAgree(c.j, c.a, c.others); got != c.want {
			t.Errorf("%s: agree = %v, want %v", c.name, got, c.want)
		}
	}
}

// Image items must be blob CIDs.
func TestImageItemsAreCIDs(t *testing.T) {
	m := &MsgCreateJob{Title: "t", Labels: []string{"a", "b"}, ItemKind: KindImage, Items: []string{"not a cid"},
		Redundancy: 1, MaxRedundancy: 1, Reward: 1, DeadlineBlocks: 10, RevealBlocks: 10, GraceBlocks: MinGraceBlocks, BatchSize: 1, MaxPerWorker: 1}
	if err := m.ValidateBasic(); err == nil || !strings.Contains(err.Error(), "CID of an image blob") {
		t.Fatalf("a non-CID image item: %v", err)
	}
	m.Items = []string{chain.BlobCID([]byte("png bytes"))}
	if err := m.ValidateBasic(); err != nil {
		t.Fatalf("a CID image item: %v", err)
	}
}
