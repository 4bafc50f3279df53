package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// health succeeds against a running server and fails when none answers.
func TestHealthCommand(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	env := map[string]string{"ADDR": strings.TrimPrefix(base, "http://")}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"health"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil || strings.TrimSpace(out.String()) != "ok" {
		t.Errorf("health of a running server: %v, %q", err, out.String())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env["ADDR"] = l.Addr().String()
	l.Close() // nothing listens there now
	if err := run(context.Background(), []string{"health"}, func(k string) string { return env[k] }, io.Discard, io.Discard); err == nil {
		t.Error("health succeeded with no server")
	}
}

// compose restarts the API and checks its health with the binary itself
// (the image has no curl), and takes the token from the environment or .env.
func TestComposeRunsTheAPIHealthy(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Restart     string            `yaml:"restart"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	api := compose.Services["api"]
	if api.Restart != "unless-stopped" {
		t.Errorf("api restart %q, want unless-stopped", api.Restart)
	}
	if !slices.Equal(api.Healthcheck.Test, []string{"CMD", "/kedahpulse", "health"}) {
		t.Errorf("api healthcheck %q", api.Healthcheck.Test)
	}
	if !strings.HasPrefix(api.Environment["ADMIN_TOKEN"], "${ADMIN_TOKEN:?") || !bytes.Contains(raw, []byte(".env")) {
		t.Errorf("ADMIN_TOKEN %q: want it required, from the environment or .env", api.Environment["ADMIN_TOKEN"])
	}
}

// The shipped prometheus.yml names its rules relative to itself (as
// Prometheus resolves them), so it works from any directory.
func TestPrometheusConfigWorksFromAnywhere(t *testing.T) {
	file := filepath.Join("..", "deploy", "prometheus", "prometheus.yml")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.RuleFiles) == 0 {
		t.Fatal("no rule_files")
	}
	for _, r := range cfg.RuleFiles {
		if _, err := os.Stat(filepath.Join(filepath.Dir(file), r)); err != nil {
			t.Errorf("rule file %s, relative to %s: %v", r, file, err)
		}
	}
}
