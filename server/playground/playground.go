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

// Handler serves the page at its root and the assets under
// /playground/. GraphiQL is embedded gzipped: it is sent as it is to
// clients that accept gzip (every browser) and decompressed for the rest.
func Handler() http.Handler {
	assets, _ := fs.Sub(files, "assets")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'")
		http.ServeFileFS(w, r, files, "index.html")
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
