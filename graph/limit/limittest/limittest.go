// Package limittest writes the hostile documents the request limits are
// tested and benchmarked against, so every test and bench/hostile send the
// same ones. It imports only the standard library.
package limittest

import (
	"fmt"
	"strings"
)

// FragmentBomb is query Q { ...F0 } where each fragment Fi spreads F(i+1)
// twice, and Fn selects leaf: 2^n expansions of leaf in about 60 bytes a
// level.
func FragmentBomb(n int, leaf string) string {
	var b strings.Builder
	b.WriteString("query Q { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { %s }\n", n, leaf)
	return b.String()
}

// Repeated is a query selecting field n times: aliased x0, x1, ... when
// alias is set. A %d in field is replaced by the index, so each copy can
// take different arguments.
func Repeated(n int, field string, alias bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		b.WriteString(" ")
		if alias {
			fmt.Fprintf(&b, "x%d: ", i)
		}
		if strings.Contains(field, "%d") {
			fmt.Fprintf(&b, field, i)
		} else {
			b.WriteString(field)
		}
	}
	b.WriteString(" }")
	return b.String()
}
