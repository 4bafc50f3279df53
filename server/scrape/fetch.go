package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// What bounds a feed, whatever it sends: its posts come only from its own
// host (a redirect to a host not in Config.RedirectHosts, or from https to
// http, fails it); reading it holds one copy of a body of at most
// Config.MaxBytes and builds at most Config.MaxItems items; and every field
// of its posts is within db's limits (db.MaxPostText and the others), valid
// UTF-8 without NUL bytes, before IngestPosts sees it.

// maxRedirects is how many redirects a feed request follows.
const maxRedirects = 5

// validators are the cache validators of a feed's last successful fetch,
// sent back as If-None-Match and If-Modified-Since.
type validators struct {
	etag         string
	lastModified string
}

// feedResult is one feed fetched, parsed and matched, ready to ingest.
type feedResult struct {
	url         string
	posts       []db.PostInput // matched, DestinationID set
	items       int            // items taken from the feed
	skipped     int            // items past Config.MaxItems
	unmatched   int            // items naming no destination (or with no text)
	notModified bool           // the server answered 304
	validators  validators     // to remember once the posts are stored
	err         error
	took        time.Duration // fetch, parse and match
}

// newClient returns the HTTP client feeds are fetched with. The per-feed
// deadline comes from the request's context; the transport's timeouts bound
// the phases below it. Waiting for the response has no timeout of its own:
// one equal to the deadline would race it and word the same timeout two
// ways.
func newClient(cfg Config) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          20,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: redirectPolicy(cfg.RedirectHosts),
	}
}

// redirectPolicy returns the client's CheckRedirect: a feed is followed at
// most maxRedirects times, only to its own host or one of extraHosts, and
// never from https to http. Whatever a redirect leads to is stored as the
// feed's posts, so a feed must not be able to hand that choice to another
// host.
func redirectPolicy(extraHosts []string) func(*http.Request, []*http.Request) error {
	allowed := make(map[string]bool, len(extraHosts))
	for _, h := range extraHosts {
		allowed[hostOf(&url.URL{Host: h})] = true
	}
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect from https to %s refused", req.URL.Scheme)
		}
		if host := hostOf(req.URL); host != hostOf(via[0].URL) && !allowed[host] {
			return fmt.Errorf("redirect to host %q refused: not the feed's host", host)
		}
		return nil
	}
}

// hostOf is the host of u as redirects compare it: the host name in lower
// case and the port, left out when it is the scheme's default, so that
// http://x.my redirecting to https://x.my stays on its host.
func hostOf(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" || u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// readFeed fetches, parses and matches the feed at feedURL. Its error, if
// any, says what went wrong with this feed; the caller names the feed.
func (s *Scraper) readFeed(ctx context.Context, feedURL string, m *db.Matcher) *feedResult {
	start := time.Now()
	r := &feedResult{url: feedURL}
	r.err = s.readFeedInto(ctx, r, m)
	r.took = time.Since(start)
	return r
}

func (s *Scraper) readFeedInto(ctx context.Context, r *feedResult, m *db.Matcher) error {
	u, err := url.Parse(r.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("invalid feed URL: want http(s)://host/path")
	}
	body, v, err := s.fetch(ctx, r.url)
	if err != nil {
		return err
	}
	if body == nil {
		r.notModified = true
		return nil
	}
	items, n, err := s.parse(body, s.cfg.MaxItems)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	r.validators = v
	r.items, r.skipped = len(items), n-len(items)
	for _, p := range feedPosts(items, feedSource(u), s.now()) {
		id, ok := m.Match(p.Text)
		if !ok {
			continue
		}
		p.DestinationID = &id
		r.posts = append(r.posts, p)
	}
	r.unmatched = r.items - len(r.posts)
	return nil
}

// fetch GETs feedURL conditionally. It returns the body and the response's
// validators, or a nil body when the server answered 304 Not Modified.
func (s *Scraper) fetch(ctx context.Context, feedURL string) ([]byte, validators, error) {
	fctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, feedURL, nil)
	if err != nil {
		return nil, validators{}, errors.New("invalid feed URL")
	}
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, "+
		"application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	if v, ok := s.validatorsOf(feedURL); ok {
		if v.etag != "" {
			req.Header.Set("If-None-Match", v.etag)
		}
		if v.lastModified != "" {
			req.Header.Set("If-Modified-Since", v.lastModified)
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, validators{}, s.fetchError(ctx, fctx, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, validators{}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, validators{}, fmt.Errorf("HTTP status %s", resp.Status)
	case resp.ContentLength > s.cfg.MaxBytes:
		return nil, validators{}, fmt.Errorf("feed larger than %d bytes", s.cfg.MaxBytes)
	}
	body, err := readBody(resp.Body, resp.ContentLength, s.cfg.MaxBytes)
	if err != nil {
		return nil, validators{}, s.fetchError(ctx, fctx, err)
	}
	if int64(len(body)) > s.cfg.MaxBytes {
		return nil, validators{}, fmt.Errorf("feed larger than %d bytes", s.cfg.MaxBytes)
	}
	v := validators{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	return body, v, nil
}

// readBody reads r to its end, but no more than limit+1 bytes: one more
// than allowed, so that a body over the limit is refused rather than parsed
// cut short. It reads into one buffer, sized by the Content-Length when
// there is one, rather than one grown by doubling. The body is never nil:
// an empty 200 is a parse error, not a 304.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	size := int64(64 << 10)
	if contentLength >= 0 {
		size = contentLength + 1 // room to see the end without growing
	}
	body := make([]byte, 0, min(size, limit+1))
	r = io.LimitReader(r, limit+1)
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		switch {
		case err == io.EOF:
			return body, nil
		case err != nil:
			return nil, err
		}
	}
}

// fetchError words a transport error: the feed's own deadline, the run's
// end, or the error itself.
func (s *Scraper) fetchError(runCtx, feedCtx context.Context, err error) error {
	switch {
	case runCtx.Err() != nil:
		return fmt.Errorf("fetch: run ended: %w", context.Cause(runCtx))
	case feedCtx.Err() != nil:
		return fmt.Errorf("fetch: timed out after %s", s.cfg.FetchTimeout)
	}
	// The feed is named by the caller; url.Error would name it again (or
	// name a redirect's target).
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return fmt.Errorf("fetch: %w", err)
}

func (s *Scraper) validatorsOf(feedURL string) (validators, bool) {
	s.validatorsMu.Lock()
	defer s.validatorsMu.Unlock()
	v, ok := s.validators[feedURL]
	return v, ok
}

// remember keeps a feed's validators for the next run's conditional GET. It
// is called only once the feed's posts are stored: remembering them earlier
// would let a 304 hide posts whose ingest failed.
func (s *Scraper) remember(feedURL string, v validators) {
	s.validatorsMu.Lock()
	defer s.validatorsMu.Unlock()
	if v == (validators{}) {
		delete(s.validators, feedURL)
		return
	}
	s.validators[feedURL] = v
}
