package playground_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/server/playground"
)

// The page loads nothing from another origin: every script and
// stylesheet it names is served here, so the page works offline.
func TestPageLoadsOnlyItsOwnAssets(t *testing.T) {
	h := playground.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(page, "Authorization") {
		t.Fatalf("page: %d", rec.Code)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 4 {
		t.Fatalf("the page names %d assets", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/playground/") {
			t.Errorf("the page loads %s from elsewhere", ref)
			continue
		}
		for _, gz := range []bool{true, false} {
			req := httptest.NewRequest(http.MethodGet, ref, nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip, br")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if rec.Header().Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s: %v", ref, err)
				}
				body, _ = io.ReadAll(zr)
			}
			if rec.Code != http.StatusOK || len(body) < 1000 {
				t.Errorf("%s (gzip %v): %d, %d bytes", ref, gz, rec.Code, len(body))
			}
		}
	}
}

// The embedded assets are the pinned npm packages' files
// (clients/playground.sh copies them): checked when clients/ is installed.
func TestPlaygroundAssetsMatchThePins(t *testing.T) {
	mods := "../../clients/node_modules/"
	for asset, pinned := range map[string]string{
		"assets/graphiql.min.css":            "graphiql/graphiql.min.css",
		"assets/react.production.min.js":     "react/umd/react.production.min.js",
		"assets/react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
		"assets/graphiql.min.js.gz":          "graphiql/graphiql.min.js",
		"assets/graphql-sse.min.js":          "graphql-sse/umd/graphql-sse.min.js",
	} {
		want, err := os.ReadFile(mods + pinned)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("clients/ not installed (CI=true): %v", err)
			}
			t.Skipf("clients/ not installed: %v", err)
		}
		got, err := os.ReadFile(asset)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(asset, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			got, _ = io.ReadAll(zr)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the pinned %s: run clients/playground.sh", asset, pinned)
		}
	}
}
