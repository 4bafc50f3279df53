package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// cookieName is the dashboard's session cookie, sent only to /dashboard.
const cookieName = "kp_dashboard"

// sessionValue is the cookie value a login earns: an HMAC of a fixed label
// keyed by the admin token, so the cookie never holds the token, and a new
// token ends every session. No token, no session.
func sessionValue(token string) string {
	if token == "" {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("kedahpulse dashboard session v1"))
	return hex.EncodeToString(mac.Sum(nil))
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

// authorized reports whether r carries the session cookie or the admin
// bearer token.
func (b *Board) authorized(r *http.Request) bool {
	if b.session == "" {
		return false
	}
	if c, err := r.Cookie(cookieName); err == nil && hmac.Equal([]byte(c.Value), []byte(b.session)) {
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
