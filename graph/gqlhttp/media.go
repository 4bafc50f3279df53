package gqlhttp

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Media types of GraphQL over HTTP.
const (
	MediaJSON            = "application/json"
	MediaGraphQLResponse = "application/graphql-response+json"
)

// ResponseMedia picks the response's media type from Accept: the GraphQL
// response type when asked for by name, JSON otherwise (the legacy default).
func ResponseMedia(accept string) string {
	switch accept { // the usual ones, without parsing
	case "", MediaJSON, "*/*":
		return MediaJSON
	case MediaGraphQLResponse:
		return MediaGraphQLResponse
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case MediaGraphQLResponse:
			return MediaGraphQLResponse
		case MediaJSON, "*/*", "application/*":
			return MediaJSON
		}
	}
	return MediaJSON
}

// requestErrorStatus is the status of a request refused before execution
// (parse, validation, limits, variables): 400 with the GraphQL response
// type, 200 with plain JSON (GraphQL over HTTP).
func requestErrorStatus(media string) int {
	if media == MediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// WriteBody writes a whole answer: its media type, Cache-Control, X-Cache
// (unless ""), length and body.
func WriteBody(w http.ResponseWriter, media string, status int, cacheControl, xCache string, body []byte) {
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
