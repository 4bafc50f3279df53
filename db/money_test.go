package db

import (
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		ok   bool
	}{
		{"0", 0, true},
		{"12", 1200, true},
		{"12.5", 1250, true},
		{"12.05", 1205, true},
		{"-3.25", -325, true},
		{"80000.00", 8_000_000, true},
		{"3000000.99", 300_000_099, true},
		{"", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{"1.234", 0, false},
		{"1e5", 0, false},
		{"+1", 0, false},
		{"--1", 0, false},
		{"1,000", 0, false},
		{"1234567890123456", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMoney(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "12.5", "-3.25", "80000.00", "1e5", "-", ".", "999999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		// What parses prints back canonically and parses to the same value.
		str := m.String()
		again, err := ParseMoney(str)
		if err != nil || again != m {
			t.Fatalf("ParseMoney(%q) = %d; String %q parses to %d, %v", s, m, str, again, err)
		}
		if canon := canonicalDecimal(s); canon != str {
			t.Fatalf("ParseMoney(%q).String() = %q, want %q", s, str, canon)
		}
	})
}

// canonicalDecimal writes an accepted decimal with two decimals and no
// leading zeros, as Money.String does.
func canonicalDecimal(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac += strings.Repeat("0", 2-len(frac))
	if neg && (intPart != "0" || frac != "00") {
		return "-" + intPart + "." + frac
	}
	return intPart + "." + frac
}
