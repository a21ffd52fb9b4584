// Package truth infers item labels from the answers of many workers, as the
// annotation market's consensus does: majority vote, reputation-weighted
// vote, Dawid-Skene EM, and Best (a hierarchical Dawid-Skene that beats the
// published methods on the reference crowd sets).
//
// The package runs inside consensus, so every node must compute the same
// bits: it uses integer and fixed-point arithmetic only (Prob is Q32,
// logarithms are Q32 base 2 from integer tables built at start-up), no
// floats, no goroutines, no clocks, no randomness and no iteration over maps.
// Integer sums do not depend on order, so results do not depend on the order
// of the answers either (64-bit platforms assumed: indexes are int). A test
// in this package checks the source for these rules; package floatref holds
// float64 twins of each method for tests.
//
// Typical use:
//
//	d, err := truth.LoadDir(dir, truth.LoadOptions{})       // or NewDataset / a hand-built Answers
//	res, err := truth.Best(&d.Answers, truth.Options{Gold: gold})
//	label, conf := res.Items[i].Label, res.Items[i].Confidence
//	acc, inf := res.Workers[w].Accuracy, res.Workers[w].Informativeness
package truth
