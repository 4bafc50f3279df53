package db

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Matcher finds which destination a text talks about. It is immutable and
// safe for concurrent use.
type Matcher struct {
	root *matchNode
}

// matchNode is a trie over folded words: a phrase is a path from the root,
// and the node it ends at names the destination it stands for.
type matchNode struct {
	next map[string]*matchNode
	// best is the destination whose phrase ends here, if any (the lowest
	// id when several share the phrase).
	best *matchTarget
}

type matchTarget struct {
	id      int64
	nameLen int
}

func (t *matchTarget) beats(o *matchTarget) bool {
	if o == nil {
		return true
	}
	if t.nameLen != o.nameLen {
		return t.nameLen > o.nameLen
	}
	return t.id < o.id
}

// NewMatcher indexes the names and slug words of dests.
func NewMatcher(dests []*Destination) *Matcher {
	m := &Matcher{root: &matchNode{}}
	for _, d := range dests {
		m.add(d.ID, foldWords(d.Name))
		m.add(d.ID, foldWords(strings.ReplaceAll(d.Slug, "-", " ")))
	}
	return m
}

// add indexes phrase as a way to name destination id. Its length is that
// of the phrase as matched, so the more specific of two overlapping
// matches wins: "Sky Bridge Café" over a slug "sky-bridge".
func (m *Matcher) add(id int64, words []string) {
	if len(words) == 0 {
		return
	}
	t := &matchTarget{id: id, nameLen: utf8.RuneCountInString(strings.Join(words, " "))}
	n := m.root
	for _, w := range words {
		child := n.next[w]
		if child == nil {
			if n.next == nil {
				n.next = make(map[string]*matchNode)
			}
			child = &matchNode{}
			n.next[w] = child
		}
		n = child
	}
	if t.beats(n.best) {
		n.best = t
	}
}

// Match finds the destination whose name (or the words of its slug)
// appears in text as whole words, case- and accent-insensitively; when
// several match, the longest name wins (ties: lowest id). A name's length
// is counted in folded runes, words joined by one space, and a match by
// slug words counts as long as those words.
func (m *Matcher) Match(text string) (id int64, ok bool) {
	words := foldWords(text)
	var best *matchTarget
	for i := range words {
		n := m.root
		for _, w := range words[i:] {
			if n = n.next[w]; n == nil {
				break
			}
			if n.best != nil && n.best.beats(best) {
				best = n.best
			}
		}
	}
	if best == nil {
		return 0, false
	}
	return best.id, true
}

// foldWords splits s into lower-case words of letters and digits with
// accents removed: "Pékan  RABU!" gives ["pekan", "rabu"].
func foldWords(s string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped, the word goes on
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words
}
