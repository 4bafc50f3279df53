package respcache

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// maxTagHeader is the longest tag header sent (Cloudflare's limit); an
// answer with more tags is not offered to the CDN.
const maxTagHeader = 16 << 10

// writeCacheable writes a clean, cacheable answer with a strong ETag of its
// bytes, or 304 Not Modified when the request's If-None-Match names it, so
// that an HTTP cache revalidating its copy (Cache-Control: no-cache) gets
// the new answer exactly when it changed. In CDN mode a public answer
// whose tags are known may be kept by shared caches for its maxAge
// (s-maxage), named by its tags so that invalidations purge it.
func (l *Level) writeCacheable(w http.ResponseWriter, r *http.Request, h cachecontrol.Hint, xCache string, body []byte, etag string, tags []byte) {
	media := gqlhttp.ResponseMedia(r.Header.Get("Accept"))
	etag = representationETag(etag, media)
	hdr := w.Header()
	hdr["Etag"] = []string{etag}
	setVary(hdr)
	cc := cachecontrol.Header(h)
	if l.cdnHeader != "" && !h.Private && len(tags) > 0 && len(tags) <= maxTagHeader {
		tagList := string(tags)
		if strings.EqualFold(l.cdnHeader, "Surrogate-Key") { // Fastly separates keys by spaces
			tagList = strings.ReplaceAll(tagList, ",", " ")
		}
		cc = "public, max-age=0, s-maxage=" + strconv.Itoa(h.MaxAge)
		hdr.Set(l.cdnHeader, tagList)
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		hdr.Set("Cache-Control", cc)
		hdr.Set("X-Cache", xCache)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	gqlhttp.WriteBody(w, media, http.StatusOK, cc, xCache, body)
}

// varyHeader is shared by every cacheable answer (headers are only read
// once set).
var varyHeader = []string{"Accept, Authorization"}

// setVary adds Accept and Authorization to the Vary the handlers in front
// have set: rs/cors's Origin must stay, or a shared cache could hand one
// origin's answer to another.
func setVary(hdr http.Header) {
	before := hdr["Vary"]
	if len(before) == 0 {
		hdr["Vary"] = varyHeader
		return
	}
	hdr["Vary"] = []string{strings.Join(before, ", ") + ", " + varyHeader[0]}
}

// representationETag names one representation of an answer: a strong ETag
// is for one set of bytes with one Content-Type, so the
// application/graphql-response+json answer's ETag gets a suffix the
// application/json one (the stored ETag) does not have.
func representationETag(etag, media string) string {
	if media != gqlhttp.MediaGraphQLResponse || len(etag) < 2 {
		return etag
	}
	return etag[:len(etag)-1] + `-gr"`
}

// etagMatches reports whether an If-None-Match list names etag (or is *).
func etagMatches(list, etag string) bool {
	for part := range strings.SplitSeq(list, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/") // weak comparison, as RFC 9110 asks for If-None-Match
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}
