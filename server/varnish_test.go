//go:build linux

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
	"syscall"
	"testing"
	"time"
)

// startVarnish runs varnishd on addr with the shipped
// deploy/varnish/default.vcl, its site.vcl replaced by one naming backend
// (host:port) and letting loopback purge. Without varnishd and the xkey
// vmod the test is skipped, or fails under CI=true (.ci/run installs them).
func startVarnish(t *testing.T, addr, backend string) {
	t.Helper()
	bin := "/usr/sbin/varnishd"
	vmods, _ := filepath.Glob("/usr/lib/*/varnish/vmods/libvmod_xkey.so")
	if _, err := os.Stat(bin); err != nil || len(vmods) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("varnishd or its xkey vmod not found (CI=true; .ci/run installs varnish and varnish-modules)")
		}
		t.Skip("varnishd or its xkey vmod not found")
	}
	vcl, err := filepath.Abs(filepath.Join("..", "deploy", "varnish", "default.vcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(backend)
	site := fmt.Sprintf("backend default { .host = %q; .port = %q; }\nacl purgers { \"127.0.0.1\"; }\n", host, port)
	if err := os.WriteFile(filepath.Join(dir, "site.vcl"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-j", "none", "-n", filepath.Join(dir, "n"), "-a", addr, "-f", vcl,
		"-p", "vcl_path="+dir+":"+filepath.Dir(vcl), "-s", "malloc,32m")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for range 200 {
		select {
		case <-exited:
			t.Fatalf("varnishd exited: %s", out.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("varnishd did not start: %s", out.String())
}

// varnishInFront starts a server process in the CDN mode purging a Varnish
// (xkey) that runs the shipped VCL in front of it, through a counting
// proxy; the server holds one listing at price 100.00. It returns the
// server's and Varnish's base URLs.
func varnishInFront(t *testing.T, vars map[string]string) (string, string, *countingProxy) {
	t.Helper()
	varnish := freeAddr(t)
	vars["DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "kp.db")
	vars["CDN_PURGE_URL"], vars["CDN_PURGE_FORMAT"] = "http://"+varnish+"/", "xkey"
	server := runProcess(t, serverBinary(t), vars)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range server.lines() {
				t.Log(l)
			}
		}
	})
	proxy := newCountingProxy(t, server.addr)
	startVarnish(t, varnish, strings.TrimPrefix(proxy.URL, "http://"))
	base := "http://" + server.addr
	post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "100.00", location: "x"}) { id } }`, nil)
	return base, "http://" + varnish, proxy
}

// Varnish with the shipped VCL in front of a server in the CDN mode:
// repeated reads are answered by Varnish (the server sees one GET per
// change), and after each acknowledged write the next read through
// Varnish shows the new price.
func TestVarnishOffloadsReadsAndNeverServesStale(t *testing.T) {
	base, varnish, proxy := varnishInFront(t, map[string]string{})
	price := "100.00"
	for i, next := range []string{"", "450000.00", "460000.00", "470000.00"} {
		if next != "" {
			post(t, base, "tok", fmt.Sprintf(`mutation { updateProperty(id: "1", input: {price: %q}) { id } }`, next), nil)
			price = next
		}
		before := proxy.gets.Load()
		for j := range 3 {
			body, status := getPrice(t, varnish)
			if !strings.Contains(body, `"`+price+`"`) {
				t.Fatalf("change %d, read %d through Varnish (%s): %s, want %s", i, j+1, status, body, price)
			}
			if want := map[bool]string{true: "MISS", false: "HIT"}[j == 0]; status != want {
				t.Errorf("change %d, read %d: X-Varnish-Cache %s, want %s", i, j+1, status, want)
			}
		}
		if got := proxy.gets.Load() - before; got != 1 {
			t.Errorf("change %d: 3 reads through Varnish reached the server %d times, want 1 (Varnish stores the answer)", i, got)
		}
	}
}

// A read that began before a write and reached Varnish after the write's
// purge leaves the old answer in Varnish; the second purge, sent
// CDN_REPURGE_AFTER after the first, removes it, so reads through Varnish
// show the new price again.
func TestVarnishRepurgesReadsThatBeganBeforeAWrite(t *testing.T) {
	base, varnish, proxy := varnishInFront(t, map[string]string{"CDN_REPURGE_AFTER": "1s"})
	hold := make(chan struct{})
	proxy.hold.Store(&hold)
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(varnish + "/graphql?query=" + url.QueryEscape(`{ property(id: "1") { price } }`))
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-proxy.held // the server answered 100.00; Varnish has not received it
	proxy.hold.Store(nil)
	post(t, base, "tok", `mutation { updateProperty(id: "1", input: {price: "450000.00"}) { id } }`, nil)
	close(hold)
	if body := <-slow; !strings.Contains(body, `"100.00"`) {
		t.Fatalf("the read that began before the write: %s", body)
	}
	stale := 0
	for range 300 {
		body, _ := getPrice(t, varnish)
		if strings.Contains(body, `"450000.00"`) {
			t.Logf("%d reads through Varnish answered the pre-write price before the second purge", stale)
			return
		}
		stale++
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Varnish still answers the price from before the write after %d reads", stale)
}
