package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/outbox"
)

// isRequestError reports an error gqlgen raised about the request before
// any resolver ran: a *gqlerror.Error that wraps nothing and has no path.
func isRequestError(err error) bool {
	var g *gqlerror.Error
	return errors.As(err, &g) && g.Err == nil && len(g.Path) == 0
}

// ErrUnauthenticated is returned when an admin-only field is asked for
// without a valid admin token.
var ErrUnauthenticated = errors.New("admin token required: send Authorization: Bearer <ADMIN_TOKEN>")

// ErrTokenRejected is returned when an admin-only field is asked for with a
// bearer token that is not the admin token (or when the server has none).
// It shares the code UNAUTHENTICATED; the message tells the two apart.
var ErrTokenRejected = errors.New("admin token rejected: the bearer token is not this server's ADMIN_TOKEN")

// errorPresenter maps errors to extensions.code once, at the edge. Internal
// errors are logged with their path and masked.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		var inputErr *db.InputError
		switch {
		case errors.As(err, &inputErr):
			gqlErr.Message = inputErr.Error()
			gqlErr.Extensions["code"] = gqlhttp.CodeBadUserInput
			if inputErr.Field != "" {
				gqlErr.Extensions["field"] = inputErr.Field
			}
		case errors.Is(err, db.ErrNotFound):
			gqlErr.Message = "not found"
			gqlErr.Extensions["code"] = gqlhttp.CodeNotFound
		case errors.Is(err, ErrUnauthenticated):
			gqlErr.Message = ErrUnauthenticated.Error()
			gqlErr.Extensions["code"] = gqlhttp.CodeUnauthenticated
		case errors.Is(err, ErrTokenRejected):
			gqlErr.Message = ErrTokenRejected.Error()
			gqlErr.Extensions["code"] = gqlhttp.CodeUnauthenticated
		case errors.Is(err, outbox.ErrUndelivered):
			// The change is saved; other processes may answer from their
			// caches until a relay delivers its invalidation.
			log.WarnContext(ctx, "mutation acknowledged before its invalidation was delivered", "path", gqlErr.Path.String(), "err", err)
			gqlErr.Message = "the change is saved, but other servers may not show it yet"
			gqlErr.Extensions["code"] = gqlhttp.CodeNotYetVisible
		case errors.Is(err, ErrPurgePending):
			gqlErr.Message = ErrPurgePending.Error()
			gqlErr.Extensions["code"] = gqlhttp.CodePurgePending
		case errors.Is(err, context.Canceled):
			// The client went away; nobody reads this, and it is not a fault.
			gqlErr.Message = "the request was cancelled"
			gqlErr.Extensions["code"] = gqlhttp.CodeUnavailable
		case errors.Is(err, gqlhttp.ErrUnavailable) || db.IsUnavailable(err):
			if s := shareOf(ctx); s != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// Every field still running fails with the deadline: one line
				// says so for the request.
				s.cut.Do(func() {
					log.WarnContext(ctx, "request cut by its deadline", "path", gqlErr.Path.String(), "err", err)
				})
			} else {
				log.ErrorContext(ctx, "dependency unavailable", "path", gqlErr.Path.String(), "err", err)
			}
			gqlErr.Message = gqlhttp.ErrUnavailable.Error()
			gqlErr.Extensions["code"] = gqlhttp.CodeUnavailable
		case gqlErr.Extensions["code"] != nil:
			// gqlgen's own parse and validation errors already carry a code.
		case isRequestError(err):
			// gqlgen's transport rejected the request itself (malformed JSON,
			// unsupported content type): the message is about the request.
			gqlErr.Extensions["code"] = gqlhttp.CodeBadRequest
		case errors.Is(err, ErrNoScraper):
			gqlErr.Message = ErrNoScraper.Error()
			gqlErr.Extensions["code"] = gqlhttp.CodeFailedPrecondition
		default:
			log.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", err)
			gqlErr.Message = "internal server error"
			gqlErr.Extensions["code"] = gqlhttp.CodeInternal
		}
		return gqlErr
	}
}
