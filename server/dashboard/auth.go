package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// cookieName is the dashboard's session cookie, sent only to /dashboard.
const cookieName = "kp_dashboard"

// Bounds of sessions and login attempts.
const (
	sessionTTL    = 12 * time.Hour // a session ends this long after its login
	maxSessions   = 1024           // past it, a login ends the oldest session
	loginAttempts = 10             // login attempts per client per loginWindow
	loginWindow   = time.Minute
	maxClients    = 4096 // clients counted at once; past it, the rest share one count
)

// sessions are the random ids logins earned, in this process, until their
// logout or their sessionTTL: a logout revokes the cookie it came with,
// and the cookie never holds the token.
type sessions struct {
	mu  sync.Mutex
	ids map[string]time.Time // id -> when it ends
}

// start returns a new session's id, ending the oldest if there are too many.
func (s *sessions) start(now time.Time) string {
	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[string]time.Time{}
	}
	for old, end := range s.ids {
		if !now.Before(end) {
			delete(s.ids, old)
		}
	}
	if len(s.ids) >= maxSessions {
		oldest, first := "", time.Time{}
		for old, end := range s.ids {
			if oldest == "" || end.Before(first) {
				oldest, first = old, end
			}
		}
		delete(s.ids, oldest)
	}
	s.ids[id] = now.Add(sessionTTL)
	return id
}

// valid reports whether id is a live session.
func (s *sessions) valid(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	end, ok := s.ids[id]
	return ok && now.Before(end)
}

// end revokes id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}

// attempts counts login attempts per client (its IP address) in fixed
// windows of loginWindow, for at most maxClients clients at once.
type attempts struct {
	mu      sync.Mutex
	clients map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// allow counts one attempt of client and reports whether it is within
// loginAttempts this window.
func (a *attempts) allow(client string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.clients == nil {
		a.clients = map[string]*window{}
	}
	w, ok := a.clients[client]
	if !ok && len(a.clients) >= maxClients {
		for c, old := range a.clients {
			if now.Sub(old.start) >= loginWindow {
				delete(a.clients, c)
			}
		}
		if len(a.clients) >= maxClients {
			client = "" // the overflow shares one count
			w, ok = a.clients[client]
		}
	}
	if !ok || now.Sub(w.start) >= loginWindow {
		w = &window{start: now}
		a.clients[client] = w
	}
	w.n++
	return w.n <= loginAttempts
}

// clientOf is the address a request came from (without its port).
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tokenMatches compares a presented token with the admin token in constant
// time (over SHA-256 digests, so the length does not leak either).
func (b *Board) tokenMatches(got string) bool {
	if b.opt.Token == "" {
		return false
	}
	want, sum := sha256.Sum256([]byte(b.opt.Token)), sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

// authorized reports whether r carries a live session cookie or the admin
// bearer token.
func (b *Board) authorized(r *http.Request) bool {
	if b.opt.Token == "" {
		return false
	}
	if c, err := r.Cookie(cookieName); err == nil && b.sessions.valid(c.Value, b.opt.Now()) {
		return true
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return b.tokenMatches(got)
	}
	return false
}

// sessionCookie is the cookie a login sets (value "" and maxAge < 0: the
// one a logout sets).
func sessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: "/dashboard", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
}
