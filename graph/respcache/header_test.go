package respcache

import "testing"

// If-None-Match names an ETag in a list, weakly or not, or with *.
func TestETagMatches(t *testing.T) {
	for list, want := range map[string]bool{
		`"a"`:        true,
		`W/"a"`:      true,
		`"b", W/"a"`: true,
		`*`:          true,
		`"b"`:        false,
		`"ab"`:       false,
		``:           false,
	} {
		if got := etagMatches(list, `"a"`); got != want {
			t.Errorf("%q: %v, want %v", list, got, want)
		}
	}
}
