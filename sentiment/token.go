package sentiment

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

type kind uint8

const (
	kindWord  kind = iota // a word, phrase, emoji or emoticon
	kindPunct             // a clause boundary: . , ; : ? ! and the like
)

// token is one word of the text, folded into scratch.buf[start:end].
type token struct {
	start, end int32
	kind       kind
	caps       bool // written in capitals ("GREAT"), at least two letters
	neg        bool // negated by its own spelling ("xbest")
	sym        bool // an emoji or emoticon: words around it do not modify it
	skip       bool // consumed by a phrase that starts earlier
	atAll      bool // "langsung" or "at all" follows in the same clause
	e          entry
}

// scratch holds the per-call buffers; Score takes one from a pool so that
// scoring a short text does not allocate.
type scratch struct {
	buf  []byte  // folded text of all tokens
	toks []token // tokens in text order
	key  []byte  // phrase keys under construction
	excl int     // exclamation marks seen

	inWord       bool
	wordStart    int
	upper, lower int
}

// tokenize folds text (lower case, accents and compatibility forms removed,
// curly apostrophes straightened) and splits it into s.toks.
func (s *scratch) tokenize(text string) {
	s.buf, s.toks, s.key, s.excl = s.buf[:0], s.toks[:0], s.key[:0], 0
	s.inWord = false
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z':
				s.letter(c, false)
			case 'A' <= c && c <= 'Z':
				s.letter(c+'a'-'A', true)
			case '0' <= c && c <= '9':
				s.startWord()
				s.buf = append(s.buf, c)
			case c == '\'' || c == '-':
				s.joiner(c, text[i+1:])
			case (c == '.' || c == ',') && s.inWord && isDigit(text[i-1]) && i+1 < len(text) && isDigit(text[i+1]):
				s.buf = append(s.buf, c) // 1,200 and 165.5 stay one token
			case (c == ':' || c == ';' || c == '<' || c == '=') && !s.inWord:
				if n := emoticonLen(text[i:]); n > 0 {
					s.symbol(text[i : i+n])
					i += n
					continue
				}
				if c == ':' || c == ';' {
					s.punct(c)
				} else {
					s.endWord()
				}
			case c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '(' || c == ')':
				s.punct(c)
			default:
				s.endWord()
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\u2019' || r == '\u2018' || r == '\u02bc':
			s.joiner('\'', text[i+size:])
		case r == '\u2010' || r == '\u2011':
			s.joiner('-', text[i+size:])
		case r == '…' || r == '。' || r == '，' || r == '；' || r == '、':
			s.punct('.')
		case r == '！':
			s.punct('!')
		case r == '？':
			s.punct('?')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			s.foldRune(text[i:], r)
		case unicode.IsMark(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Sk, r):
			// accents written apart, variation selectors, joiners, skin tones
		case unicode.Is(unicode.So, r):
			s.symbol(text[i : i+size])
		default: // spaces, other punctuation and invalid bytes
			s.endWord()
		}
		i += size
	}
	s.endWord()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordStart(rest string) bool {
	r, _ := utf8.DecodeRuneInString(rest)
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func (s *scratch) startWord() {
	if !s.inWord {
		s.inWord, s.wordStart, s.upper, s.lower = true, len(s.buf), 0, 0
	}
}

func (s *scratch) letter(c byte, upper bool) {
	s.startWord()
	s.buf = append(s.buf, c)
	if upper {
		s.upper++
	} else {
		s.lower++
	}
}

// joiner keeps an apostrophe or hyphen inside a word ("couldn't",
// "mahal-mahal") and treats it as a separator anywhere else.
func (s *scratch) joiner(c byte, rest string) {
	if s.inWord && isWordStart(rest) {
		s.buf = append(s.buf, c)
		return
	}
	s.endWord()
}

// foldRune appends the folded form of the letter or digit r at the start of
// text, using its compatibility decomposition without the combining marks.
func (s *scratch) foldRune(text string, r rune) {
	s.startWord()
	d := norm.NFKD.PropertiesString(text).Decomposition()
	if d == nil {
		s.foldBase(r)
		return
	}
	for len(d) > 0 {
		b, n := utf8.DecodeRune(d)
		d = d[n:]
		if unicode.IsLetter(b) || unicode.IsDigit(b) {
			s.foldBase(b)
		}
	}
}

func (s *scratch) foldBase(r rune) {
	switch {
	case unicode.IsUpper(r):
		s.upper++
	case unicode.IsLower(r):
		s.lower++
	}
	s.buf = utf8.AppendRune(s.buf, unicode.ToLower(r))
}

func (s *scratch) endWord() {
	if !s.inWord {
		return
	}
	s.inWord = false
	s.addWord(s.wordStart, len(s.buf), s.upper >= 2 && s.lower == 0)
}

func (s *scratch) punct(c byte) {
	s.endWord()
	if c == '!' {
		s.excl++
	}
	if n := len(s.toks); n > 0 && s.toks[n-1].kind == kindPunct {
		return
	}
	s.toks = append(s.toks, token{start: int32(len(s.buf)), end: int32(len(s.buf)), kind: kindPunct})
}

// symbol adds an emoji or emoticon as a word of its own.
func (s *scratch) symbol(sym string) {
	s.endWord()
	start := len(s.buf)
	for i := 0; i < len(sym); i++ {
		c := sym[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		s.buf = append(s.buf, c)
	}
	s.toks = append(s.toks, token{start: int32(start), end: int32(len(s.buf)), sym: true, e: lexicon[string(s.buf[start:])]})
}

// emoticons are tried longest first.
var emoticons = [...]string{":'(", ":-)", ":-(", ":-D", ":-d", ":-/", ";-)", ":)", ":(", ":D", ":d", ":/", ";)", "<3", "=)", "=(", ":p", ":P"}

// emoticonLen reports the length of the emoticon text starts with, or 0.
// An emoticon must not run into a following letter or digit ("http://x").
func emoticonLen(text string) int {
	for _, e := range emoticons {
		if len(text) >= len(e) && text[:len(e)] == e {
			if len(text) > len(e) && (isWordStart(text[len(e):]) || text[len(e)] == '/') {
				return 0
			}
			return len(e)
		}
	}
	return 0
}

// addWord looks up the folded word in buf[start:end] and appends its token,
// splitting hyphenated compounds and trying light fallbacks for unknown words.
func (s *scratch) addWord(start, end int, caps bool) {
	w := s.buf[start:end]
	if e, ok := lexicon[string(w)]; ok {
		s.push(start, end, caps, e, false)
		return
	}
	if h := bytes.IndexByte(w, '-'); h > 0 {
		if bytes.Equal(w[:h], w[h+1:]) { // Malay reduplication: "mahal-mahal"
			s.addWord(start, start+h, caps)
			return
		}
		p := start
		for i := start; i <= end; i++ {
			if i == end || s.buf[i] == '-' {
				if i > p {
					s.addWord(p, i, caps)
				}
				p = i + 1
			}
		}
		return
	}
	n := len(w)
	switch {
	case n > 2 && w[n-2] == '\'' && w[n-1] == 's': // "langkawi's"
		s.addWord(start, end-2, caps)
		return
	case n > 3 && string(w[n-3:]) == "n't": // "wasn't"
		s.push(start, end, caps, entry{flags: fNegator}, false)
		return
	case n > 5 && string(w[n-3:]) == "nya": // "seronoknya"
		if e, ok := lexicon[string(w[:n-3])]; ok && e.valence != 0 {
			s.push(start, end, caps, e, false)
			return
		}
	case n > 3 && w[0] == 'x': // "xbest", "xsedap"
		if e, ok := lexicon[string(w[1:])]; ok && e.valence != 0 {
			s.push(start, end, caps, e, true)
			return
		}
	}
	if e, m, ok := s.unstretch(w); ok { // "bestttt", "goooood"
		s.push(start, start+m, caps, e, false)
		return
	}
	s.push(start, end, caps, entry{}, false)
}

// unstretch collapses runs of three or more equal letters in w, first to two
// letters and then to one, and looks the result up. On success it rewrites
// w in place and returns the new length.
func (s *scratch) unstretch(w []byte) (entry, int, bool) {
	stretched := false
	for i := 2; i < len(w); i++ {
		if w[i] == w[i-1] && w[i] == w[i-2] {
			stretched = true
			break
		}
	}
	if !stretched {
		return entry{}, 0, false
	}
	for keep := 2; keep >= 1; keep-- {
		k := s.key[:0]
		run := 0
		for i := range w {
			if i > 0 && w[i] == w[i-1] {
				run++
			} else {
				run = 1
			}
			if run <= keep {
				k = append(k, w[i])
			}
		}
		s.key = k
		if e, ok := lexicon[string(k)]; ok {
			return e, copy(w, k), true
		}
	}
	return entry{}, 0, false
}

func (s *scratch) push(start, end int, caps bool, e entry, neg bool) {
	s.toks = append(s.toks, token{start: int32(start), end: int32(end), caps: caps, neg: neg, e: e})
}

// text returns the folded text of t.
func (s *scratch) text(t *token) []byte { return s.buf[t.start:t.end] }
