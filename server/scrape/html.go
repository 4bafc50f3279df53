package scrape

import (
	"html"
	"strings"
	"unicode"
)

// blockTags are the elements that separate words: the text on either side
// of one of them never runs together ("Pantai<br>Cenang").
var blockTags = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "br": true,
	"dd": true, "div": true, "dl": true, "dt": true, "figcaption": true, "figure": true,
	"footer": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"header": true, "hr": true, "img": true, "li": true, "main": true, "nav": true,
	"ol": true, "p": true, "pre": true, "section": true, "table": true, "td": true,
	"th": true, "tr": true, "ul": true,
}

// rawTextTags are the elements whose content is not text.
var rawTextTags = map[string]bool{"script": true, "style": true}

// stripHTML returns the plain text of an HTML fragment: tags, comments and
// declarations removed, the content of script and style dropped, entities
// decoded, invalid UTF-8 and NUL bytes dropped, other control characters
// turned into spaces, and every run of white space turned into one space. A '<' that cannot start a tag is text
// ("a < b", "<3"); a tag left open at the end is dropped, as browsers do.
func stripHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	// The last quotes of s: a quote after which no closing one follows is
	// not a quote. Knowing it keeps the scan linear on hostile input.
	lastQuote := [2]int{strings.LastIndexByte(s, '"'), strings.LastIndexByte(s, '\'')}
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "!--") {
			end := strings.Index(rest[3:], "-->")
			if end < 0 {
				break
			}
			i += 1 + 3 + end + 3
			continue
		}
		if rest == "" || !(isASCIILetter(rest[0]) || rest[0] == '/' || rest[0] == '!' || rest[0] == '?') {
			b.WriteByte('<')
			i++
			continue
		}
		end := tagEnd(s, i+1, lastQuote)
		if end < 0 {
			break
		}
		name, closing := tagName(s[i+1 : end])
		i = end + 1
		if blockTags[name] {
			b.WriteByte(' ')
		}
		if rawTextTags[name] && !closing {
			// Skip to the closing tag, which the next turn removes.
			k := indexClosingTag(s[i:], name)
			if k < 0 {
				break
			}
			i += k
		}
	}
	return cleanSpace(html.UnescapeString(b.String()))
}

// cleanSpace drops invalid UTF-8 and NUL bytes from s (neither can be
// stored), turns the other control characters into spaces and collapses
// white space to single spaces, trimmed.
func cleanSpace(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == 0:
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// tagEnd returns the index in s of the '>' that closes the tag whose text
// starts at from, skipping quoted attribute values, or -1 when none does.
// A quote with no closing quote after it (lastQuote holds the last double
// and single quote of s) does not open a value, so every byte scanned is
// either consumed by the tag or past the end.
func tagEnd(s string, from int, lastQuote [2]int) int {
	var quote byte
	for i := from; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' && i < lastQuote[0], c == '\'' && i < lastQuote[1]:
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// tagName returns the lower-case ASCII name of a tag's text ("/P class=x"
// gives "p", true). Declarations and processing instructions have no name.
func tagName(tag string) (name string, closing bool) {
	if strings.HasPrefix(tag, "/") {
		tag, closing = tag[1:], true
	}
	n := 0
	for n < len(tag) && (isASCIILetter(tag[n]) || tag[n] >= '0' && tag[n] <= '9') {
		n++
	}
	return strings.ToLower(tag[:n]), closing
}

// indexClosingTag returns the index in s of "</name" (ASCII case-insensitive)
// or -1.
func indexClosingTag(s, name string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return -1
		}
		i += j
		if k := i + 2 + len(name); k <= len(s) && strings.EqualFold(s[i+2:k], name) {
			return i
		}
		i += 2
	}
}
