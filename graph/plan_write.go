package graph

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/kedahpulse/kedahpulse/db"
)

// Writing: the bytes a client receives of gqlgen's marshalers
// (graphql.MarshalString, MarshalInt, MarshalBoolean, MarshalFloatContext
// and model's MarshalID, MarshalDecimal, MarshalTime) once the transport's
// json.Marshal of the response has compacted them (which escapes <, >, &,
// U+2028 and U+2029 in strings), appended to the run's buffer without a
// marshaler value per field. TestPlanAppenders compares each with its
// marshaler's bytes passed through json.Marshal.

const (
	encodeHex      = "0123456789ABCDEF" // gqlgen's, for control characters
	encodeHexLower = "0123456789abcdef" // encoding/json's, for its HTML escapes
)

// appendQuoted is graphql.MarshalString's writeQuotedString followed by
// encoding/json's HTML escaping. A string with no byte either escapes
// (nor 0xE2, which starts U+2028 and U+2029) is copied as it is.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if quotedSpecial[s[i]] {
			return appendEscaped(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// quotedSpecial marks the bytes after which appendQuoted may write
// something else than the byte.
var quotedSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for _, c := range []byte{'"', '\\', '<', '>', '&', 0xE2} {
		t[c] = true
	}
	return t
}()

// appendEscaped is appendQuoted for a string that may need escapes.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	b = append(b, '"')
	for i, c := range s {
		switch c {
		case '<', '>', '&':
			b = append(b, s[start:i]...)
			b = append(b, `\u00`...)
			b = append(b, encodeHexLower[c>>4], encodeHexLower[c&0xf])
			start = i + 1
			continue
		case '\u2028', '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, encodeHexLower[c&0xf])
			start = i + 3
			continue
		}
		if c < 0x20 || c == '\\' || c == '"' {
			b = append(b, s[start:i]...)
			switch c {
			case '\t':
				b = append(b, `\t`...)
			case '\r':
				b = append(b, `\r`...)
			case '\n':
				b = append(b, `\n`...)
			case '\\':
				b = append(b, `\\`...)
			case '"':
				b = append(b, `\"`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, encodeHex[c>>4], encodeHex[c&0xf])
			}
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendID is model.MarshalID: the decimal id, quoted.
func appendID(b []byte, id int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, id, 10)
	return append(b, '"')
}

// appendDecimal is model.MarshalDecimal: db.Money.String, quoted.
func appendDecimal(b []byte, m db.Money) []byte {
	b = append(b, '"')
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	b = strconv.AppendInt(b, int64(m/100), 10)
	b = append(b, '.')
	if m%100 < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(m%100), 10)
	return append(b, '"')
}

// appendTime is model.MarshalTime: RFC 3339 in UTC, quoted.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

var errFloat = errors.New("cannot marshal infinite no NaN float values")

// appendFloat is graphql.MarshalFloatContext: fmt's %g, which is the
// shortest 'g' formatting; infinities and NaN are errors.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, errFloat
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), nil
}

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

func appendInt(b []byte, i int) []byte { return strconv.AppendInt(b, int64(i), 10) }

func (run *planRun) key(i int, f *planField) {
	if i > 0 {
		run.buf = append(run.buf, ',')
	}
	run.buf = append(run.buf, f.key...)
}

func (run *planRun) float(v float64) {
	var err error
	if run.buf, err = appendFloat(run.buf, v); err != nil && run.err == nil {
		run.err = err
	}
}

func (run *planRun) optFloat(v *float64) {
	if v == nil {
		run.null()
		return
	}
	run.float(*v)
}

func (run *planRun) null() { run.buf = append(run.buf, "null"...) }

// list writes a list of n values, the j-th by elem(j).
func (run *planRun) list(n int, elem func(j int)) {
	run.buf = append(run.buf, '[')
	for j := range n {
		if j > 0 {
			run.buf = append(run.buf, ',')
		}
		elem(j)
	}
	run.buf = append(run.buf, ']')
}

func (run *planRun) optStr(s *string) {
	if s == nil {
		run.null()
		return
	}
	run.str(*s)
}
func (run *planRun) str(s string)      { run.buf = appendQuoted(run.buf, s) }
func (run *planRun) typename(t string) { run.str(t) }

func (run *planRun) writeQuery(fields []*planField) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("Query")
		case "properties":
			run.writeConnection(f.children, "PropertyConnection", "PropertyEdge", run.fields[f.idx].page, nodeProperty)
		case "destinations":
			run.writeConnection(f.children, "DestinationConnection", "DestinationEdge", run.fields[f.idx].page, nodeDestination)
		case "property":
			if p := run.props[run.fields[f.idx].root]; p != nil {
				run.writeProperty(f.children, p)
			} else {
				run.null()
			}
		case "destination":
			if d := run.dests[run.fields[f.idx].root]; d != nil && run.fields[f.idx].root != 0 {
				run.writeDestination(f.children, d)
			} else {
				run.null()
			}
		case "topDestinations":
			ranks := run.fields[f.idx].ranks
			run.list(len(ranks), func(j int) { run.writeRank(f.children, ranks[j]) })
		case "sentimentSummary":
			run.writeSentiment(f.children, run.fields[f.idx].summary)
		case "posts":
			run.writePosts(f.children, run.fields[f.idx].posts)
		case "trends":
			trends := run.fields[f.idx].trends
			run.list(len(trends), func(j int) { run.writeTrend(f.children, trends[j]) })
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writeRank(fields []*planField, rk *db.DestinationRank) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("DestinationRank")
		case "rank":
			run.buf = appendInt(run.buf, rk.Rank)
		case "mentions":
			run.buf = appendInt(run.buf, rk.Mentions)
		case "averageScore":
			run.float(rk.AverageScore)
		case "destination":
			run.writeDestination(f.children, run.dests[rk.DestinationID])
		}
	}
	run.buf = append(run.buf, '}')
}

// nodeKind is the type of a connection's nodes.
type nodeKind bool

const (
	nodeProperty    nodeKind = false
	nodeDestination nodeKind = true
)

// exists reports whether the node of id was loaded: the edge of a row
// deleted since the page was read is left out, as the resolvers do.
func (run *planRun) exists(kind nodeKind, id int64) bool {
	if kind == nodeDestination {
		return run.dests[id] != nil
	}
	return run.props[id] != nil
}

func (run *planRun) writeNode(kind nodeKind, fields []*planField, id int64) {
	if kind == nodeDestination {
		run.writeDestination(fields, run.dests[id])
	} else {
		run.writeProperty(fields, run.props[id])
	}
}

// writeConnection writes a page as a connection.
func (run *planRun) writeConnection(fields []*planField, typ, edgeTyp string, page *db.IDPage, kind nodeKind) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename(typ)
		case "totalCount":
			run.buf = appendInt(run.buf, page.TotalCount)
		case "pageInfo":
			run.writePageInfo(f.children, page.HasNext, page.Cursors)
		case "edges":
			run.buf = append(run.buf, '[')
			n := 0
			for j, id := range page.IDs {
				if !run.exists(kind, id) {
					continue
				}
				if n > 0 {
					run.buf = append(run.buf, ',')
				}
				n++
				run.writeEdge(f.children, edgeTyp, page.Cursors[j], id, kind)
			}
			run.buf = append(run.buf, ']')
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writeEdge(fields []*planField, typ, cursor string, id int64, kind nodeKind) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename(typ)
		case "cursor":
			run.str(cursor)
		case "node":
			run.writeNode(kind, f.children, id)
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writePageInfo(fields []*planField, hasNext bool, cursors []string) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("PageInfo")
		case "hasNextPage":
			run.buf = appendBool(run.buf, hasNext)
		case "endCursor":
			if n := len(cursors); n > 0 {
				run.str(cursors[n-1])
			} else {
				run.null()
			}
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writeProperty(fields []*planField, p *db.Property) {
	run.writeObject(unsafe.Pointer(p), fields, func(f *planField) {
		switch f.Name {
		case "__typename":
			run.typename("Property")
		case "id":
			run.buf = appendID(run.buf, p.ID)
		case "title":
			run.str(p.Title)
		case "description":
			run.str(p.Description)
		case "price":
			run.buf = appendDecimal(run.buf, p.Price)
		case "location":
			run.str(p.Location)
		case "createdAt":
			run.buf = appendTime(run.buf, p.CreatedAt)
		case "updatedAt":
			run.buf = appendTime(run.buf, p.UpdatedAt)
		}
	}, func(f *planField) { // destination
		run.writeDestinationOf(f.children, p.DestinationID)
	})
}

func (run *planRun) writeDestination(fields []*planField, d *db.Destination) {
	run.writeObject(unsafe.Pointer(d), fields, func(f *planField) {
		switch f.Name {
		case "__typename":
			run.typename("Destination")
		case "id":
			run.buf = appendID(run.buf, d.ID)
		case "slug":
			run.str(d.Slug)
		case "name":
			run.str(d.Name)
		case "city":
			run.str(d.City)
		case "category":
			run.str(marshalNDestinationCategory2githubᚗcomᚋkedahpulseᚋkedahpulseᚋdbᚐCategory[d.Category])
		case "description":
			run.str(d.Description)
		case "latitude":
			run.optFloat(d.Latitude)
		case "longitude":
			run.optFloat(d.Longitude)
		case "createdAt":
			run.buf = appendTime(run.buf, d.CreatedAt)
		case "updatedAt":
			run.buf = appendTime(run.buf, d.UpdatedAt)
		}
	}, func(f *planField) {
		switch f.Name {
		case "properties":
			run.buf = append(run.buf, '[')
			n := 0
			for _, id := range run.destProps[run.destPropsKey(f, d)] {
				p := run.props[id]
				if p == nil {
					continue
				}
				if n > 0 {
					run.buf = append(run.buf, ',')
				}
				n++
				run.writeProperty(f.children, p)
			}
			run.buf = append(run.buf, ']')
		case "sentiment":
			run.writeSentiment(f.children, run.sentiments[run.sentimentKey(f, d)])
		case "trend":
			run.writeTrend(f.children, run.trends[run.sentimentKey(f, d)])
		}
	})
}

// writePosts writes a page of posts as a connection.
func (run *planRun) writePosts(fields []*planField, page *db.PostPage) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("PostConnection")
		case "totalCount":
			run.buf = appendInt(run.buf, page.TotalCount)
		case "pageInfo":
			run.writePageInfo(f.children, page.HasNext, page.Cursors)
		case "edges":
			run.list(len(page.Posts), func(j int) { run.writePostEdge(f.children, page.Cursors[j], page.Posts[j]) })
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writePostEdge(fields []*planField, cursor string, p *db.Post) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("PostEdge")
		case "cursor":
			run.str(cursor)
		case "node":
			run.writePost(f.children, p)
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writePost(fields []*planField, p *db.Post) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("Post")
		case "id":
			run.buf = appendID(run.buf, p.ID)
		case "source":
			run.str(p.Source)
		case "externalId":
			run.str(p.ExternalID)
		case "author":
			run.optStr(p.Author)
		case "text":
			run.str(p.Text)
		case "url":
			run.optStr(p.URL)
		case "postedAt":
			run.buf = appendTime(run.buf, p.PostedAt)
		case "sentimentScore":
			run.float(p.SentimentScore)
		case "sentimentLabel":
			run.str(marshalNSentimentLabel2githubᚗcomᚋkedahpulseᚋkedahpulseᚋdbᚐSentimentLabel[p.SentimentLabel])
		case "destination":
			run.writeDestinationOf(f.children, p.DestinationID)
		}
	}
	run.buf = append(run.buf, '}')
}

// writeDestinationOf writes a nullable destination reference: null when
// there is none or it is gone, as the resolvers' destinationOf answers.
func (run *planRun) writeDestinationOf(fields []*planField, id *int64) {
	var d *db.Destination
	if id != nil {
		d = run.dests[*id]
	}
	if d == nil {
		run.null()
	} else {
		run.writeDestination(fields, d)
	}
}

func (run *planRun) writeTrend(fields []*planField, t *db.Trend) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("Trend")
		case "destination":
			run.writeDestination(f.children, run.dests[t.DestinationID])
		case "range":
			run.str(marshalNTimeRange2githubᚗcomᚋkedahpulseᚋkedahpulseᚋdbᚐTimeRange[t.Range])
		case "mentions":
			run.buf = appendInt(run.buf, t.Mentions)
		case "previousMentions":
			run.buf = appendInt(run.buf, t.PreviousMentions)
		case "growth":
			run.float(t.Growth)
		case "averageScore":
			run.float(t.AverageScore)
		case "series":
			run.list(len(t.Series), func(j int) { run.writePoint(f.children, &t.Series[j]) })
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writePoint(fields []*planField, p *db.TrendPoint) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("TrendPoint")
		case "date":
			run.buf = appendTime(run.buf, p.Date)
		case "mentions":
			run.buf = appendInt(run.buf, p.Mentions)
		case "averageScore":
			run.float(p.AverageScore)
		}
	}
	run.buf = append(run.buf, '}')
}

func (run *planRun) writeSentiment(fields []*planField, s db.SentimentSummary) {
	run.buf = append(run.buf, '{')
	for i, f := range fields {
		run.key(i, f)
		switch f.Name {
		case "__typename":
			run.typename("SentimentSummary")
		case "range":
			run.str(marshalNTimeRange2githubᚗcomᚋkedahpulseᚋkedahpulseᚋdbᚐTimeRange[s.Range])
		case "positive":
			run.buf = appendInt(run.buf, s.Positive)
		case "neutral":
			run.buf = appendInt(run.buf, s.Neutral)
		case "negative":
			run.buf = appendInt(run.buf, s.Negative)
		case "total":
			run.buf = appendInt(run.buf, s.Total)
		case "averageScore":
			run.float(s.AverageScore)
		}
	}
	run.buf = append(run.buf, '}')
}
