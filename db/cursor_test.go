package db

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var cursorOrders = []string{string(OrderNewest), string(OrderPriceAsc), string(OrderPriceDesc), orderDestinationName, orderPostsNewest}

func TestCursor(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		order string
		ok    bool
	}{
		{"round trip", encodeCursor(cursor{Order: "NEWEST", Int: 1749983400123456, ID: 7}), "NEWEST", true},
		{"name key", encodeCursor(cursor{Order: orderDestinationName, Str: "Pékan Rabu", ID: 2}), orderDestinationName, true},
		{"other order", encodeCursor(cursor{Order: "PRICE_ASC", Int: 100, ID: 7}), "PRICE_DESC", false},
		{"other list", encodeCursor(cursor{Order: orderPostsNewest, Int: 100, ID: 7}), "NEWEST", false},
		{"empty", "", "NEWEST", false},
		{"not base64", "***", "NEWEST", false},
		{"padded base64", encodeCursor(cursor{Order: "NEWEST", ID: 1}) + "==", "NEWEST", false},
		{"truncated", encodeCursor(cursor{Order: "NEWEST", Int: 1 << 40, ID: 1 << 40})[:8], "NEWEST", false},
		{"order length past the end", "_w", "NEWEST", false},
		{"invalid UTF-8 key", encodeCursor(cursor{Order: orderDestinationName, Str: "\xff", ID: 1}), orderDestinationName, false},
		{"NUL in key", encodeCursor(cursor{Order: orderDestinationName, Str: "a\x00b", ID: 1}), orderDestinationName, false},
		{"name key of MaxName", encodeCursor(cursor{Order: orderDestinationName, Str: strings.Repeat("😀", MaxName), ID: 1}), orderDestinationName, true},
		{"name key too long", encodeCursor(cursor{Order: orderDestinationName, Str: strings.Repeat("a", MaxName+1), ID: 1}), orderDestinationName, false},
		{"longer than MaxCursor", strings.Repeat("A", MaxCursor+1), "NEWEST", false},
		{"time before year 1", encodeCursor(cursor{Order: "NEWEST", Int: minTime.UnixMicro() - 1, ID: 1}), "NEWEST", false},
		{"time after year 9999", encodeCursor(cursor{Order: orderPostsNewest, Int: maxTime.UnixMicro() + 1, ID: 1}), orderPostsNewest, false},
		{"negative price", encodeCursor(cursor{Order: "PRICE_ASC", Int: -1, ID: 1}), "PRICE_ASC", false},
		{"price of MaxMoney", encodeCursor(cursor{Order: "PRICE_DESC", Int: int64(MaxMoney), ID: 1}), "PRICE_DESC", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeCursor(tt.in, tt.order)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var in *InputError
			if !errors.As(err, &in) || in.Field != "after" {
				t.Fatalf("err = %v, want an InputError on after", err)
			}
		})
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(uint8(0), int64(1749983400123456), "", int64(7), "")
	f.Add(uint8(3), int64(0), "Pantai Cenang", int64(1), "Bk5FV0VTVIDo26645psGAg")
	f.Add(uint8(1), int64(-5), "", int64(-1), "%%%")
	f.Add(uint8(1), int64(5), "", int64(-1), "")
	f.Fuzz(func(t *testing.T, order uint8, key int64, str string, id int64, garbage string) {
		// Garbage never panics, and is either rejected as input or decodes
		// to a cursor that encodes back to the same string.
		for _, o := range cursorOrders {
			c, err := decodeCursor(garbage, o)
			if err != nil {
				var in *InputError
				if !errors.As(err, &in) || in.Field != "after" {
					t.Fatalf("decode(%q) err = %v, want an InputError on after", garbage, err)
				}
				continue
			}
			if c.Order != o {
				t.Fatalf("decode(%q, %s) gave order %q", garbage, o, c.Order)
			}
		}
		x := cursor{Order: cursorOrders[int(order)%len(cursorOrders)], Int: key, Str: str, ID: id}
		s := encodeCursor(x)
		got, err := decodeCursor(s, x.Order)
		if !utf8.ValidString(str) || strings.IndexByte(str, 0) >= 0 || utf8.RuneCountInString(str) > MaxName ||
			!x.keyInRange() || len(s) > MaxCursor {
			if err == nil {
				t.Fatalf("decode accepted %+v", x)
			}
			return
		}
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", x, err)
		}
		if got != x {
			t.Fatalf("decode(encode(%+v)) = %+v", x, got)
		}
	})
}
