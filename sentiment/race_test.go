//go:build race

package sentiment

// raceEnabled is set under -race, where sync.Pool drops items at random.
const raceEnabled = true
