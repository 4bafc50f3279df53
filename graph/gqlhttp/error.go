package gqlhttp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes carried in extensions.code, by this package and by graph's
// error presenter.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeNotFound        = "NOT_FOUND"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
	CodeUnavailable     = "SERVICE_UNAVAILABLE"
	CodeBadRequest      = "BAD_REQUEST"
	// CodeNotYetVisible: a mutation's change is saved, but other processes
	// may answer from their caches until its invalidation is delivered.
	CodeNotYetVisible = "INVALIDATION_PENDING"
	// CodePurgePending: a mutation's change is saved and visible through
	// the server, but the CDN in front (the CDN mode) has not yet accepted
	// the purge of the answers it changes.
	CodePurgePending = "CDN_PURGE_PENDING"
	// CodeFailedPrecondition: the server is not set up for the request.
	CodeFailedPrecondition = "FAILED_PRECONDITION"
)

// ErrUnavailable wraps failures a client can retry: a dependency (the
// database) that failed, or a request that ran out of time.
var ErrUnavailable = errors.New("service temporarily unavailable")

// MaxErrors is how many errors a response lists; the rest are summarised in
// one more error.
const MaxErrors = 50

// Error is a request refused before it executes.
type Error struct {
	Status int    // 0: the request-error status of the response's media type
	Allow  string // the Allow header of a 405
	Errs   gqlerror.List
}

// Refuse returns a request error of status, coded BAD_REQUEST.
func Refuse(status int, format string, args ...any) *Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": CodeBadRequest}
	return &Error{Status: status, Errs: gqlerror.List{err}}
}

// WriteError answers a request refused before execution.
func WriteError(w http.ResponseWriter, r *http.Request, rerr *Error) {
	media := ResponseMedia(r.Header.Get("Accept"))
	status := rerr.Status
	if status == 0 {
		status = requestErrorStatus(media)
	}
	if rerr.Allow != "" {
		w.Header().Set("Allow", rerr.Allow)
	}
	for _, e := range rerr.Errs {
		if e.Extensions == nil || e.Extensions["code"] == nil {
			errcode.Set(e, CodeBadRequest)
		}
	}
	// A request refused before execution has no data entry.
	body, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{Truncate(rerr.Errs)})
	WriteBody(w, media, status, "no-store", "", body)
}

// Truncate keeps the first MaxErrors errors and says how many it left out.
func Truncate(errs gqlerror.List) gqlerror.List {
	if len(errs) <= MaxErrors {
		return errs
	}
	more := gqlerror.Errorf("%d more errors were left out", len(errs)-MaxErrors)
	more.Extensions = errs[0].Extensions
	return append(errs[:MaxErrors:MaxErrors], more)
}

// Unavailable is the error of a request whose context ended (deadline or
// client gone) before its response was ready.
func Unavailable(err error) *gqlerror.Error {
	e := gqlerror.Errorf("%s: the request ran out of time", ErrUnavailable.Error())
	if errors.Is(err, context.Canceled) {
		e = gqlerror.Errorf("the request was cancelled")
	}
	e.Extensions = map[string]any{"code": CodeUnavailable}
	return e
}
