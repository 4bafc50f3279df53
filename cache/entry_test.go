package cache

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	tests := map[string]struct {
		tags    []tagVersion
		payload []byte
		want    string
	}{
		"no tags, empty payload": {nil, nil, "\n"},
		"one tag":                {[]tagVersion{{"all", "0123456789abcdef"}}, []byte(`{"a":1}`), "all 0123456789abcdef\n{\"a\":1}"},
		"two tags": {
			[]tagVersion{{"all", "1"}, {"property:42", "2"}}, []byte("x"),
			"all 1 property:42 2\nx",
		},
		"payload with newlines and spaces": {
			[]tagVersion{{"a.b_c-d", "v"}}, []byte("line 1\nline 2 \n"),
			"a.b_c-d v\nline 1\nline 2 \n",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := encodeEntry(tt.tags, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("encode = %q, want %q", b, tt.want)
			}
			tags, payload, err := decodeEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tags, tt.tags) || !bytes.Equal(payload, tt.payload) {
				t.Fatalf("decode = %v %q, want %v %q", tags, payload, tt.tags, tt.payload)
			}
		})
	}
}

func TestEncodeEntryRejects(t *testing.T) {
	tests := map[string][]tagVersion{
		"space in tag":       {{"a b", "1"}},
		"upper case":         {{"Property", "1"}},
		"newline in version": {{"a", "1\n"}},
		"empty tag":          {{"", "1"}},
		"empty version":      {{"a", ""}},
		"unsorted":           {{"b", "1"}, {"a", "1"}},
		"duplicate":          {{"a", "1"}, {"a", "2"}},
	}
	for name, tags := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := encodeEntry(tags, nil); err == nil {
				t.Fatal("encodeEntry succeeded")
			}
		})
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	for _, raw := range []string{"", "no newline", "a\n", "a 1 b\n", "a  1\n", "A 1\n", " \n", "a 1 \n"} {
		if _, _, err := decodeEntry([]byte(raw)); err == nil {
			t.Errorf("decodeEntry(%q) succeeded", raw)
		}
	}
}

// FuzzEntry checks that decoding never panics, that whatever decodes
// re-encodes to the same bytes when its tags are canonical, and that encode
// then decode returns what went in.
func FuzzEntry(f *testing.F) {
	f.Add([]byte("all 0123456789abcdef\npayload"), "all property:1 user.2", "v1", []byte("p"))
	f.Add([]byte("\n"), "", "", []byte{})
	f.Add([]byte("a 1 b 2\n\n\n"), "x", "y z", []byte("\n"))
	f.Fuzz(func(t *testing.T, raw []byte, tagList, version string, payload []byte) {
		// Garbage must not panic, and what decodes is well-formed.
		if tags, p, err := decodeEntry(raw); err == nil {
			for _, tv := range tags {
				if !validToken(tv.Tag) || !validToken(tv.Version) {
					t.Fatalf("decoded invalid pair %q", tv)
				}
			}
			if !bytes.HasSuffix(raw, p) {
				t.Fatalf("payload %q is not the tail of %q", p, raw)
			}
			if slices.IsSortedFunc(tags, func(a, b tagVersion) int { return strings.Compare(a.Tag, b.Tag) }) &&
				len(slices.CompactFunc(slices.Clone(tags), func(a, b tagVersion) bool { return a.Tag == b.Tag })) == len(tags) {
				again, err := encodeEntry(tags, p)
				if err != nil || !bytes.Equal(again, raw) {
					t.Fatalf("re-encode of %q = %q, %v", raw, again, err)
				}
			}
		}

		// Round trip of valid input.
		var tags []tagVersion
		for i, tag := range strings.Fields(tagList) {
			if !validToken(tag) || !validToken(version) {
				return
			}
			tags = append(tags, tagVersion{tag, version + strings.Repeat("x", i)})
		}
		slices.SortFunc(tags, func(a, b tagVersion) int { return strings.Compare(a.Tag, b.Tag) })
		tags = slices.CompactFunc(tags, func(a, b tagVersion) bool { return a.Tag == b.Tag })
		b, err := encodeEntry(tags, payload)
		if err != nil {
			t.Fatalf("encode %v: %v", tags, err)
		}
		gotTags, gotPayload, err := decodeEntry(b)
		if err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		if len(gotTags) != len(tags) || (len(tags) > 0 && !slices.Equal(gotTags, tags)) || !bytes.Equal(gotPayload, payload) {
			t.Fatalf("round trip: got %v %q, want %v %q", gotTags, gotPayload, tags, payload)
		}
	})
}

// decodedValid is validEntry by decoding the header, as it was written
// before it read the header in place.
func decodedValid(raw []byte, tags []string, versions map[string]string) ([]byte, bool) {
	if raw == nil {
		return nil, false
	}
	hdr, payload, err := decodeEntry(raw)
	if err != nil || len(hdr) != len(tags) {
		return nil, false
	}
	for j, tv := range hdr {
		if tv.Tag != tags[j] || tv.Version != versions[tv.Tag] {
			return nil, false
		}
	}
	return payload, true
}

// FuzzValidEntry: reading a header in place answers as decoding it does.
func FuzzValidEntry(f *testing.F) {
	f.Add([]byte("all v1 property:1 v2\n{}"), "all property:1", "v1 v2")
	f.Add([]byte("all v1\n"), "all", "v1")
	f.Add([]byte("all v1 property:1 v2\n"), "all property:1", "v1 v3")
	f.Add([]byte("all v1  \n"), "all", "v1")
	f.Add([]byte("\n"), "", "")
	f.Add([]byte("all v1"), "all", "v1")
	f.Fuzz(func(t *testing.T, raw []byte, tagList, versionList string) {
		tags := strings.Fields(tagList)
		slices.Sort(tags)
		tags = slices.Compact(tags)
		vs := strings.Fields(versionList)
		versions := map[string]string{}
		for i, tag := range tags {
			if i < len(vs) {
				versions[tag] = vs[i]
			}
		}
		got, ok := validEntry(raw, tags, versions)
		want, wantOK := decodedValid(raw, tags, versions)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("validEntry(%q, %q, %v) = %q, %v; decoding says %q, %v", raw, tags, versions, got, ok, want, wantOK)
		}
	})
}
