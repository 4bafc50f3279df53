package respcache

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// A ReplayRequest is a request this process sends itself through the
// handler chain users reach: the Warmer's replays and graph/live's runs.
type ReplayRequest struct {
	Query         string
	OperationName string
	Variables     json.RawMessage // empty: null
	Authorization string          // empty: anonymous
	KeepBody      bool            // false: the body is dropped as it is written
}

// A Replayed is what the handler answered a ReplayRequest.
type Replayed struct {
	Status int // 200 when the handler wrote no status
	Header http.Header
	Body   []byte // nil unless KeepBody
}

// Replay sends r through h as a JSON POST to /graphql with ctx (whose
// values, such as cache.WithReplay, mark it for the levels it crosses) and
// returns the answer. It fails only when r cannot be made into a request
// (variables that are not JSON).
func Replay(ctx context.Context, h http.Handler, r ReplayRequest) (Replayed, error) {
	vars := r.Variables
	if len(bytes.TrimSpace(vars)) == 0 {
		vars = json.RawMessage("null")
	}
	body, err := json.Marshal(struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName,omitempty"`
		Variables     json.RawMessage `json:"variables"`
	}{r.Query, r.OperationName, vars})
	if err != nil {
		return Replayed{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	if err != nil {
		return Replayed{}, err
	}
	req.Header.Set("Content-Type", gqlhttp.MediaJSON)
	req.Header.Set("Accept", gqlhttp.MediaJSON)
	if r.Authorization != "" {
		req.Header.Set("Authorization", r.Authorization)
	}
	w := &replayWriter{header: http.Header{}, keep: r.KeepBody}
	h.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	out := Replayed{Status: w.status, Header: w.header}
	if r.KeepBody {
		out.Body = w.body.Bytes()
	}
	return out, nil
}

// replayWriter keeps a replay's status and headers, and its body if keep.
type replayWriter struct {
	header http.Header
	status int
	keep   bool
	body   bytes.Buffer
}

func (w *replayWriter) Header() http.Header { return w.header }

func (w *replayWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *replayWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if !w.keep {
		return len(b), nil
	}
	return w.body.Write(b)
}
