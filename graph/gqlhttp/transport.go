package gqlhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
)

// Level is the whole-response level as the transport sees it
// (respcache.Level implements it). Serve answers p from a stored answer,
// or calls execute, which writes an answer that is not to be stored and
// returns nil, or returns the body of a clean, cacheable one for Serve to
// store and write.
type Level interface {
	Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, p *Prepared, execute func(ctx context.Context) []byte)
}

// Options configure a Transport.
type Options struct {
	Documents *Documents
	// Persisted keeps automatic persisted queries' texts (nil: the
	// extension is not served).
	Persisted TextStore
	// MaxBody bounds a POST body, in bytes.
	MaxBody int64
	// Level answers and stores whole responses (nil: every answer is
	// written with Cache-Control: no-store).
	Level Level
	// Plan, if set, answers a prepared request without gqlgen's executor:
	// it returns the answer's body, {"data":...} with no errors, in the
	// bytes json.Marshal of gqlgen's response would have (compact, HTML
	// characters escaped), or nil (having written nothing) for gqlgen to
	// execute it.
	Plan func(ctx context.Context, p *Prepared) []byte
}

// Transport is the one graphql.Transport of the API, for GET and POST. It
// takes a request's parameters as read (by a front, WithRequest) or reads
// them, prepares the document once (see Documents), lets gqlgen coerce the
// variables, and hands the prepared request to the response level, which
// answers it or has it executed.
type Transport struct {
	docs    *Documents
	texts   TextStore // nil: no persisted queries
	maxBody int64
	level   Level
	plan    func(ctx context.Context, p *Prepared) []byte
}

var _ graphql.Transport = (*Transport)(nil)

// New returns a Transport.
func New(o Options) *Transport {
	return &Transport{docs: o.Documents, texts: o.Persisted, maxBody: o.MaxBody, level: o.Level, plan: o.Plan}
}

// Supports takes every request: methods and content types it does not
// serve are answered here, with the right status, rather than by gqlgen's
// generic "transport not supported".
func (t *Transport) Supports(*http.Request) bool { return true }

// Do serves one request: prepare it, then let the response level answer it
// or execute it.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	q, ok := requestFrom(ctx)
	if !ok { // no front read them
		var rerr *Error
		if q, rerr = Read(w, r, t.maxBody); rerr != nil {
			WriteError(w, r, rerr)
			return
		}
		defer q.Release()
	}
	ctx, p, rerr := t.prepare(ctx, r, q, exec)
	if rerr != nil {
		WriteError(w, r, rerr)
		return
	}
	execute := func(ctx context.Context) []byte { return t.execute(ctx, w, r, exec, p) }
	if t.level == nil {
		if body := execute(ctx); body != nil {
			WriteBody(w, ResponseMedia(r.Header.Get("Accept")), http.StatusOK, "no-store", "MISS", body)
		}
		return
	}
	t.level.Serve(ctx, w, r, p, execute)
}

// Prepared is a request ready to execute.
type Prepared struct {
	Document  *Document
	Operation *graphql.OperationContext
	Hint      cachecontrol.Hint // of the operation; zero unless a query
}

// DocumentID identifies the prepared document: a hash of its normalised
// text.
func (p *Prepared) DocumentID() string { return p.Document.id }

// Roots are the coordinates of the operation's cached, public root fields
// ("Query.properties"), which a whole-response hit counts as hits.
func (p *Prepared) Roots() []string { return p.Document.roots[p.Operation.Operation.Name] }

// prepare decodes the parameters once, prepares the document once (see
// Documents) and lets gqlgen coerce the variables.
func (t *Transport) prepare(ctx context.Context, r *http.Request, q *Request, exec graphql.GraphExecutor) (context.Context, *Prepared, *Error) {
	params, rerr := q.decode(r)
	if rerr != nil {
		return ctx, nil, rerr
	}
	var pending *pendingText
	if t.texts != nil {
		if pending, rerr = t.resolvePersisted(ctx, params); rerr != nil {
			return ctx, nil, rerr
		}
	}
	if strings.TrimSpace(params.Query) == "" {
		return ctx, nil, Refuse(http.StatusBadRequest, "the request has no query")
	}
	doc, errs := t.docs.Load(params.Query)
	if errs != nil {
		return ctx, nil, &Error{Errs: errs}
	}
	if pending != nil {
		pending.register(ctx)
	}
	if op := doc.operation(params.OperationName); op != nil && op.Operation != ast.Query && r.Method == http.MethodGet {
		rerr := Refuse(http.StatusMethodNotAllowed, "%s operations are sent with POST", op.Operation)
		rerr.Allow = http.MethodPost
		return ctx, nil, rerr
	}
	ctx = withPrepared(ctx, doc)
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return ctx, nil, &Error{Errs: errs}
	}
	if err := t.docs.CheckCost(doc, oc.Operation, oc.Variables); err != nil {
		return ctx, nil, &Error{Errs: gqlerror.List{err}}
	}
	p := &Prepared{Document: doc, Operation: oc}
	if oc.Operation.Operation == ast.Query {
		p.Hint = doc.hint[oc.Operation.Name]
	}
	return ctx, p, nil
}

// execute runs p and writes its answer unless it is clean and cacheable,
// whose body it returns instead.
func (t *Transport) execute(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, p *Prepared) []byte {
	media := ResponseMedia(r.Header.Get("Accept"))
	var body []byte
	clean := true
	if t.plan != nil { // the compiled read path, or nil for gqlgen
		body = t.plan(ctx, p)
	}
	if body == nil {
		handler, rctx := exec.DispatchOperation(ctx, p.Operation)
		resp := handler(rctx)
		if resp == nil { // the request's context ended first
			resp = &graphql.Response{Errors: gqlerror.List{Unavailable(ctx.Err())}}
		}
		resp.Errors = Truncate(resp.Errors)
		var err error
		if body, err = json.Marshal(resp); err != nil {
			body, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "internal server error", Extensions: map[string]any{"code": CodeInternal}}}})
			WriteBody(w, media, http.StatusInternalServerError, "no-store", "MISS", body)
			return nil
		}
		clean = len(resp.Errors) == 0
	}
	if !clean || p.Hint.MaxAge <= 0 {
		WriteBody(w, media, http.StatusOK, "no-store", "MISS", body)
		return nil
	}
	return body
}
