package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

// marshalled is what a client receives of m: its bytes as they are after
// the transport's json.Marshal of the response.
func marshalled(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	out, err := json.Marshal(json.RawMessage(b.Bytes()))
	if err != nil {
		return "invalid JSON: " + err.Error()
	}
	return string(out)
}

// FuzzAppendQuoted: appendQuoted writes graphql.MarshalString's bytes as
// the transport sends them, whether it copies the string (no byte to
// escape) or escapes it.
func FuzzAppendQuoted(f *testing.F) {
	for _, s := range []string{"", "plain", "Sea View Chalet, Langkawi", `q"uote\back`, "tab\tnl", "\x00\x1f\x7f", "ü \u2028\u2029 <&>",
		"\u2027 \u202a \u20ac", "bad \xff\xfe utf8", "\xed\xa0\x80", "\xe2", "\xe2\x80", "tail \xe2\x80\xa8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendQuoted([]byte("x"), s)), "x"+marshalled(graphql.MarshalString(s)); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	})
}

// TestPlanAppenders: each appender of the compiled read path writes the
// bytes of the gqlgen or model marshaler it stands for.
func TestPlanAppenders(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "ünïcødé \u2028\u2029 <&>", "bad \xff\xfe utf8", "\xed\xa0\x80"} {
		if got, want := string(appendQuoted(nil, s)), marshalled(graphql.MarshalString(s)); got != want {
			t.Errorf("string %q: %s, want %s", s, got, want)
		}
	}
	for _, id := range []int64{0, 1, 42, math.MaxInt64, -7} {
		if got, want := string(appendID(nil, id)), marshalled(model.MarshalID(id)); got != want {
			t.Errorf("id %d: %s, want %s", id, got, want)
		}
	}
	for _, m := range []db.Money{0, 1, 9, 10, 99, 100, 101, 123456789, -1, -105, -100000, math.MaxInt64, math.MinInt64 + 1} {
		if got, want := string(appendDecimal(nil, m)), marshalled(model.MarshalDecimal(m)); got != want {
			t.Errorf("money %d: %s, want %s", m, got, want)
		}
	}
	kl := time.FixedZone("MYT", 8*3600)
	for _, tm := range []time.Time{{}, time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 123456789, kl), time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC)} {
		if got, want := string(appendTime(nil, tm)), marshalled(model.MarshalTime(tm)); got != want {
			t.Errorf("time %v: %s, want %s", tm, got, want)
		}
	}
	for _, f := range []float64{0, -0.0, 1, -1.5, 0.1, 1.0 / 3, 1e20, 1e21, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, 4.35, 100.7, math.Inf(1), math.NaN()} {
		var want bytes.Buffer
		werr := graphql.MarshalFloatContext(f).MarshalGQLContext(context.Background(), &want)
		got, err := appendFloat(nil, f)
		if (err != nil) != (werr != nil) || (err == nil && string(got) != want.String()) {
			t.Errorf("float %v: %s (%v), want %s (%v)", f, got, err, want.String(), werr)
		}
	}
	for _, i := range []int{0, -3, 1 << 40} {
		if got, want := string(appendInt(nil, i)), marshalled(graphql.MarshalInt(i)); got != want {
			t.Errorf("int %d: %s, want %s", i, got, want)
		}
	}
	for _, v := range []bool{true, false} {
		if got, want := string(appendBool(nil, v)), marshalled(graphql.MarshalBoolean(v)); got != want {
			t.Errorf("bool %v: %s, want %s", v, got, want)
		}
	}
}

// FuzzPlanAppenders: strings and floats, the open-ended inputs.
func FuzzPlanAppenders(f *testing.F) {
	f.Add("a\"b\\c\x01\xff", 1.5)
	f.Add("<a href='x'>&amp;\u2028\u2029\xe2\x80", 1.5)
	f.Fuzz(func(t *testing.T, s string, v float64) {
		if got, want := string(appendQuoted(nil, s)), marshalled(graphql.MarshalString(s)); got != want {
			t.Fatalf("string %q: %s, want %s", s, got, want)
		}
		var want bytes.Buffer
		werr := graphql.MarshalFloatContext(v).MarshalGQLContext(context.Background(), &want)
		got, err := appendFloat(nil, v)
		if (err != nil) != (werr != nil) || (err == nil && string(got) != want.String()) {
			t.Fatalf("float %v: %s, want %s", v, got, want.String())
		}
	})
}
