package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// clientsDir is where the npm clients live (clients/, installed by
// .ci/run with npm ci from its lockfile).
const clientsDir = "../clients"

// node runs a script of clients/ with args and returns its output. Without
// node or the installed packages the test is skipped, or fails under
// CI=true.
func node(t *testing.T, script string, args ...string) (string, error) {
	t.Helper()
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(clientsDir, "node_modules"))
	if errNode != nil || errMods != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or clients/node_modules missing (CI=true; .ci/run installs them): %v %v", errNode, errMods)
		}
		t.Skip("node or clients/node_modules missing: run npm ci in clients/")
	}
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = clientsDir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// graphql-http's server audit (the GraphQL over HTTP spec) passes in full
// against the real server: every audit ok, no warning, no notice.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	out, err := node(t, "audit.mjs", base+"/graphql")
	t.Log(out)
	if err != nil || !strings.Contains(out, " 0 failed") {
		t.Errorf("audit: %v", err)
	}
}

// Apollo Client with its persisted-queries link (hashed queries as GET)
// queries, mutates with the admin token and refetches, and sees its write.
// The link retries with the full query only on PERSISTED_QUERY_NOT_FOUND,
// so a hash-only request for an unknown query must answer that code.
func TestApolloClientPersistedQueries(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "1", location: "x"}) { id } }`, nil)
	out, err := node(t, "apollo.mjs", base+"/graphql", "tok")
	t.Log(out)
	if err != nil || !strings.Contains(out, " 0 failed") {
		t.Errorf("apollo: %v", err)
	}
}
