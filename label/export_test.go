package label

// SetCloseBudgets sets the close's limits (see closing.go) for a story
// that closes a small job over blocks; restore puts the defaults back.
func SetCloseBudgets(oneBlock uint64, collect, rounds, boxWork int) (restore func()) {
	a, c, r, b := oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget
	oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget = oneBlock, collect, rounds, boxWork
	return func() { oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget = a, c, r, b }
}
