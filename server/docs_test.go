//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docsNotRunHere are the commands of docs/*.md this test does not run,
// each with where it is checked instead or why it cannot run in a test. A
// command in the docs that is neither run nor listed here fails the test.
var docsNotRunHere = map[string]string{
	`echo "ADMIN_TOKEN=$(openssl rand -hex 16)" >> .env`:         "writes the checkout's .env for docker compose",
	"docker compose up --build":                                  "needs Docker; server/cmd_health_test.go checks the compose file",
	"bash bench/wrk.sh":                                          "a benchmark of minutes (docs/benchmarks.md)",
	"bash bench/hostile.sh":                                      "a benchmark of minutes (docs/benchmarks.md)",
	"go test ":                                                   "benchmarks and fuzzing of go test; their code compiles in every go test ./...",
	"HOSTILE=1 go test ":                                         "an opt-in test of 20 000 connections",
	"go run ./server seed -properties 100000":                    "builds a data set of a million rows: minutes",
	`varnishd -f "$PWD/deploy/varnish/default.vcl"`:              "server/varnish_test.go runs varnishd with this VCL on a free port",
	"CDN_PURGE_URL=http://127.0.0.1:6081/":                       "server/varnish_test.go starts the server with these variables",
	"go build -o /tmp/kp ./server && go build -o /tmp/livebench": "the live-query benchmark: minutes and 19 500 connections",
	"MAX_CONNECTIONS=19700 LIVE_MAX_PER_CLIENT=100000":           "the live-query benchmark's server",
	"/tmp/livebench ":                                            "the live-query benchmark",
}

// Every command of a ```sh block in docs/*.md is run against a real
// server (curl lines with curl, `go run ./server …` with the built
// binary), and succeeds, or is listed in docsNotRunHere with a reason.
func TestDocsCommandsWork(t *testing.T) {
	for _, tool := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found (CI=true)", tool)
			}
			t.Skipf("%s not found", tool)
		}
	}
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(t.TempDir(), "kp.db")
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + dbFile})
	post(t, base, "tok", `mutation { createDestination(input: {name: "Pantai Cenang", city: "Langkawi", category: BEACH, description: "Beach."}) { id } }`, nil)
	host := strings.TrimPrefix(base, "http://")
	bin := serverBinary(t)
	ran := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, command := range shellCommands(string(text)) {
			if reason := notRunHere(command); reason != "" {
				t.Logf("%s: not run here (%s): %s", filepath.Base(page), reason, command)
				continue
			}
			run := command
			switch {
			case strings.HasPrefix(run, "curl "):
				run = "curl --max-time 3 " + strings.TrimPrefix(run, "curl ")
			case strings.HasPrefix(strings.TrimPrefix(run, "ADMIN_TOKEN=… "), "go run ./server "):
				run = bin + strings.TrimPrefix(strings.TrimPrefix(run, "ADMIN_TOKEN=… "), "go run ./server")
			default:
				t.Errorf("%s: a command neither run by this test nor listed in docsNotRunHere: %s", filepath.Base(page), command)
				continue
			}
			run = strings.NewReplacer("127.0.0.1:8080", host, "localhost:8080", host).Replace(run)
			cmd := exec.Command("bash", "-o", "pipefail", "-c", run)
			cmd.Env = append(os.Environ(), "ADMIN_TOKEN=tok", "ADDR="+host, "DATABASE_URL=sqlite:"+dbFile, "SCRAPE_SCHEDULE=off")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			// curl -N on an event stream ends at --max-time (exit 28) once it has printed.
			streamed := (strings.HasPrefix(command, "curl -sN") || strings.HasPrefix(command, "curl -N")) && errors.As(err, &exit) && exit.ExitCode() == 28 && len(out) > 0
			if (err != nil && !streamed) || len(strings.TrimSpace(string(out))) == 0 || strings.Contains(string(out), `"errors"`) {
				t.Errorf("%s: %s\n=> %v %s", filepath.Base(page), command, err, out)
			}
			ran++
		}
	}
	if ran < 6 {
		t.Errorf("ran %d commands of docs/, want at least 6", ran)
	}
}

// shellCommands returns the commands of the ```sh blocks of a Markdown
// page, trimmed, without blank lines and comments, a line ending in a
// backslash joined with the next.
func shellCommands(page string) []string {
	var commands []string
	in, cont := false, false
	for line := range strings.Lines(page) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "```"):
			in, cont = !in && line == "```sh", false
		case in && cont:
			commands[len(commands)-1] += " " + strings.TrimSuffix(line, "\\")
			cont = strings.HasSuffix(line, "\\")
		case in && line != "" && !strings.HasPrefix(line, "#"):
			commands = append(commands, strings.TrimSuffix(line, "\\"))
			cont = strings.HasSuffix(line, "\\")
		}
	}
	return commands
}

// notRunHere is the reason a command is not run by TestDocsCommandsWork,
// or "".
func notRunHere(command string) string {
	for _, c := range []string{command, withoutEnv(command)} {
		for prefix, reason := range docsNotRunHere {
			if strings.HasPrefix(c, prefix) {
				return reason
			}
		}
	}
	return ""
}

// withoutEnv drops the VAR=value assignments a command starts with
// ("RESPONSE_CACHE=off bash bench/wrk.sh memory" is bench/wrk.sh's).
func withoutEnv(command string) string {
	for {
		word, rest, ok := strings.Cut(command, " ")
		name, _, assign := strings.Cut(word, "=")
		if !ok || !assign || name == "" || strings.ToUpper(name) != name {
			return command
		}
		command = rest
	}
}
