package live

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Error codes of the live transports, in extensions.code.
const (
	// CodePrivate: a live query's answer is PRIVATE; only public answers
	// are live.
	CodePrivate = "LIVE_PRIVATE"
	// CodeUnsupported: a live query's answer is not one the response
	// level keeps (an admin-only or uncached field, or an answer with
	// errors), so no invalidation would tell when it changes.
	CodeUnsupported = "LIVE_UNSUPPORTED"
	// CodeTooMany: the client address holds MaxPerClient live
	// subscriptions already.
	CodeTooMany = "LIVE_TOO_MANY_SUBSCRIPTIONS"
)

// Params are a GraphQL request's parameters as a transport read them.
type Params struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName,omitempty"`
	Variables     json.RawMessage `json:"variables,omitempty"`
	Extensions    json.RawMessage `json:"extensions,omitempty"`
}

// RequestError is a request answered with an error and nothing more: its
// HTTP status and its JSON body ({"errors": [...]}).
type RequestError struct {
	Status int
	Body   []byte
}

func (e *RequestError) Error() string { return "live: request refused: " + string(e.Body) }

// refusal is a RequestError of status with one error coded code.
func refusal(status int, code, format string, args ...any) *RequestError {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code}
	body, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{err}})
	return &RequestError{Status: status, Body: body}
}

// A Subscription is one live operation of one connection.
type Subscription struct {
	e      *entry
	box    *Mailbox
	op     string
	client string
	last   uint64 // hash of the answer last handed to box; guarded by Registry.mu
}

// Start runs p for client (an address) through the handler. A request
// that is not a live query gets its one answer back (once). A live query's
// first answer is put in box under op, and Start subscribes it to the later
// ones: Stop the Subscription when the client leaves. A request the
// handler refuses, or a live query that cannot be live, returns a
// *RequestError. lastID, if the client sent one (SSE Last-Event-ID), skips
// the first answer when it is the one the client holds already.
func (r *Registry) Start(ctx context.Context, client string, box *Mailbox, op string, p Params, header http.Header, lastID string) (sub *Subscription, once []byte, err error) {
	text, isLive := r.liveText(p)
	if !isLive {
		a, err := r.runOnce(ctx, request{query: p.Query, op: p.OperationName, vars: p.Variables}, header)
		return nil, a.body, err
	}
	r.mu.Lock()
	if r.clients[client] >= r.opt.MaxPerClient {
		r.mu.Unlock()
		return nil, nil, refusal(http.StatusTooManyRequests, CodeTooMany, "this client holds %d live queries already (the limit)", r.opt.MaxPerClient)
	}
	r.clients[client]++
	seq := r.seq
	r.mu.Unlock()

	req := request{query: text, op: p.OperationName, vars: p.Variables}
	a, err := r.run(ctx, req)
	switch {
	case err != nil:
	case a.private:
		err = refusal(http.StatusBadRequest, CodePrivate, "only public answers are live: this query's answer is private")
	case !a.kept:
		err = refusal(http.StatusBadRequest, CodeUnsupported, "only queries whose answer is public and cached can be live; this one's is not (an admin-only or uncached field, or an error: %s)", truncate(a.body, 200))
	}
	if err != nil {
		r.mu.Lock()
		r.release(client)
		r.mu.Unlock()
		return nil, nil, err
	}
	s := &Subscription{box: box, op: op, client: client, last: a.hash}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[a.key]
	if e == nil {
		e = &entry{key: a.key, req: req, body: a.body, hash: a.hash, subs: map[*Subscription]struct{}{}}
		r.entries[a.key] = e
		r.index(e, a.tags)
		if r.touchedSince(seq, e.tags) { // a wake between its read and now
			r.enqueue(e)
		}
	} else if e.hash != a.hash {
		// The entry and this read disagree: one of them predates a wake
		// that is queued or running for the entry, or this read raced a
		// write whose invalidation is on its way. A recompute settles it.
		e.diverged = true
		r.enqueue(e)
	}
	s.e = e
	e.subs[s] = struct{}{}
	r.stats.Subscriptions++
	if lastID != eventID(a.hash) {
		box.put(op, a.body, a.hash)
		r.stats.Pushes++
	}
	return s, nil, nil
}

// Stop ends s (nil: nothing).
func (r *Registry) Stop(s *Subscription) {
	if s == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := s.e
	if _, ok := e.subs[s]; !ok {
		return
	}
	delete(e.subs, s)
	r.stats.Subscriptions--
	r.release(s.client)
	if len(e.subs) == 0 && r.entries[e.key] == e {
		delete(r.entries, e.key)
		r.index(e, []string{})
	}
}

// release gives back one of client's slots; r.mu is held.
func (r *Registry) release(client string) {
	if r.clients[client]--; r.clients[client] <= 0 {
		delete(r.clients, client)
	}
}

// liveText returns p's query with @live removed from the operation it
// runs, and whether that operation is a query marked @live. The text
// without @live is the plain query's: its answer is the entry plain
// requests read and fill. A text over the limits, unparsable, or whose
// operation is not a live query is returned as is, for the handler to
// answer (or refuse) once.
func (r *Registry) liveText(p Params) (string, bool) {
	if r.opt.Limits.CheckCharacters(p.Query) != nil {
		return p.Query, false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, r.opt.Limits.Tokens)
	if err != nil {
		return p.Query, false
	}
	op := doc.Operations.ForName(p.OperationName)
	if p.OperationName == "" && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Query || op.Directives.ForName("live") == nil {
		return p.Query, false
	}
	kept := op.Directives[:0]
	for _, d := range op.Directives {
		if d.Name != "live" {
			kept = append(kept, d)
		}
	}
	op.Directives = kept
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	return b.String(), true
}

// truncate is b, at most n bytes of it, for a message.
func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// eventID names an answer by its hash (SSE id, Last-Event-ID).
func eventID(h uint64) string { return strconv.FormatUint(h, 36) }

// Mailbox is one connection's answers not yet written: the latest of each
// of its operations (a newer answer replaces an unwritten one), and a
// signal. Putting never blocks, so fan-out never waits for a client; the
// connection's own goroutine takes them.
type Mailbox struct {
	r       *Registry
	mu      sync.Mutex
	pending map[string]Push
	order   []string // operations in pending, first put first
	ready   chan struct{}
}

// Push is one answer to write.
type Push struct {
	Op   string
	Body []byte
	ID   string // eventID of Body
}

// NewMailbox returns an empty mailbox of r's.
func (r *Registry) NewMailbox() *Mailbox {
	return &Mailbox{r: r, pending: map[string]Push{}, ready: make(chan struct{}, 1)}
}

func (m *Mailbox) put(op string, body []byte, h uint64) {
	m.mu.Lock()
	if _, ok := m.pending[op]; ok {
		m.r.coalesced.Add(1)
	} else {
		m.order = append(m.order, op)
	}
	m.pending[op] = Push{Op: op, Body: body, ID: eventID(h)}
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled after a put.
func (m *Mailbox) Ready() <-chan struct{} { return m.ready }

// Take appends the pending answers to buf, first put first, and empties
// the mailbox.
func (m *Mailbox) Take(buf []Push) []Push {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, op := range m.order {
		buf = append(buf, m.pending[op])
		delete(m.pending, op)
	}
	m.order = m.order[:0]
	return buf
}

// drop forgets op's pending answer (its subscription ended).
func (m *Mailbox) drop(op string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[op]; ok {
		delete(m.pending, op)
		for i, o := range m.order {
			if o == op {
				m.order = append(m.order[:i], m.order[i+1:]...)
				break
			}
		}
	}
}
