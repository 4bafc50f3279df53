package db

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an exact amount in cents. It is stored as a BIGINT of cents on
// both dialects: SQLite has no exact decimal type, and integer cents are
// exact, sortable and identical on PostgreSQL and SQLite.
type Money int64

// MaxMoney is the exclusive upper bound of a price: 10^10.
const MaxMoney Money = 10_000_000_000_00

// String formats m with exactly two decimals, e.g. "250000.00".
func (m Money) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, m/100, m%100)
}

// ParseMoney parses a plain decimal string ("12", "12.5", "-3.25") with at
// most two decimals. Exponents, signs other than a leading '-', and more than
// two decimals are errors.
func ParseMoney(s string) (Money, error) {
	orig := s
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || len(frac) > 2 || len(intPart) > 15 {
		return 0, fmt.Errorf("invalid decimal %q: want digits with at most two decimals", orig)
	}
	for _, part := range []string{intPart, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("invalid decimal %q: want digits with at most two decimals", orig)
			}
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid decimal %q: %w", orig, err)
	}
	if neg {
		n = -n
	}
	return Money(n), nil
}
