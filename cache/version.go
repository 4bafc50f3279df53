package cache

import (
	"math/rand/v2"
	"strconv"
)

// NewVersion returns a fresh random tag version: 16 hex digits. The
// top-level math/rand/v2 generator is seeded from the operating system's
// randomness for every process, so two processes (or a restarted one) never
// produce the same sequence and a recreated tag never matches an old entry.
func NewVersion() string {
	const digits = "0000000000000000"
	s := strconv.FormatUint(rand.Uint64(), 16)
	return digits[len(s):] + s
}
