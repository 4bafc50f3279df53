//go:build race

package graph_test

// raceEnabled: the race detector is on, which drops sync.Pool items at
// random, so allocation counts are not the program's.
const raceEnabled = true
