package serve_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/serve"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/testenv"
)

// The client flags the drivers in scripts/clients get: the same policy as
// the Go client in serve_test.go, a seed for reproducible jitter, and the
// text on which they close as a user leaving would.
var driverFlags = []string{"--base", "100", "--cap", "1600", "--stable", "1000", "--hb", "200",
	"--hb-timeout", "600", "--seed", "7", "--close-on", serve.LastMessage}

// peerClient runs a driver from scripts/clients until it exits or ctx ends.
func peerClient(t *testing.T, cmd func(ctx context.Context, url string) *exec.Cmd) func(ctx context.Context, url string) {
	return func(ctx context.Context, url string) {
		c := cmd(ctx, url)
		var out strings.Builder
		c.Stdout, c.Stderr = &out, &out
		err := c.Run()
		t.Logf("%s: %v\n%s", filepath.Base(c.Args[1]), err, out.String())
		if err != nil && ctx.Err() == nil {
			t.Errorf("the driver exited with %v before the session ended", err)
		}
	}
}

// requireAllPass checks that every behaviour case but CR-11 (the drivers
// close on their own, which skips it) is OK.
func requireAllPass(t *testing.T, got map[string]suite.Result) {
	t.Helper()
	if len(got) != 11 {
		t.Errorf("%d cases; want 11", len(got))
	}
	for id, r := range got {
		want := suite.OK
		if id == "CR-11" {
			want = suite.Skipped
		}
		if r.Verdict != want {
			t.Errorf("%s = %v (%s); want %v", id, r.Verdict, report.Detail(r), want)
		}
	}
}

// TestNodeClientPasses: a reconnect loop around the npm ws client.
func TestNodeClientPasses(t *testing.T) {
	t.Parallel()
	node, dir := testenv.NodeWS(t)
	script := filepath.Join(testenv.Scripts(), "clients", "reconnect-client.js")
	got, _ := runSession(t, fastConfig(), "node-ws", peerClient(t, func(ctx context.Context, url string) *exec.Cmd {
		c := exec.CommandContext(ctx, node, append([]string{script, url}, driverFlags...)...)
		c.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
		return c
	}))
	requireAllPass(t, got)
}

// TestPythonClientPasses: a reconnect loop around Python's websockets.
func TestPythonClientPasses(t *testing.T) {
	t.Parallel()
	py := testenv.PythonWebsockets(t)
	script := filepath.Join(testenv.Scripts(), "clients", "reconnect-client.py")
	got, _ := runSession(t, fastConfig(), "python-websockets", peerClient(t, func(ctx context.Context, url string) *exec.Cmd {
		return exec.CommandContext(ctx, py, append([]string{script, url}, driverFlags...)...)
	}))
	requireAllPass(t, got)
}

// requireProtocol checks the 26 protocol cases: OK, except the IDs in
// nonStrict; CP-26 must have negotiated permessage-deflate.
func requireProtocol(t *testing.T, got map[string]suite.Result, nonStrict ...string) {
	t.Helper()
	n := 0
	for id, r := range got {
		if !strings.HasPrefix(id, "CP-") {
			t.Errorf("%s: only protocol cases expected", id)
			continue
		}
		n++
		want := suite.OK
		if slices.Contains(nonStrict, id) {
			want = suite.NonStrict
		}
		if r.Verdict != want {
			t.Errorf("%s = %v (%s); want %v", id, r.Verdict, report.Detail(r), want)
		}
	}
	if n != 26 {
		t.Errorf("%d protocol cases; want 26", n)
	}
	if d := got["CP-26"].Detail; !strings.HasPrefix(d, "negotiated") {
		t.Errorf("CP-26 detail %q; want permessage-deflate negotiated", d)
	}
}

// TestNodeProtocol runs the Autobahn-style driver around the npm ws
// client: everything passes but fail-fast UTF-8 (CP-21), which ws checks
// only once the whole message has arrived.
func TestNodeProtocol(t *testing.T) {
	t.Parallel()
	node, dir := testenv.NodeWS(t)
	script := filepath.Join(testenv.Scripts(), "clients", "autobahn-client.js")
	got, _ := runServe(t, fastConfig(), peerClient(t, func(ctx context.Context, base string) *exec.Cmd {
		c := exec.CommandContext(ctx, node, script, base, "node-ws")
		c.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
		return c
	}))
	requireProtocol(t, got, "CP-21")
}

// TestPythonProtocol runs the Autobahn-style driver around Python's
// websockets client: everything passes.
func TestPythonProtocol(t *testing.T) {
	t.Parallel()
	py := testenv.PythonWebsockets(t)
	script := filepath.Join(testenv.Scripts(), "clients", "autobahn-client.py")
	cfg := fastConfig()
	cfg.ReportDir = t.TempDir()
	got, _ := runServe(t, cfg, peerClient(t, func(ctx context.Context, base string) *exec.Cmd {
		return exec.CommandContext(ctx, py, script, base, "python-websockets")
	}))
	requireProtocol(t, got)
	// --report-dir: Autobahn's index.json, one entry per case for the agent.
	b, err := os.ReadFile(filepath.Join(cfg.ReportDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]map[string]struct {
		Behavior string `json:"behavior"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if n := len(idx["python-websockets"]); n != 26 {
		t.Errorf("index.json has %d cases for python-websockets; want 26", n)
	}
	if r := idx["python-websockets"]["5.6"]; r.Behavior != "OK" {
		t.Errorf("index.json case 5.6 (CP-04) = %q; want OK", r.Behavior)
	}
}
