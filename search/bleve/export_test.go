package bleve

// TakeTurn takes one of the index's search turns (Config.Concurrency) and returns what gives it
// back, so a test can hold every turn and watch searches wait.
func (x *Index) TakeTurn() (giveBack func()) {
	x.slots <- struct{}{}
	return func() { <-x.slots }
}
