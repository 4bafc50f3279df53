package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/graph/cache"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// Media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// MaxErrors is how many errors a response lists; the rest are summarised in
// one more error.
const MaxErrors = 50

// transport is the one HTTP transport of the API, for GET and POST. It
// reads a request's parameters once, prepares the document once (limits,
// parse, validation; see documents), lets gqlgen coerce the variables and
// execute, and serves and fills the response cache keyed on exactly what
// gqlgen executes.
type transport struct {
	docs    *documents
	resp    *respcache.Cache // nil: no whole-response level
	maxBody int64
}

var _ graphql.Transport = (*transport)(nil)

// Supports takes every request: methods and content types it does not
// serve are answered here, with the right status, rather than by gqlgen's
// generic "transport not supported".
func (t *transport) Supports(*http.Request) bool { return true }

// requestError is a request the transport refuses before executing it.
type requestError struct {
	status int
	err    *gqlerror.Error
}

func badRequest(status int, format string, args ...any) *requestError {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": CodeBadRequest}
	return &requestError{status: status, err: err}
}

func (t *transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMedia(r.Header.Get("Accept"))
	params, rerr := t.readParams(w, r)
	if rerr != nil {
		if rerr.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, POST")
		}
		writeErrors(w, media, rerr.status, gqlerror.List{rerr.err})
		return
	}
	doc, errs := t.docs.load(params.Query)
	if errs != nil {
		writeErrors(w, media, requestErrorStatus(media), errs)
		return
	}
	op := doc.operation(params.OperationName)
	if op != nil && op.Operation != ast.Query && r.Method == http.MethodGet {
		w.Header().Set("Allow", "POST")
		writeErrors(w, media, http.StatusMethodNotAllowed, gqlerror.List{badRequest(0, "%s operations are sent with POST", op.Operation).err})
		return
	}
	ctx = withPrepared(ctx, doc)
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		writeErrors(w, media, requestErrorStatus(media), errs)
		return
	}

	hint := cachecontrol.Hint{}
	if op != nil && op.Operation == ast.Query {
		hint = doc.hint[op.Name]
	}
	var key string
	if t.resp != nil && hint.MaxAge > 0 {
		scope := "public"
		if hint.Private {
			scope = "private:" + viewer(ctx)
		}
		var err error
		key, err = t.resp.Key(respcache.Request{Document: doc.id, Operation: op.Name, Variables: oc.Variables, Scope: scope})
		if err == nil {
			if body, hit := t.resp.Get(ctx, key); hit {
				writeBody(w, media, http.StatusOK, cachecontrol.Header(hint), "HIT", body)
				return
			}
		} else {
			key = ""
		}
	}
	var rec *cache.Recorder
	if key != "" {
		ctx, rec = t.resp.Record(ctx)
	}
	handler, rctx := exec.DispatchOperation(ctx, oc)
	resp := handler(rctx)
	if resp == nil { // the request's context ended first
		resp = &graphql.Response{Errors: gqlerror.List{unavailable(ctx.Err())}}
	}
	resp.Errors = truncate(resp.Errors)
	body, err := json.Marshal(resp)
	if err != nil {
		body, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "internal server error", Extensions: map[string]any{"code": CodeInternal}}}})
		writeBody(w, media, http.StatusInternalServerError, "no-store", "MISS", body)
		return
	}
	if len(resp.Errors) > 0 || hint.MaxAge <= 0 {
		writeBody(w, media, http.StatusOK, "no-store", "MISS", body)
		return
	}
	if key != "" {
		t.resp.Set(ctx, key, body, rec, time.Duration(hint.MaxAge)*time.Second)
	}
	writeBody(w, media, http.StatusOK, cachecontrol.Header(hint), "MISS", body)
}

// readParams reads a GET's query string or a POST's JSON body, once.
func (t *transport) readParams(w http.ResponseWriter, r *http.Request) (*graphql.RawParams, *requestError) {
	p := &graphql.RawParams{Headers: r.Header}
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
			if v := q.Get(name); v != "" {
				if err := decodeJSON(strings.NewReader(v), dst); err != nil {
					return nil, badRequest(http.StatusBadRequest, "%s must be a JSON object", name)
				}
			}
		}
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != mediaJSON {
			return nil, badRequest(http.StatusUnsupportedMediaType, "send the request as Content-Type: application/json")
		}
		body := http.MaxBytesReader(w, r.Body, t.maxBody)
		if err := decodeJSON(body, p); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, badRequest(http.StatusRequestEntityTooLarge, "the request body exceeds %d bytes", t.maxBody)
			}
			return nil, badRequest(http.StatusBadRequest, "the request body is not a GraphQL request in JSON: %s", describeJSONError(err))
		}
	default:
		return nil, badRequest(http.StatusMethodNotAllowed, "send GraphQL requests with GET or POST")
	}
	if strings.TrimSpace(p.Query) == "" {
		return nil, badRequest(http.StatusBadRequest, "the request has no query")
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
	case errors.As(err, &typ):
		return fmt.Sprintf("%q has the wrong type", typ.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early"
	}
	return "unexpected data after the JSON value"
}

// responseMedia picks the response's media type from Accept: the GraphQL
// response type when asked for by name, JSON otherwise (the legacy default).
func responseMedia(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		case mediaJSON, "*/*", "application/*":
			return mediaJSON
		}
	}
	return mediaJSON
}

// requestErrorStatus is the status of a request refused before execution
// (parse, validation, limits, variables): 400 with the GraphQL response
// type, 200 with plain JSON (GraphQL over HTTP).
func requestErrorStatus(media string) int {
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func writeErrors(w http.ResponseWriter, media string, status int, errs gqlerror.List) {
	for _, e := range errs {
		if e.Extensions == nil || e.Extensions["code"] == nil {
			errcode.Set(e, CodeBadRequest)
		}
	}
	// A request refused before execution has no data entry.
	body, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{truncate(errs)})
	writeBody(w, media, status, "no-store", "", body)
}

func writeBody(w http.ResponseWriter, media string, status int, cacheControl, xCache string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", media)
	h.Set("Cache-Control", cacheControl)
	if xCache != "" {
		h.Set("X-Cache", xCache)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// truncate keeps the first MaxErrors errors and says how many it left out.
func truncate(errs gqlerror.List) gqlerror.List {
	if len(errs) <= MaxErrors {
		return errs
	}
	more := gqlerror.Errorf("%d more errors were left out", len(errs)-MaxErrors)
	more.Extensions = errs[0].Extensions
	return append(errs[:MaxErrors:MaxErrors], more)
}

// unavailable is the error of a request whose context ended (deadline or
// client gone) before its response was ready.
func unavailable(err error) *gqlerror.Error {
	e := gqlerror.Errorf("%s: the request ran out of time", ErrUnavailable.Error())
	if errors.Is(err, context.Canceled) {
		e = gqlerror.Errorf("the request was cancelled")
	}
	e.Extensions = map[string]any{"code": CodeUnavailable}
	return e
}
