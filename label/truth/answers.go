package truth

import "fmt"

// NoLabel marks an item without a label: no gold, no truth, or no answers to infer one from.
const NoLabel = -1

// Answer is one worker's label for one item, all as dense indexes.
type Answer struct {
	Item, Worker, Class int
}

// Answers is the dense input to every method: items, workers and classes are
// indexes in [0, Items), [0, Workers), [0, Classes). A worker may answer an
// item more than once; every answer counts as a vote. The order of List does
// not change any result beyond the order in which integer sums are formed,
// and integer sums do not depend on order.
type Answers struct {
	Items, Workers, Classes int
	List                    []Answer
}

// Validate checks sizes and that every answer indexes inside them.
func (a *Answers) Validate() error {
	if a == nil {
		return fmt.Errorf("truth: nil answers")
	}
	if a.Items < 0 || a.Workers < 0 {
		return fmt.Errorf("truth: negative size (items %d, workers %d)", a.Items, a.Workers)
	}
	if a.Classes < 2 || a.Classes > MaxClasses {
		return fmt.Errorf("truth: %d classes, want 2..%d", a.Classes, MaxClasses)
	}
	for n, x := range a.List {
		if x.Item < 0 || x.Item >= a.Items || x.Worker < 0 || x.Worker >= a.Workers || x.Class < 0 || x.Class >= a.Classes {
			return fmt.Errorf("truth: answer %d (item %d, worker %d, class %d) out of range (%d items, %d workers, %d classes)",
				n, x.Item, x.Worker, x.Class, a.Items, a.Workers, a.Classes)
		}
	}
	return nil
}

// checkLabels validates a per-item label slice (gold or truth): nil is allowed.
func (a *Answers) checkLabels(name string, labels []int) error {
	if labels == nil {
		return nil
	}
	if len(labels) != a.Items {
		return fmt.Errorf("truth: %s has %d entries, want one per item (%d)", name, len(labels), a.Items)
	}
	for i, c := range labels {
		if c != NoLabel && (c < 0 || c >= a.Classes) {
			return fmt.Errorf("truth: %s[%d] = %d, want NoLabel or 0..%d", name, i, c, a.Classes-1)
		}
	}
	return nil
}

// VotesPerItem counts answers per item.
func (a *Answers) VotesPerItem() []int {
	n := make([]int, a.Items)
	for _, x := range a.List {
		n[x.Item]++
	}
	return n
}

// AnswersPerWorker counts answers per worker.
func (a *Answers) AnswersPerWorker() []int {
	n := make([]int, a.Workers)
	for _, x := range a.List {
		n[x.Worker]++
	}
	return n
}
