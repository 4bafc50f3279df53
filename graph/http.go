package graph

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
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/cache"
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
	docs      *documents
	resp      *respcache.Cache // nil: no whole-response level
	persisted extension.AutomaticPersistedQuery
	maxBody   int64
	cdnHeader string // "": no CDN mode; else the header naming an answer's tags
	memo      *requestMemo
	warm      *Warmer // nil: no warming
}

var _ graphql.Transport = (*transport)(nil)

// Supports takes every request: methods and content types it does not
// serve are answered here, with the right status, rather than by gqlgen's
// generic "transport not supported".
func (t *transport) Supports(*http.Request) bool { return true }

// requestError is a request the transport refuses before executing it.
type requestError struct {
	status int // 0: requestErrorStatus of the response's media type
	allow  string
	errs   gqlerror.List
}

func refuse(status int, format string, args ...any) *requestError {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": CodeBadRequest}
	return &requestError{status: status, errs: gqlerror.List{err}}
}

// answerRepeated is the outermost handler when the response level is on:
// it reads a request's parameters once and answers a repeated public query
// from the response cache (requestMemo) before any other work (auth,
// loaders, the deadline, gqlgen: a public answer is the same for every
// caller, and the cache bounds its own calls). Anything else goes on with
// the parameters read, which Do takes over.
func (t *transport) answerRepeated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, rerr := t.readRaw(w, r)
		if rerr != nil {
			t.refuse(w, r, rerr)
			return
		}
		defer raw.release()
		raw.key = memoKey(*keyPool.Get().(*[]byte), r.Method, raw.b)
		if m, ok := t.memo.get(raw.key); ok {
			raw.memoised = true
			var hit bool
			if raw.stamp, hit = t.serveCached(r.Context(), w, r, m, t.resp.Key(m.digest)); hit {
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rawParamsKey{}, raw)))
	})
}

type rawParamsKey struct{}

// Do serves one request: prepare it, answer it from the response cache, or
// execute it (and store a clean answer).
func (t *transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	raw, _ := ctx.Value(rawParamsKey{}).(*rawParams)
	if raw == nil { // no response level: nothing read them yet
		var rerr *requestError
		if raw, rerr = t.readRaw(w, r); rerr != nil {
			t.refuse(w, r, rerr)
			return
		}
		defer raw.release()
	}
	ctx, prep, rerr := t.prepare(ctx, r, raw.b, exec)
	if rerr != nil {
		t.refuse(w, r, rerr)
		return
	}
	m, ok := t.memoEntry(ctx, prep)
	key, stamp := "", raw.stamp
	if ok {
		key = t.resp.Key(m.digest)
	}
	if ok && !raw.memoised {
		if !m.hint.Private {
			t.memo.put(raw.key, m)
		}
		var hit bool
		if stamp, hit = t.serveCached(ctx, w, r, m, key); hit {
			return
		}
	}
	t.execute(ctx, w, r, exec, prep, key, stamp, m.warm)
}

// refuse answers a request refused before execution.
func (t *transport) refuse(w http.ResponseWriter, r *http.Request, rerr *requestError) {
	media := responseMedia(r.Header.Get("Accept"))
	status := rerr.status
	if status == 0 {
		status = requestErrorStatus(media)
	}
	if rerr.allow != "" {
		w.Header().Set("Allow", rerr.allow)
	}
	writeErrors(w, media, status, rerr.errs)
}

// serveCached writes the answer stored under key (m's) if there is a valid
// one; if not, it returns the stamp to store the answer computed now with.
func (t *transport) serveCached(ctx context.Context, w http.ResponseWriter, r *http.Request, m memoEntry, key string) (cache.Stamp, bool) {
	e, stamp, hit := t.resp.Get(ctx, key)
	if !hit {
		return stamp, false
	}
	t.resp.CountHits(m.roots)
	t.warm.observe(ctx, m.warm, e.Tags)
	w.Header()["Age"] = []string{strconv.Itoa(int(e.Age.Seconds()))}
	t.writeCacheable(w, r, m.hint, "HIT", e.Body, e.ETag, e.Tags)
	return stamp, true
}

// prepared is a request ready to execute.
type prepared struct {
	doc  *document
	op   *graphql.OperationContext
	hint cachecontrol.Hint // of the operation; zero unless a query
}

// prepare decodes the parameters once, prepares the document once (see
// documents) and lets gqlgen coerce the variables.
func (t *transport) prepare(ctx context.Context, r *http.Request, raw []byte, exec graphql.GraphExecutor) (context.Context, *prepared, *requestError) {
	params, rerr := readParams(r, raw)
	if rerr != nil {
		return ctx, nil, rerr
	}
	if rerr := t.resolvePersisted(ctx, params); rerr != nil {
		return ctx, nil, rerr
	}
	if strings.TrimSpace(params.Query) == "" {
		return ctx, nil, refuse(http.StatusBadRequest, "the request has no query")
	}
	doc, errs := t.docs.load(params.Query)
	if errs != nil {
		return ctx, nil, &requestError{errs: errs}
	}
	if op := doc.operation(params.OperationName); op != nil && op.Operation != ast.Query && r.Method == http.MethodGet {
		rerr := refuse(http.StatusMethodNotAllowed, "%s operations are sent with POST", op.Operation)
		rerr.allow = http.MethodPost
		return ctx, nil, rerr
	}
	ctx = withPrepared(ctx, doc)
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return ctx, nil, &requestError{errs: errs}
	}
	p := &prepared{doc: doc, op: oc}
	if oc.Operation.Operation == ast.Query {
		p.hint = doc.hint[oc.Operation.Name]
	}
	return ctx, p, nil
}

// memoEntry is what the response cache needs to know of p; ok is false
// when its answer is not cached.
func (t *transport) memoEntry(ctx context.Context, p *prepared) (memoEntry, bool) {
	if t.resp == nil || p.hint.MaxAge <= 0 {
		return memoEntry{}, false
	}
	scope := "public"
	if p.hint.Private {
		scope = "private:" + viewer(ctx)
	}
	digest, err := respcache.Digest(respcache.Request{Document: p.doc.id, Operation: p.op.Operation.Name, Variables: p.op.Variables, Scope: scope})
	if err != nil {
		return memoEntry{}, false
	}
	return memoEntry{digest: digest, hint: p.hint, roots: p.doc.roots[p.op.Operation.Name], warm: t.warm.request(p, digest)}, true
}

// execute runs p and writes its answer, storing it under key (if any) when
// it is clean, stamped with stamp (read before p ran).
func (t *transport) execute(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, p *prepared, key string, stamp cache.Stamp, warm *warmRequest) {
	media := responseMedia(r.Header.Get("Accept"))
	var rec *cache.Recorder
	if key != "" {
		ctx, rec = t.resp.Record(ctx)
	}
	handler, rctx := exec.DispatchOperation(ctx, p.op)
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
	if len(resp.Errors) > 0 || p.hint.MaxAge <= 0 {
		writeBody(w, media, http.StatusOK, "no-store", "MISS", body)
		return
	}
	etag := respcache.ETag(body)
	var tags string
	if key != "" {
		tags = t.resp.Set(ctx, key, body, etag, rec, stamp, time.Duration(p.hint.MaxAge)*time.Second)
		t.warm.observe(ctx, warm, []byte(tags))
	}
	t.writeCacheable(w, r, p.hint, "MISS", body, etag, []byte(tags))
}

// maxTagHeader is the longest tag header sent (Cloudflare's limit); an
// answer with more tags is not offered to the CDN.
const maxTagHeader = 16 << 10

// writeCacheable writes a clean, cacheable answer with a strong ETag of its
// bytes, or 304 Not Modified when the request's If-None-Match names it, so
// that an HTTP cache revalidating its copy (Cache-Control: no-cache) gets
// the new answer exactly when it changed. In CDN mode a public answer
// whose tags are known may be kept by shared caches for its maxAge
// (s-maxage), named by its tags so that invalidations purge it.
func (t *transport) writeCacheable(w http.ResponseWriter, r *http.Request, h cachecontrol.Hint, xCache string, body []byte, etag string, tags []byte) {
	hdr := w.Header()
	hdr["Etag"] = []string{etag}
	hdr["Vary"] = varyHeader
	cc := cachecontrol.Header(h)
	if t.cdnHeader != "" && !h.Private && len(tags) > 0 && len(tags) <= maxTagHeader {
		tagList := string(tags)
		if strings.EqualFold(t.cdnHeader, "Surrogate-Key") { // Fastly separates keys by spaces
			tagList = strings.ReplaceAll(tagList, ",", " ")
		}
		cc = "public, max-age=0, s-maxage=" + strconv.Itoa(h.MaxAge)
		hdr.Set(t.cdnHeader, tagList)
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		hdr.Set("Cache-Control", cc)
		hdr.Set("X-Cache", xCache)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeBody(w, responseMedia(r.Header.Get("Accept")), http.StatusOK, cc, xCache, body)
}

// varyHeader is shared by every cacheable answer (headers are only read
// once set).
var varyHeader = []string{"Accept, Authorization"}

// etagMatches reports whether an If-None-Match list names etag (or is *).
func etagMatches(list, etag string) bool {
	for part := range strings.SplitSeq(list, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/") // weak comparison, as RFC 9110 asks for If-None-Match
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

// rawParams are a request's parameters as sent: a GET's query string or a
// POST's body, read once into a pooled buffer, and the memo's key.
type rawParams struct {
	b   []byte
	buf *bytes.Buffer // nil for a GET
	key []byte

	// What answerRepeated learnt: the memo knew the request, and the
	// response cache's stamp when it missed.
	memoised bool
	stamp    cache.Stamp
}

var (
	bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	keyPool    = sync.Pool{New: func() any { return new([]byte) }}
)

// release returns the buffers to the pools (small ones only).
func (p *rawParams) release() {
	if p.buf != nil && p.buf.Cap() <= 64<<10 {
		bufferPool.Put(p.buf)
	}
	if p.key != nil && cap(p.key) <= 64<<10 {
		k := p.key[:0]
		keyPool.Put(&k)
	}
}

// readRaw reads a request's parameters as sent, refusing methods, content
// types and bodies it does not serve.
func (t *transport) readRaw(w http.ResponseWriter, r *http.Request) (*rawParams, *requestError) {
	switch r.Method {
	case http.MethodGet:
		return &rawParams{b: []byte(r.URL.RawQuery)}, nil
	case http.MethodPost:
		if ct := r.Header.Get("Content-Type"); ct != mediaJSON {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != mediaJSON {
				return nil, refuse(http.StatusUnsupportedMediaType, "send the request as Content-Type: application/json")
			}
		}
		buf := bufferPool.Get().(*bytes.Buffer)
		buf.Reset()
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, t.maxBody)); err != nil {
			bufferPool.Put(buf)
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, refuse(http.StatusRequestEntityTooLarge, "the request body exceeds %d bytes", t.maxBody)
			}
			return nil, refuse(http.StatusBadRequest, "the request body could not be read")
		}
		return &rawParams{b: buf.Bytes(), buf: buf}, nil
	default:
		rerr := refuse(http.StatusMethodNotAllowed, "send GraphQL requests with GET or POST")
		rerr.allow = "GET, POST"
		return nil, rerr
	}
}

// readParams decodes a GET's query string or a POST's JSON body (raw).
func readParams(r *http.Request, raw []byte) (*graphql.RawParams, *requestError) {
	p := &graphql.RawParams{Headers: r.Header}
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
			if v := q.Get(name); v != "" {
				if err := decodeJSON(strings.NewReader(v), dst); err != nil {
					return nil, refuse(http.StatusBadRequest, "%s must be a JSON object", name)
				}
			}
		}
		return p, nil
	}
	if err := decodeJSON(bytes.NewReader(raw), p); err != nil {
		return nil, refuse(http.StatusBadRequest, "the request body is not a GraphQL request in JSON: %s", describeJSONError(err))
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
	switch accept { // the usual ones, without parsing
	case "", mediaJSON, "*/*":
		return mediaJSON
	case mediaGraphQLResponse:
		return mediaGraphQLResponse
	}
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
	// Canonical keys set directly: Header.Set would canonicalise each one.
	h := w.Header()
	h["Content-Type"] = []string{media}
	h["Cache-Control"] = []string{cacheControl}
	if xCache != "" {
		h["X-Cache"] = []string{xCache}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
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
