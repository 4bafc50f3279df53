package sentiment

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

const minAccuracy = 0.85

type example struct {
	label Label
	text  string
}

// mustReadEval reads testdata/eval.tsv.
func mustReadEval(tb testing.TB) []example {
	tb.Helper()
	return mustReadSet(tb, "testdata/eval.tsv")
}

// mustReadSet reads a labelled set: a header line, then label<TAB>text.
func mustReadSet(tb testing.TB, path string) []example {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	var out []example
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue // header
		}
		label, text, ok := strings.Cut(sc.Text(), "\t")
		l := Label(label)
		if !ok || (l != Positive && l != Neutral && l != Negative) || text == "" {
			tb.Fatalf("%s:%d: want LABEL<TAB>text, got %q", path, line, sc.Text())
		}
		out = append(out, example{l, text})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

var labels = []Label{Positive, Neutral, Negative}

// TestAccuracy scores the labelled sets in testdata. eval.tsv was written
// before the scorer; holdout.tsv after it, and the lexicon was not tuned on it.
func TestAccuracy(t *testing.T) {
	tests := map[string]struct {
		path string
		min  int // examples
	}{
		"eval":    {"testdata/eval.tsv", 320},
		"holdout": {"testdata/holdout.tsv", 100},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { testAccuracy(t, tc.path, tc.min) })
	}
}

func testAccuracy(t *testing.T, path string, minExamples int) {
	set := mustReadSet(t, path)
	if len(set) < minExamples {
		t.Fatalf("%s has %d examples, want at least %d", path, len(set), minExamples)
	}
	confusion := map[Label]map[Label]int{} // want -> got -> count
	for _, l := range labels {
		confusion[l] = map[Label]int{}
	}
	right := 0
	for _, ex := range set {
		score, got := Score(ex.text)
		confusion[ex.label][got]++
		if got == ex.label {
			right++
		} else {
			t.Logf("miss: want %-8s got %-8s %+.3f  %s", ex.label, got, score, ex.text)
		}
	}
	acc := float64(right) / float64(len(set))
	t.Logf("accuracy: %.1f %% (%d/%d)", 100*acc, right, len(set))
	for _, l := range labels {
		n := 0
		for _, c := range confusion[l] {
			n += c
		}
		t.Logf("  %-8s %.1f %% (%d/%d)", l, 100*float64(confusion[l][l])/float64(n), confusion[l][l], n)
	}
	if acc < minAccuracy {
		var b strings.Builder
		fmt.Fprintf(&b, "confusion matrix (rows: want, columns: got)\n%-9s", "")
		for _, got := range labels {
			fmt.Fprintf(&b, "%9s", got)
		}
		for _, want := range labels {
			fmt.Fprintf(&b, "\n%-9s", want)
			for _, got := range labels {
				fmt.Fprintf(&b, "%9d", confusion[want][got])
			}
		}
		t.Errorf("accuracy %.1f %% is below %.0f %%\n%s", 100*acc, 100*minAccuracy, b.String())
	}
}

func mustScore(tb testing.TB, text string) float64 {
	tb.Helper()
	s, l := Score(text)
	if l != LabelFor(s) {
		tb.Fatalf("Score(%q) = %v, %s: label disagrees with score", text, s, l)
	}
	return s
}

func TestLabel(t *testing.T) {
	tests := map[string]struct {
		text string
		want Label
	}{
		"empty":                  {"", Neutral},
		"factual":                {"The ferry leaves at 9am from Kuala Kedah jetty.", Neutral},
		"question":               {"Berapa harga tiket masuk ke Underwater World?", Neutral},
		"english positive":       {"The view from the Sky Bridge was stunning.", Positive},
		"malay positive":         {"Pantai Cenang memang cantik.", Positive},
		"english negative":       {"The toilets were dirty.", Negative},
		"malay negative":         {"Homestay ni kotor dan busuk.", Negative},
		"manglish":               {"Bes sgt!", Positive},
		"short negation":         {"x best", Negative},
		"joined negation":        {"xsedap", Negative},
		"reduplication":          {"Tak berbaloi bayar mahal-mahal", Negative},
		"phrase":                 {"Puas hati dengan servis", Positive},
		"negated phrase":         {"Tak puas hati dengan servis", Negative},
		"elongated":              {"bestttt", Positive},
		"accents":                {"Café was lovély", Positive},
		"fullwidth":              {"ｇｏｏｄ", Positive},
		"curly apostrophe":       {"It wasn’t good", Negative},
		"emoticon":               {"Langkawi :)", Positive},
		"sad emoticon":           {"Langkawi :(", Negative},
		"url is not an emoticon": {"see https://example.com/x", Neutral},
		"neutralised":            {"Tak sangka ramai orang", Neutral},
		"can't wait":             {"Can't wait to come back!", Positive},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if s := mustScore(t, tc.text); LabelFor(s) != tc.want {
				t.Errorf("Score(%q) = %+.3f (%s), want %s", tc.text, s, LabelFor(s), tc.want)
			}
		})
	}
}

func TestLabelFor(t *testing.T) {
	tests := map[string]struct {
		score float64
		want  Label
	}{
		"max":             {1, Positive},
		"threshold up":    {PositiveThreshold, Positive},
		"just below up":   {PositiveThreshold - 1e-9, Neutral},
		"zero":            {0, Neutral},
		"just above down": {NegativeThreshold + 1e-9, Neutral},
		"threshold down":  {NegativeThreshold, Negative},
		"min":             {-1, Negative},
	}
	for name, tc := range tests {
		if got := LabelFor(tc.score); got != tc.want {
			t.Errorf("%s: LabelFor(%v) = %s, want %s", name, tc.score, got, tc.want)
		}
	}
}

// TestNegation checks that a negator flips the sign of what follows it.
func TestNegation(t *testing.T) {
	tests := map[string]struct{ plain, negated string }{
		"not":          {"The food was good", "The food was not good"},
		"tak":          {"Pantai ni best", "Pantai ni tak best"},
		"tidak":        {"Air terjun cantik", "Air terjun tidak cantik"},
		"bukan":        {"Tempat ni menarik", "Tempat ni bukan menarik"},
		"never":        {"I recommend this homestay", "I never recommend this homestay"},
		"x":            {"Nasi lemak sedap", "Nasi lemak x sedap"},
		"contraction":  {"The staff were helpful", "The staff weren't helpful"},
		"of negative":  {"The beach was crowded", "The beach was not crowded"},
		"malay of neg": {"Saya menyesal datang", "Saya tak menyesal datang"},
		"two words on": {"A single complaint", "Not a single complaint"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, n := mustScore(t, tc.plain), mustScore(t, tc.negated)
			if p == 0 || math.Signbit(p) == math.Signbit(n) || n == 0 {
				t.Errorf("Score(%q) = %+.3f, Score(%q) = %+.3f: want opposite signs", tc.plain, p, tc.negated, n)
			}
		})
	}
	// Negation stops at a clause boundary.
	if s := mustScore(t, "Tak ada signal, tapi pemandangan cantik"); s <= 0 {
		t.Errorf("negation crossed a clause boundary: %+.3f", s)
	}
}

// TestModifier checks that intensifiers, capitals and "!" strengthen a word
// and diminishers weaken it, without changing its sign.
func TestModifier(t *testing.T) {
	tests := map[string]struct {
		base, modified string
		stronger       bool
	}{
		"very":            {"The view was good", "The view was very good", true},
		"really":          {"Staff were rude", "Staff were really rude", true},
		"so":              {"Kilim was beautiful", "Kilim was so beautiful", true},
		"sangat before":   {"Pantai cantik", "Pantai sangat cantik", true},
		"sangat after":    {"Nasi lemak sedap", "Nasi lemak sedap sangat", true},
		"sgt":             {"Bilik kotor", "Bilik sgt kotor", true},
		"amat":            {"Saya kecewa", "Saya amat kecewa", true},
		"gila":            {"Snorkeling best", "Snorkeling best gila", true},
		"gila with la":    {"Mahal", "Mahal la gila", true},
		"sungguh":         {"Pemandangan indah", "Pemandangan sungguh indah", true},
		"betul":           {"Kopi sedap", "Kopi sedap betul", true},
		"caps":            {"The sunset was amazing", "The sunset was AMAZING", true},
		"caps booster":    {"very good", "VERY good", true},
		"exclamation":     {"Langkawi is great", "Langkawi is great!!!", true},
		"exclamation neg": {"Worst homestay", "Worst homestay!!!", true},
		"slightly":        {"The room was expensive", "The room was slightly expensive", false},
		"agak":            {"Harga tiket mahal", "Harga tiket agak mahal", false},
		"sikit":           {"Harga mahal", "Harga mahal sikit", false},
		"a bit":           {"The queue was annoying", "The queue was a bit annoying", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, m := mustScore(t, tc.base), mustScore(t, tc.modified)
			if b == 0 || math.Signbit(b) != math.Signbit(m) {
				t.Fatalf("Score(%q) = %+.3f, Score(%q) = %+.3f: want the same non-zero sign", tc.base, b, tc.modified, m)
			}
			if got := math.Abs(m) > math.Abs(b); got != tc.stronger {
				t.Errorf("|Score(%q)| = %.3f, |Score(%q)| = %.3f: want stronger=%v", tc.modified, math.Abs(m), tc.base, math.Abs(b), tc.stronger)
			}
		})
	}
}

// TestContrast checks that the clause after "but" decides the label.
func TestContrast(t *testing.T) {
	tests := map[string]struct {
		text string
		want Label
	}{
		"but, then negative":     {"The beach was beautiful but the food was bad", Negative},
		"but, then positive":     {"The room was dirty but the view was amazing", Positive},
		"tapi, then positive":    {"Harga agak mahal tapi memang berbaloi", Positive},
		"tapi, then negative":    {"Pemandangan cantik tapi tandas kotor", Negative},
		"however, then negative": {"The guide was friendly, however the boat was filthy", Negative},
		"namun, then positive":   {"Jalan sesak, namun pantai sangat cantik", Positive},
		"same strength":          {"Good food but bad service", Negative},
		"reversed":               {"Bad service but good food", Positive},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if s := mustScore(t, tc.text); LabelFor(s) != tc.want {
				t.Errorf("Score(%q) = %+.3f (%s), want %s", tc.text, s, LabelFor(s), tc.want)
			}
		})
	}
}

func TestEmoji(t *testing.T) {
	tests := map[string]struct {
		text string
		want Label
	}{
		"heart eyes":          {"Pantai Cenang 😍", Positive},
		"smiling hearts":      {"Honeymoon 🥰", Positive},
		"smile":               {"😊", Positive},
		"thumbs up":           {"Pulau Payar 👍", Positive},
		"heart with selector": {"Langkawi ❤️", Positive},
		"fire":                {"Nasi kandar 🔥", Positive},
		"angry":               {"Cable car queue 😡", Negative},
		"vomit":               {"Toilet 🤮", Negative},
		"thumbs down":         {"Homestay 👎", Negative},
		"disappointed":        {"Tutup hari ni 😞", Negative},
		"crying":              {"Cancelled 😢", Negative},
		"poo":                 {"Service 💩", Negative},
		"skin tone":           {"Tour guide 👍🏽", Positive},
		"neutral emoji":       {"Pulau Payar 🏝️🐠", Neutral},
		"emoji beats words":   {"Makanan ok je 🤮🤮", Negative},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if s := mustScore(t, tc.text); LabelFor(s) != tc.want {
				t.Errorf("Score(%q) = %+.3f (%s), want %s", tc.text, s, LabelFor(s), tc.want)
			}
		})
	}
}

// texts returns the eval set plus random and awkward strings.
func texts(tb testing.TB) []string {
	var out []string
	for _, ex := range mustReadEval(tb) {
		out = append(out, ex.text)
	}
	out = append(out, "", " ", "!!!!!!!!", "\xff\xfe", "a\x00b", "--'--", "x", "X X X",
		strings.Repeat("BEST GILA!!! ", 2000), strings.Repeat("teruk ", 5000),
		strings.Repeat("not ", 100)+"good", "😍😍😍😍😍😍😍😍", ":):):)", "e\u0301\u0301\u0301")
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ !?.,'-:;()<3=😍😡👍❤️\u0301éÜ\u200dtakbestgila")
	for range 500 {
		n := r.IntN(80)
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		out = append(out, string(rs))
	}
	return out
}

func TestRange(t *testing.T) {
	for _, text := range texts(t) {
		s := mustScore(t, text)
		if math.IsNaN(s) || s < -1 || s > 1 {
			t.Errorf("Score(%q) = %v, want within [-1, 1]", text, s)
		}
	}
}

func TestDeterministic(t *testing.T) {
	all := texts(t)
	want := make([]float64, len(all))
	for i, text := range all {
		want[i] = mustScore(t, text)
	}
	// Again, concurrently, so that pooled buffers are shared and reused.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range all {
				i := (i + w*97) % len(all)
				if got, _ := Score(all[i]); got != want[i] {
					t.Errorf("Score(%q) = %v, then %v", all[i], want[i], got)
				}
			}
		})
	}
	wg.Wait()
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	text := "Nasi lemak kat Pekan Rabu sedap gila, tapi parking TERUK!!! 😡"
	Score(text) // warm the pool
	if n := testing.AllocsPerRun(100, func() { Score(text) }); n > 0 {
		t.Errorf("Score allocates %v times per call, want 0", n)
	}
}

func FuzzScore(f *testing.F) {
	for _, seed := range []string{
		"", "Pantai Cenang memang cantik gila!", "Not worth the money at all.",
		"WORST HOMESTAY EVER!!!", "Harga agak mahal, tapi berbaloi 😍",
		"x best la", "mahal-mahal", "can't wait :)", "\xff", "é\u0301-'",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s1, l1 := Score(text)
		s2, l2 := Score(text)
		if math.IsNaN(s1) || s1 < -1 || s1 > 1 {
			t.Fatalf("Score(%q) = %v, want within [-1, 1]", text, s1)
		}
		if l1 != LabelFor(s1) {
			t.Fatalf("Score(%q) = %v, %s: label disagrees with score", text, s1, l1)
		}
		if s1 != s2 || l1 != l2 {
			t.Fatalf("Score(%q) not deterministic: %v %s, then %v %s", text, s1, l1, s2, l2)
		}
	})
}

func BenchmarkScore(b *testing.B) {
	set := mustReadEval(b)
	bytes := 0
	for _, ex := range set {
		bytes += len(ex.text)
	}
	b.SetBytes(int64(bytes / len(set)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Score(set[i%len(set)].text)
		i++
	}
}
