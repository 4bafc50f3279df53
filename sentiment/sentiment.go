package sentiment

import (
	"math"
	"sync"
)

// Label classifies a score.
type Label string

const (
	Positive Label = "POSITIVE"
	Neutral  Label = "NEUTRAL"
	Negative Label = "NEGATIVE"
)

// Label thresholds, as in VADER: a score at or above PositiveThreshold is
// Positive, at or below NegativeThreshold Negative, and Neutral in between.
const (
	PositiveThreshold = 0.05
	NegativeThreshold = -0.05
)

// Scoring constants, after VADER (Hutto & Gilbert, 2014).
const (
	negScalar      = -0.74 // a negated word keeps 74 % of its weight, sign flipped
	atAllScalar    = 1.2   // "tak sedap langsung", "not good at all"
	capsIncr       = 0.733 // added to the magnitude of a word in capitals
	exclIncr       = 0.292 // added to the magnitude of the text per "!"
	maxExcl        = 4
	contrastBefore = 0.5 // weight of words before the last "but"
	contrastAfter  = 1.5 // weight of words after it
	alpha          = 15  // normalisation: x / sqrt(x*x + alpha)
	window         = 3   // words looked back for negators and intensifiers
)

// decay weakens an intensifier by its distance from the word it modifies.
var decay = [window]float64{1, 0.95, 0.9}

var pool = sync.Pool{New: func() any {
	return &scratch{buf: make([]byte, 0, 512), toks: make([]token, 0, 64), key: make([]byte, 0, 64)}
}}

// maxPooled bounds the buffers kept for reuse after scoring a very long text.
const maxPooled = 1 << 16

// Score rates text from -1 (negative) to 1 (positive) and labels it.
func Score(text string) (float64, Label) {
	s := pool.Get().(*scratch)
	s.tokenize(text)
	score := s.score()
	if cap(s.buf) <= maxPooled && cap(s.toks) <= maxPooled {
		pool.Put(s)
	}
	return score, LabelFor(score)
}

// LabelFor returns the label of a score, using PositiveThreshold and
// NegativeThreshold.
func LabelFor(score float64) Label {
	switch {
	case score >= PositiveThreshold:
		return Positive
	case score <= NegativeThreshold:
		return Negative
	default:
		return Neutral
	}
}

// score combines the valences of s.toks into a normalised score.
func (s *scratch) score() float64 {
	s.matchPhrases()
	toks := s.toks
	// One pass from the end finds the last contrast word and marks the
	// words followed by "langsung" or "at all" within their clause.
	contrast, atAll := -1, false
	for i := len(toks) - 1; i >= 0; i-- {
		t := &toks[i]
		if t.skip {
			continue
		}
		if t.kind == kindPunct || t.e.flags&fContrast != 0 {
			if contrast < 0 && t.kind == kindWord {
				contrast = i
			}
			atAll = false
			continue
		}
		t.atAll = atAll
		if t.e.flags&fAtAll != 0 {
			atAll = true
		}
	}
	sum := 0.0
	for i := range toks {
		t := &toks[i]
		if t.skip || t.kind != kindWord || t.e.valence == 0 {
			continue
		}
		sum += s.valence(i) * contrastWeight(i, contrast)
	}
	if sum != 0 && s.excl > 0 {
		sum += math.Copysign(float64(min(s.excl, maxExcl))*exclIncr, sum)
	}
	score := sum / math.Sqrt(sum*sum+alpha)
	if math.IsNaN(score) {
		return 0
	}
	return max(-1, min(1, score))
}

func contrastWeight(i, contrast int) float64 {
	switch {
	case contrast < 0:
		return 1
	case i < contrast:
		return contrastBefore
	default:
		return contrastAfter
	}
}

// valence returns the valence of toks[i] after capitals, intensifiers,
// diminishers and negation around it.
func (s *scratch) valence(i int) float64 {
	toks := s.toks
	t := &toks[i]
	v := t.e.valence
	mag := math.Abs(v)
	if t.caps {
		mag += capsIncr
	}
	if t.sym {
		return math.Copysign(mag, v)
	}
	negated := t.neg
	// Negators and intensifiers before the word, within its clause.
	for j, n := i-1, 0; j >= 0 && n < window; j-- {
		p := &toks[j]
		if p.skip {
			continue
		}
		if p.kind == kindPunct || p.e.flags&fContrast != 0 {
			break
		}
		if p.e.flags&fPre != 0 {
			mag += boost(p) * decay[n]
		}
		if p.e.flags&fNegator != 0 {
			negated = true
		}
		n++
	}
	// Malay intensifiers after the word: "sedap gila", "cantik sangat".
	for j, n := i+1, 0; j < len(toks) && n < 2; j++ {
		q := &toks[j]
		if q.skip || q.e.flags&fParticle != 0 {
			continue
		}
		if q.kind == kindPunct || q.e.flags&fPost == 0 {
			break
		}
		mag += boost(q)
		n++
	}
	mag = max(mag, 0.1*math.Abs(v)) // a diminisher weakens, never flips
	v = math.Copysign(mag, v)
	if negated {
		v *= negScalar
		if t.atAll {
			v *= atAllScalar
		}
	}
	return v
}

// boost returns the intensifier scalar of t, stronger when written in capitals.
func boost(t *token) float64 {
	b := t.e.boost
	if t.caps && b != 0 {
		b += math.Copysign(capsIncr, b)
	}
	return b
}

// matchPhrases replaces the first word of each known phrase with the phrase
// entry and marks the other words as consumed. Longer phrases win.
func (s *scratch) matchPhrases() {
	toks := s.toks
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		if t.kind != kindWord || t.e.flags&fPhrase == 0 {
			continue
		}
		var next [2]int
		n := 0
		for j := i + 1; j < len(toks) && n < len(next) && toks[j].kind == kindWord; j++ {
			next[n] = j
			n++
		}
		for k := n; k >= 1; k-- {
			key := append(s.key[:0], s.text(t)...)
			for _, j := range next[:k] {
				key = append(key, ' ')
				key = append(key, s.text(&toks[j])...)
			}
			s.key = key
			if e, ok := phrases[string(key)]; ok {
				t.e, t.neg = e, false
				for _, j := range next[:k] {
					toks[j].skip = true
				}
				i = next[k-1]
				break
			}
		}
	}
}
