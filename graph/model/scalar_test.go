package model

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
)

func TestUnmarshalDecimal(t *testing.T) {
	for _, c := range []struct {
		in   any
		want db.Money
		ok   bool
	}{
		{"250000", 250000_00, true}, {"12.5", 12_50, true}, {json.Number("0.10"), 10, true},
		{int64(7), 7_00, true}, {12.34, 12_34, true}, {99999999.99, 99999999_99, true},
		{"1.005", 0, false}, {"1e3", 0, false}, {"", 0, false}, {true, 0, false}, {" 1", 0, false},
	} {
		got, err := UnmarshalDecimal(c.in)
		var inputErr *db.InputError
		if c.ok && (err != nil || got != c.want) || !c.ok && !errors.As(err, &inputErr) {
			t.Errorf("UnmarshalDecimal(%#v) = %v, %v", c.in, got, err)
		}
	}
}

func TestUnmarshalID(t *testing.T) {
	for in, ok := range map[any]bool{"42": true, int64(7): true, json.Number("3"): true, "0": false, "-1": false, "abc": false, "4.5": false, 1.5: false} {
		_, err := UnmarshalID(in)
		var inputErr *db.InputError
		if ok != (err == nil) || !ok && !errors.As(err, &inputErr) {
			t.Errorf("UnmarshalID(%#v): %v", in, err)
		}
	}
}

func TestUnmarshalTime(t *testing.T) {
	got, err := UnmarshalTime("2026-11-22T10:00:00+08:00")
	if err != nil || got.Location().String() != "UTC" || got.Hour() != 2 {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := UnmarshalTime("yesterday"); err == nil {
		t.Error("accepted a malformed time")
	}
}
