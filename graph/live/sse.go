package live

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// Route sends the requests of the live transports (Accept:
// text/event-stream, or a WebSocket upgrade) to the Registry's handler and
// every other request to plain.
func (r *Registry) Route(plain, streams http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if IsStream(req) {
			streams.ServeHTTP(w, req)
			return
		}
		plain.ServeHTTP(w, req)
	})
}

// IsStream reports whether req asks for a live transport.
func IsStream(req *http.Request) bool {
	return strings.Contains(req.Header.Get("Accept"), "text/event-stream") ||
		strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
}

// ServeHTTP serves GraphQL over SSE (the graphql-sse protocol, distinct
// connections mode: one operation per POST or GET) and GraphQL over
// WebSocket (graphql-ws).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		r.serveWS(w, req)
		return
	}
	r.serveSSE(w, req)
}

// serveSSE streams one operation's answers as "next" events (each with an
// id, for Last-Event-ID), and "complete" after the only answer of a request
// that is not a live query. A live stream that wrote nothing between two
// keep-alive beats gets a comment line. A live stream ends when the client leaves, a
// write fails or times out (a slow client is dropped; answers waiting for
// it were coalesced meanwhile), or the server shuts down.
func (r *Registry) serveSSE(w http.ResponseWriter, req *http.Request) {
	p, rerr := r.readParams(w, req)
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	box := r.NewMailbox()
	sub, once, err := r.Start(req.Context(), clientOf(req), box, "", p, req.Header, req.Header.Get("Last-Event-ID"))
	if err != nil {
		writeRequestError(w, err)
		return
	}
	defer r.Stop(sub)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var buf []byte
	var pushes []Push
	write := func() bool {
		pushes = box.Take(pushes[:0])
		if sub == nil {
			pushes = append(pushes, Push{Body: once, ID: eventID(xxhash.Sum64(once))})
		}
		buf = buf[:0]
		for _, p := range pushes {
			buf = append(buf, "event: next\nid: "...)
			buf = append(buf, p.ID...)
			buf = append(buf, "\ndata: "...)
			buf = append(buf, p.Body...)
			buf = append(buf, "\n\n"...)
		}
		if sub == nil {
			buf = append(buf, "event: complete\ndata:\n\n"...)
		}
		rc.SetWriteDeadline(time.Now().Add(r.opt.WriteTimeout))
		if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
			r.dropped.Add(1)
			return false
		}
		return true
	}
	if !write() || sub == nil {
		return
	}
	beat, wrote := r.nextBeat(), false
	for {
		select {
		case <-box.Ready():
			if !write() {
				return
			}
			wrote = true
		case <-beat:
			beat = r.nextBeat()
			if !wrote && !r.writeKeepAlive(w, rc) {
				return
			}
			wrote = false
		case <-req.Context().Done():
			return
		case <-r.closed:
			return
		}
	}
}

// keepAliveLine is the comment an idle stream gets at each beat: clients
// ignore it, proxies see bytes.
const keepAliveLine = ": keep-alive\n\n"

// writeKeepAlive writes keepAliveLine, dropping the stream if it cannot.
func (r *Registry) writeKeepAlive(w http.ResponseWriter, rc *http.ResponseController) bool {
	rc.SetWriteDeadline(time.Now().Add(r.opt.WriteTimeout))
	if _, err := io.WriteString(w, keepAliveLine); err != nil || rc.Flush() != nil {
		r.dropped.Add(1)
		return false
	}
	return true
}

// readParams reads a graphql-sse request: a JSON body (POST) or the query
// string (GET: query, operationName, variables and extensions as JSON).
func (r *Registry) readParams(w http.ResponseWriter, req *http.Request) (Params, error) {
	var p Params
	switch req.Method {
	case http.MethodGet:
		q := req.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if !json.Valid([]byte(v)) {
				return p, refusal(http.StatusBadRequest, gqlhttp.CodeBadRequest, "variables are not JSON")
			}
			p.Variables = json.RawMessage(v)
		}
	case http.MethodPost:
		dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, r.opt.MaxBody))
		if err := dec.Decode(&p); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return p, refusal(http.StatusRequestEntityTooLarge, gqlhttp.CodeBadRequest, "the request body is larger than %d bytes", r.opt.MaxBody)
			}
			if errors.Is(err, io.EOF) {
				return p, refusal(http.StatusBadRequest, gqlhttp.CodeBadRequest, "the request has no body")
			}
			return p, refusal(http.StatusBadRequest, gqlhttp.CodeBadRequest, "the body is not a JSON object of GraphQL parameters")
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		return p, refusal(http.StatusMethodNotAllowed, gqlhttp.CodeBadRequest, "GraphQL over SSE is served over GET and POST")
	}
	if strings.TrimSpace(p.Query) == "" {
		return p, refusal(http.StatusBadRequest, gqlhttp.CodeBadRequest, "the request has no query")
	}
	return p, nil
}

// writeRequestError answers a request refused before any event.
func writeRequestError(w http.ResponseWriter, err error) {
	var rerr *RequestError
	if !errors.As(err, &rerr) {
		rerr = refusal(http.StatusServiceUnavailable, gqlhttp.CodeUnavailable, "the live query could not start")
	}
	w.Header().Set("Content-Type", gqlhttp.MediaJSON)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rerr.Status)
	w.Write(rerr.Body)
}

// clientOf is the client address a subscription counts against.
func clientOf(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}
