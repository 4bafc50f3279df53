package dashboard

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"
)

//go:embed assets
var assets embed.FS

var loginPage = template.Must(template.ParseFS(assets, "assets/login.html"))

// Handler serves the page, its assets and its data under /dashboard:
//
//	GET  /dashboard                the page, or the login form without a session
//	POST /dashboard/login          form field "token": sets the session cookie
//	                               (10 attempts per client a minute, then 429)
//	POST /dashboard/logout         ends the session and clears the cookie
//	GET  /dashboard/api/snapshot   one snapshot, JSON
//	GET  /dashboard/api/events     a snapshot per tick, server-sent events
//	GET  /dashboard/assets/...     script and style (no data)
//
// The data endpoints answer 401 without the session cookie or the admin
// bearer token.
func (b *Board) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /dashboard/assets/", http.StripPrefix("/dashboard/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /dashboard", b.page)
	mux.HandleFunc("GET /dashboard/{$}", b.page)
	mux.HandleFunc("POST /dashboard/login", b.login)
	mux.HandleFunc("POST /dashboard/logout", b.logout)
	mux.Handle("GET /dashboard/api/snapshot", b.guard(http.HandlerFunc(b.serveSnapshot)))
	mux.Handle("GET /dashboard/api/events", b.guard(http.HandlerFunc(b.events)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		mux.ServeHTTP(w, r)
	})
}

func (b *Board) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !b.authorized(r) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "log in at /dashboard", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (b *Board) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !b.authorized(r) {
		b.loginForm(w, http.StatusOK, "")
		return
	}
	page, _ := assets.ReadFile("assets/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

func (b *Board) loginForm(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	loginPage.Execute(w, struct{ Error string }{message})
}

func (b *Board) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	now := b.opt.Now()
	if !b.logins.allow(clientOf(r), now) {
		w.Header().Set("Retry-After", strconv.Itoa(int(loginWindow.Seconds())))
		b.loginForm(w, http.StatusTooManyRequests, "Too many login attempts; try again in a minute.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || !b.tokenMatches(r.PostForm.Get("token")) {
		b.loginForm(w, http.StatusUnauthorized, "That is not the admin token.")
		return
	}
	http.SetCookie(w, sessionCookie(r, b.sessions.start(now), int(sessionTTL.Seconds())))
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

func (b *Board) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		b.sessions.end(c.Value)
	}
	http.SetCookie(w, sessionCookie(r, "", -1))
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

func (b *Board) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(b.Snapshot(r.Context()))
}

// events streams the board's snapshots, one per tick, until the client
// leaves or the server shuts down. Each write has a deadline of its own
// (the server's WriteTimeout would end the stream).
func (b *Board) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	ch, stop := b.watch()
	defer stop()
	send := func(data []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(append(append([]byte("data: "), data...), '\n', '\n')); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if len(ch) == 0 { // no tick yet: the first snapshot now
		body, err := json.Marshal(b.Snapshot(r.Context()))
		if err != nil || !send(body) {
			return
		}
	}
	for {
		select {
		case body := <-ch:
			if !send(body) {
				return
			}
		case <-r.Context().Done():
			return
		case <-b.closed:
			return
		}
	}
}
