package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// freeAddr is a loopback address no one listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// countingProxy stands between a proxy (Varnish, nginx) and the server: it counts the GET
// requests that reach the server and, while hold is set, keeps each
// answer until hold is closed (telling held first).
type countingProxy struct {
	*httptest.Server
	gets atomic.Int32
	hold atomic.Pointer[chan struct{}]
	held chan struct{}
}

func newCountingProxy(t *testing.T, backend string) *countingProxy {
	p := &countingProxy{held: make(chan struct{}, 1)}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backend})
	rp.ModifyResponse = func(*http.Response) error {
		if hold := p.hold.Load(); hold != nil {
			p.held <- struct{}{}
			<-*hold
		}
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			p.gets.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// getPrice reads property 1's price through base, returning the body and
// the X-Varnish-Cache header (a proxy's verdict).
func getPrice(t *testing.T, base string) (string, string) {
	t.Helper()
	resp, err := http.Get(base + "/graphql?query=" + url.QueryEscape(`{ property(id: "1") { price } }`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.Header.Get("X-Varnish-Cache")
}

// startNginx runs nginx with proxy_cache in front of backend (host:port),
// with extra directives in its location, and returns its address. Without
// nginx the test is skipped, or fails under CI=true (.ci/run installs it).
func startNginx(t *testing.T, backend, extra string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("nginx not found (CI=true; .ci/run installs it)")
			}
			t.Skip("nginx not found")
		}
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	conf := fmt.Sprintf(`daemon off; master_process off; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fcgi;
  uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  proxy_cache_path %[1]s/cache keys_zone=kp:1m;
  server {
    listen %[2]s;
    location / {
      proxy_pass http://%[3]s;
      proxy_cache kp;
      proxy_cache_revalidate on;
      %[4]s
      add_header X-Proxy-Cache $upstream_cache_status always;
    }
  }
}
`, dir, addr, backend, extra)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx did not start: %s", log)
	return ""
}

// What nginx's proxy_cache does with the headers the server sends
// (docs/production.md says the same): stock (proxy_cache_valid and
// proxy_cache_revalidate, no override), it stores nothing, since nginx
// treats Cache-Control no-cache as uncacheable: every read reaches the
// server (the test fails if nginx answers one from its store), and no
// answer is older than the last write. Forced to store
// (proxy_ignore_headers Cache-Control), it reuses answers without
// revalidating and serves the price from before a write; so nginx offloads
// no reads safely, and the CDN mode with Varnish (deploy/varnish) does.
func TestNginxProxyCache(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "100.00", location: "x"}) { id } }`, nil)
	for _, c := range []struct {
		name, extra string
		stores      bool
	}{
		{"stock", "proxy_cache_valid 200 10m;", false},
		{"forced to store", "proxy_cache_valid 200 10m; proxy_ignore_headers Cache-Control Expires;", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			post(t, base, "tok", `mutation { updateProperty(id: "1", input: {price: "100.00"}) { id } }`, nil)
			counter := newCountingProxy(t, strings.TrimPrefix(base, "http://"))
			proxy := "http://" + startNginx(t, strings.TrimPrefix(counter.URL, "http://"), c.extra)
			price, stale, reads := "100.00", 0, 0
			for _, next := range []string{"", "450000.00", "460000.00"} {
				if next != "" {
					post(t, base, "tok", fmt.Sprintf(`mutation { updateProperty(id: "1", input: {price: %q}) { id } }`, next), nil)
					price = next
				}
				for range 3 {
					reads++
					if body, _ := getPrice(t, proxy); !strings.Contains(body, `"`+price+`"`) {
						stale++
					}
				}
			}
			gets := int(counter.gets.Load())
			t.Logf("nginx %s: %d reads, %d reached the server, %d stale", c.name, reads, gets, stale)
			if stores := gets < reads; stores != c.stores {
				t.Errorf("nginx %s: %d of %d reads reached the server; the docs say it stores answers: %v", c.name, gets, reads, c.stores)
			}
			if wantStale := c.stores; (stale > 0) != wantStale {
				t.Errorf("nginx %s: %d stale reads; the docs say it serves stale answers: %v", c.name, stale, wantStale)
			}
		})
	}
}
