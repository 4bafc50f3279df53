package playground

import (
	"compress/gzip"
	"embed"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed index.html assets
var files embed.FS

// csp lets the page load only from the server, plus the data: URLs
// GraphiQL embeds (its fonts and icons are inlined in its CSS).
const csp = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'"

// Handler serves the page at its root, the assets under /playground/ and
// an empty /favicon.ico. GraphiQL is embedded gzipped: it is sent as it is to
// clients that accept gzip (every browser) and decompressed for the rest.
func Handler() http.Handler {
	assets, _ := fs.Sub(files, "assets")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		http.ServeFileFS(w, r, files, "index.html")
	})
	// The page names no icon, so browsers ask for /favicon.ico: an empty
	// answer instead of a 404 in the console.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /playground/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(r.PathValue("name"))
		w.Header().Set("Cache-Control", "public, max-age=86400")
		if f, err := assets.Open(name + ".gz"); err == nil {
			defer f.Close()
			w.Header().Set("Content-Type", contentType(name))
			w.Header().Set("Vary", "Accept-Encoding")
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
				io.Copy(w, f)
				return
			}
			zr, err := gzip.NewReader(f)
			if err != nil {
				http.Error(w, "broken asset", http.StatusInternalServerError)
				return
			}
			io.Copy(w, zr)
			return
		}
		http.ServeFileFS(w, r, assets, name)
	})
	return mux
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "application/octet-stream"
}
