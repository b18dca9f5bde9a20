package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/build/e2e/e2etest"
	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// cliBinary returns a coding CLI (what, e.g. "Claude Code") installed by
// `npm ci` in build/e2e/<dir> as node_modules/.bin/<bin>, skipping the test
// when it is not there; requireEnv=1 (set by build/test.sh's stage
// for that CLI) makes a missing CLI a failure rather than a skip.
func cliBinary(t *testing.T, what, dir, bin, requireEnv string) string {
	t.Helper()
	path := filepath.Join(e2etest.Dir(t), dir, "node_modules", ".bin", bin)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s is not installed (%v) and %s=1 requires it: run npm ci in build/e2e/%s", what, err, requireEnv, dir)
		}
		t.Skipf("%s is not installed (npm ci in build/e2e/%s; %s=1 makes this a failure)", what, dir, requireEnv)
	}
	return path
}

// renamedCallStream is a real Gemini stream (thinking, then a signed
// function call) whose call is renamed to name, a tool the client offered,
// with args (JSON) as its arguments.
func renamedCallStream(t testing.TB, name, args string) []byte {
	t.Helper()
	body := string(proxytest.FixtureBody(fxToolCallSSE))
	const call = `"name": "now","args": {}`
	if !strings.Contains(body, call) {
		t.Fatalf("fixture %s changed: no %s", fxToolCallSSE, call)
	}
	return []byte(strings.Replace(body, call, `"name": "`+name+`","args": `+args, 1))
}
