package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/kedahpulse/kedahpulse/graph/cache"
)

// A plan is what the response level knows about one query text and
// operation name: whether it may be cached, its hint, and the hash of its
// normalised document. Plans are memoised per raw query text.
type plan struct {
	hint     Hint
	mutation bool
	doc      string // hex sha256 of the normalised document and operation name; "" if not cacheable
}

type planner struct {
	schema *ast.Schema
	policy *Policy
	plans  *lru.LRU[*plan]
}

func (p *planner) plan(ctx context.Context, query, opName string) *plan {
	memo := opName + "\x00" + query
	if pl, ok := p.plans.Get(ctx, memo); ok {
		return pl
	}
	pl := &plan{}
	doc, errs := gqlparser.LoadQuery(p.schema, query)
	if errs == nil {
		op := selectOperation(doc, opName)
		if op != nil {
			pl.mutation = op.Operation != ast.Query
			pl.hint = p.policy.Operation(op)
			if pl.hint.MaxAge > 0 {
				var buf bytes.Buffer
				formatter.NewFormatter(&buf, formatter.WithComments()).FormatQueryDocument(doc)
				sum := sha256.Sum256(append(buf.Bytes(), "\x00"+opName...))
				pl.doc = hex.EncodeToString(sum[:])
			}
		}
	}
	p.plans.Add(ctx, memo, pl)
	return pl
}

func selectOperation(doc *ast.QueryDocument, name string) *ast.OperationDefinition {
	if name != "" {
		return doc.Operations.ForName(name)
	}
	if len(doc.Operations) == 1 {
		return doc.Operations[0]
	}
	return nil
}

// params are the parts of a GraphQL request that the response level keys on.
type params struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
}

// readParams reads a GET or POST GraphQL request's parameters, leaving the
// body readable for gqlgen.
func readParams(r *http.Request) (params, bool) {
	var p params
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		p.Query, p.OperationName, p.Variables = q.Get("query"), q.Get("operationName"), json.RawMessage(q.Get("variables"))
	case http.MethodPost:
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return p, false
		}
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil || json.Unmarshal(body, &p) != nil {
			return p, false
		}
	default:
		return p, false
	}
	return p, p.Query != ""
}

// canonicalVariables re-encodes variables with sorted keys and exact
// numbers, so equal variables give equal keys.
func canonicalVariables(raw json.RawMessage) (string, bool) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return "{}", true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) != nil {
		return "", false
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}

// responseKey names a response entry. It carries the current hour because
// analytics windows end on the hour: an answer never outlives its window.
func responseKey(pl *plan, vars, scope string, now time.Time) string {
	sum := sha256.Sum256([]byte(pl.doc + "\x00" + vars + "\x00" + scope))
	return "response|" + strconv.FormatInt(now.UTC().Truncate(time.Hour).Unix(), 10) + "|" + hex.EncodeToString(sum[:])
}

// scope is "public", or the hashed bearer token for PRIVATE responses.
func scope(r *http.Request, private bool) string {
	if !private {
		return "public"
	}
	sum := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	return "private:" + hex.EncodeToString(sum[:8])
}

// cacheControl is the Cache-Control header for a successful response with
// hint h.
func cacheControl(h Hint) string {
	if h.MaxAge <= 0 {
		return "no-store"
	}
	vis := "public"
	if h.Private {
		vis = "private"
	}
	return "max-age=" + strconv.Itoa(h.MaxAge) + ", " + vis
}

// newResponseCache sets Cache-Control and X-Cache on every GraphQL
// response and, when store is set, serves repeated identical queries from
// one cache entry (keyed on the normalised document, operation name,
// variables and scope), validated by the versions of every tag the response
// was built from. A response with errors is never cached.
func newResponseCache(r *Resolver, schema *ast.Schema, store bool, next http.Handler) http.Handler {
	pl := &planner{schema: schema, policy: r.Policy, plans: lru.New[*plan](1000)}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, ok := readParams(req)
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		ctx := req.Context()
		plan := pl.plan(ctx, p.Query, p.OperationName)
		vars, okVars := canonicalVariables(p.Variables)
		if !store || plan.doc == "" || !okVars {
			serveUncached(w, req, next, plan, nil, "", 0, r.Cache)
			return
		}
		key := responseKey(plan, vars, scope(req, plan.hint.Private), r.now())
		if body, hit := r.Cache.GetResponse(ctx, key); hit {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", cacheControl(plan.hint))
			h.Set("X-Cache", "HIT")
			w.Write(body)
			return
		}
		ctx, rec := cache.WithRecorder(ctx)
		serveUncached(w, req.WithContext(ctx), next, plan, rec, key, time.Duration(plan.hint.MaxAge)*time.Second, r.Cache)
	})
}

// serveUncached runs the query, then sets the headers (which depend on
// whether it failed) and, when rec is given and the response is clean and
// consistent, stores it under key.
func serveUncached(w http.ResponseWriter, req *http.Request, next http.Handler, pl *plan, rec *cache.Recorder, key string, ttl time.Duration, c *cache.Cache) {
	ctx, failed := withErrorFlag(req.Context())
	buf := &bufferedWriter{header: w.Header(), status: http.StatusOK}
	next.ServeHTTP(buf, req.WithContext(ctx))
	clean := !failed.Load() && buf.status == http.StatusOK
	h := w.Header()
	h.Set("X-Cache", "MISS")
	if clean && !pl.mutation {
		h.Set("Cache-Control", cacheControl(pl.hint))
	} else {
		h.Set("Cache-Control", "no-store")
	}
	if rec != nil && clean && ttl > 0 {
		if versions, consistent := rec.Versions(); consistent {
			c.SetResponse(context.WithoutCancel(ctx), key, buf.body.Bytes(), versions, ttl)
		}
	}
	w.WriteHeader(buf.status)
	w.Write(buf.body.Bytes())
}

// bufferedWriter holds a response until its headers are known.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }

type errorFlagKey struct{}

func withErrorFlag(ctx context.Context) (context.Context, *atomic.Bool) {
	f := new(atomic.Bool)
	return context.WithValue(ctx, errorFlagKey{}, f), f
}

// noteErrors marks the request as failed when its response carries errors,
// so it is neither cached nor marked cacheable.
func noteErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		if f, ok := ctx.Value(errorFlagKey{}).(*atomic.Bool); ok {
			f.Store(true)
		}
	}
	return resp
}
