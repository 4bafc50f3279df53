package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// Request is a request's parameters as sent: a GET's query string or a
// POST's body, read once into a pooled buffer.
type Request struct {
	Method string
	Raw    []byte
	buf    *bytes.Buffer // nil for a GET
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Release returns the request's buffer to the pool (a small one only); Raw
// is not to be used after.
func (q *Request) Release() {
	if q.buf != nil && q.buf.Cap() <= 64<<10 {
		bufferPool.Put(q.buf)
	}
}

// Read reads a request's parameters as sent, refusing methods, content
// types and bodies over maxBody bytes that it does not serve.
func Read(w http.ResponseWriter, r *http.Request, maxBody int64) (*Request, *Error) {
	switch r.Method {
	case http.MethodGet:
		return &Request{Method: r.Method, Raw: []byte(r.URL.RawQuery)}, nil
	case http.MethodPost:
		if ct := r.Header.Get("Content-Type"); ct != MediaJSON {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != MediaJSON {
				return nil, Refuse(http.StatusUnsupportedMediaType, "send the request as Content-Type: application/json")
			}
		}
		buf := bufferPool.Get().(*bytes.Buffer)
		buf.Reset()
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
			bufferPool.Put(buf)
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, Refuse(http.StatusRequestEntityTooLarge, "the request body exceeds %d bytes", maxBody)
			}
			return nil, Refuse(http.StatusBadRequest, "the request body could not be read")
		}
		return &Request{Method: r.Method, Raw: buf.Bytes(), buf: buf}, nil
	default:
		rerr := Refuse(http.StatusMethodNotAllowed, "send GraphQL requests with GET or POST")
		rerr.Allow = "GET, POST"
		return nil, rerr
	}
}

type requestKey struct{}

// WithRequest hands q, read by a handler in front of the transport, to the
// transport, which then does not read the request again.
func WithRequest(ctx context.Context, q *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, q)
}

// requestFrom returns the parameters WithRequest handed on. A context value,
// because the middleware and gqlgen's server between pass only the request.
func requestFrom(ctx context.Context) (*Request, bool) {
	q, ok := ctx.Value(requestKey{}).(*Request)
	return q, ok && q != nil
}

// decode decodes a GET's query string or a POST's JSON body.
func (q *Request) decode(r *http.Request) (*graphql.RawParams, *Error) {
	p := &graphql.RawParams{Headers: r.Header}
	if r.Method == http.MethodGet {
		query := r.URL.Query()
		p.Query, p.OperationName = query.Get("query"), query.Get("operationName")
		for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
			if v := query.Get(name); v != "" {
				if err := decodeJSON(strings.NewReader(v), dst); err != nil {
					return nil, Refuse(http.StatusBadRequest, "%s must be a JSON object", name)
				}
			}
		}
		return p, nil
	}
	if err := decodeJSON(bytes.NewReader(q.Raw), p); err != nil {
		return nil, Refuse(http.StatusBadRequest, "the request body is not a GraphQL request in JSON: %s", describeJSONError(err))
	}
	return p, nil
}

// decodeJSON decodes exactly one JSON value from r into v, with numbers
// kept exact.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// describeJSONError says what is wrong with a body without echoing it.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "invalid JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ) && typ.Field == "":
		// The body itself is not an object: say what it is (an array is
		// a batch, which this server does not take).
		if typ.Value == "array" {
			return "the body is a JSON array; send one request object {\"query\": ...} (batched requests are not supported)"
		}
		return "the body is a JSON " + typ.Value + "; send a request object {\"query\": ...}"
	case errors.As(err, &typ):
		return fmt.Sprintf("%q has the wrong type", typ.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early"
	}
	return "unexpected data after the JSON value"
}
