package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startNginx runs a stock nginx proxy_cache in front of backend (host:port)
// and returns its address. Without nginx the test is skipped, or fails
// under CI=true (.ci/run installs it).
func startNginx(t *testing.T, backend string) string {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
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
      proxy_cache_valid 200 10m;
      proxy_cache_revalidate on;
      add_header X-Proxy-Cache $upstream_cache_status always;
    }
  }
}
`, dir, addr, backend)
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

// A stock nginx proxy_cache in front of the server never answers an old
// price after a write: answers say no-cache, so the proxy revalidates
// (with a max-age, nginx would keep the price from before the write).
func TestProxyCacheNeverServesStale(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "100.00", location: "x"}) { id } }`, nil)
	proxy := "http://" + startNginx(t, strings.TrimPrefix(base, "http://"))
	read := proxy + "/graphql?query=" + url.QueryEscape(`{ property(id: "1") { price } }`)
	get := func() (string, string) {
		resp, err := http.Get(read)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.Header.Get("X-Proxy-Cache")
	}
	for range 3 {
		if body, _ := get(); !strings.Contains(body, `"100.00"`) {
			t.Fatalf("through nginx: %s", body)
		}
	}
	for i, price := range []string{"450000.00", "460000.00"} {
		post(t, base, "tok", fmt.Sprintf(`mutation { updateProperty(id: "1", input: {price: %q}) { id } }`, price), nil)
		if body, status := get(); !strings.Contains(body, price) {
			t.Errorf("write %d: nginx (%s) answered %s, want %s", i+1, status, body, price)
		}
	}
}
