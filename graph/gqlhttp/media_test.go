package gqlhttp_test

import (
	"testing"

	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// The response's media type follows Accept: the GraphQL response type
// only when it is asked for by name, JSON otherwise.
func TestResponseMedia(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  gqlhttp.MediaJSON,
		"*/*":                               gqlhttp.MediaJSON,
		"application/json":                  gqlhttp.MediaJSON,
		"application/graphql-response+json": gqlhttp.MediaGraphQLResponse,
		"application/graphql-response+json, application/json;q=0.9": gqlhttp.MediaGraphQLResponse,
		"text/html, application/*":                                  gqlhttp.MediaJSON,
		"text/html":                                                 gqlhttp.MediaJSON,
		"not a media type":                                          gqlhttp.MediaJSON,
	} {
		if got := gqlhttp.ResponseMedia(accept); got != want {
			t.Errorf("Accept %q: %s, want %s", accept, got, want)
		}
	}
}
