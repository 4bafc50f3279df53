package live

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// The graphql-ws protocol (GraphQL over WebSocket, subprotocol
// graphql-transport-ws): connection_init / connection_ack, ping / pong,
// subscribe / next / error / complete, and its close codes.
const (
	wsSubprotocol = "graphql-transport-ws"
	wsInitTimeout = 10 * time.Second
)

// wsMessage is a message of the protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// serveWS serves one WebSocket connection: its goroutine reads the client's
// messages (and answers each operation that is not a live query at once),
// and one more writes the live answers its mailbox collects. A write that
// fails or times out closes the connection.
func (r *Registry) serveWS(w http.ResponseWriter, req *http.Request) {
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{
		Subprotocols: []string{wsSubprotocol},
		// Any origin: live answers are public and computed anonymously,
		// no cookie is read, and a token counts only when the page sends
		// it in connection_init, so a foreign page gains nothing.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return
	}
	if c.Subprotocol() != wsSubprotocol {
		c.Close(4406, "Subprotocol not acceptable")
		return
	}
	c.SetReadLimit(r.opt.MaxBody)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	go func() { // the server's shutdown ends the connection
		select {
		case <-r.closed:
			c.Close(websocket.StatusGoingAway, "server shutting down")
		case <-ctx.Done():
		}
	}()
	box := r.NewMailbox()
	subs := map[string]*Subscription{}
	defer func() {
		for _, s := range subs {
			r.Stop(s)
		}
	}()
	write := func(m []byte) bool {
		wctx, stop := context.WithTimeout(ctx, r.opt.WriteTimeout)
		defer stop()
		if err := c.Write(wctx, websocket.MessageText, m); err != nil {
			if ctx.Err() == nil {
				r.dropped.Add(1)
			}
			c.CloseNow()
			return false
		}
		return true
	}
	go r.wsWriter(ctx, box, write)

	ictx, stop := context.WithTimeout(ctx, wsInitTimeout)
	m, ok := readWS(ictx, c)
	stop()
	if !ok {
		c.Close(4408, "Connection initialisation timeout")
		return
	}
	if m.Type != "connection_init" {
		c.Close(4400, "Expected connection_init")
		return
	}
	header := wsAuthorization(m.Payload)
	if !write([]byte(`{"type":"connection_ack"}`)) {
		return
	}
	for {
		m, ok := readWS(ctx, c)
		if !ok {
			return
		}
		switch m.Type {
		case "ping":
			if !write([]byte(`{"type":"pong"}`)) {
				return
			}
		case "pong":
		case "connection_init":
			c.Close(4429, "Too many initialisation requests")
			return
		case "subscribe":
			if m.ID == "" {
				c.Close(4400, "Subscribe without an id")
				return
			}
			if _, dup := subs[m.ID]; dup {
				c.Close(4409, "Subscriber for "+m.ID+" already exists")
				return
			}
			if !r.wsSubscribe(ctx, req, header, m, box, subs, write) {
				return
			}
		case "complete":
			if s, ok := subs[m.ID]; ok {
				r.Stop(s)
				delete(subs, m.ID)
				box.drop(m.ID)
			}
		default:
			c.Close(4400, "Unknown message type")
			return
		}
	}
}

// wsSubscribe starts operation m: a live query joins subs and its answers
// reach box; any other operation is answered now, with header's
// Authorization, then completed.
func (r *Registry) wsSubscribe(ctx context.Context, req *http.Request, header http.Header, m wsMessage, box *Mailbox, subs map[string]*Subscription, write func([]byte) bool) bool {
	var p Params
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Query == "" {
		return write(wsError(m.ID, refusal(http.StatusBadRequest, "BAD_REQUEST", "the subscribe payload is not GraphQL parameters").Body))
	}
	sub, once, err := r.Start(ctx, clientOf(req), box, m.ID, p, header, "")
	if sub == nil && err == nil { // not live: its one answer, then complete
		return write(wsNext(m.ID, once)) && write([]byte(`{"id":`+strconv.Quote(m.ID)+`,"type":"complete"}`))
	}
	if err != nil {
		var rerr *RequestError
		if !errors.As(err, &rerr) {
			rerr = refusal(http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "the live query could not start")
		}
		return write(wsError(m.ID, rerr.Body))
	}
	subs[m.ID] = sub
	return true
}

// wsAuthorization reads the credentials of a connection_init payload, as
// browsers cannot set headers on a WebSocket: {"Authorization": "Bearer
// <token>"} (any case, as an HTTP header would be sent) or {"token":
// "<token>"}. They count for the operations answered once, as a request's
// Authorization header does over SSE; live queries run anonymously
// whoever asks (Start), so a shared live answer never holds private data.
func wsAuthorization(payload json.RawMessage) http.Header {
	var p struct {
		Authorization string `json:"authorization"`
		Token         string `json:"token"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return nil
	}
	switch {
	case p.Authorization != "":
		return http.Header{"Authorization": {p.Authorization}}
	case p.Token != "":
		return http.Header{"Authorization": {"Bearer " + p.Token}}
	}
	return nil
}

// wsWriter writes the live answers box collects until ctx ends.
func (r *Registry) wsWriter(ctx context.Context, box *Mailbox, write func([]byte) bool) {
	var pushes []Push
	for {
		select {
		case <-ctx.Done():
			return
		case <-box.Ready():
		}
		pushes = box.Take(pushes[:0])
		for _, p := range pushes {
			if !write(wsNext(p.Op, p.Body)) {
				return
			}
		}
	}
}

// readWS reads one message; false when the connection ended or sent
// something that is not a protocol message (the connection is then
// closed).
func readWS(ctx context.Context, c *websocket.Conn) (wsMessage, bool) {
	var m wsMessage
	typ, b, err := c.Read(ctx)
	if err != nil {
		return m, false
	}
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type == "" {
		c.Close(4400, "Invalid message")
		return m, false
	}
	return m, true
}

func wsNext(id string, body []byte) []byte {
	b := make([]byte, 0, len(body)+len(id)+40)
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"type":"next","payload":`...)
	b = append(b, body...)
	return append(b, '}')
}

// wsError is an error message: its payload is the errors of a request
// error's body.
func wsError(id string, body []byte) []byte {
	var e struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		e.Errors = json.RawMessage(`[{"message":"the operation failed"}]`)
	}
	b := []byte(`{"id":`)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"type":"error","payload":`...)
	b = append(b, e.Errors...)
	return append(b, '}')
}
