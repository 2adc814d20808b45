// Package testenv decides what a test does when a tool from outside Go that
// it needs (Node and the npm ws package, Chromium, Python's websockets) is
// missing: under CI=true, where .ci/run installs all of them, the test
// fails; elsewhere it is skipped, saying what to install. No test counts a
// missing peer as a pass.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Require fails (CI=true) or skips t when err, the result of looking for
// what, is not nil.
func Require(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (CI=true requires it; .ci/run installs it): %v", what, err)
	}
	t.Skipf("%s is missing: %v", what, err)
}

// NodeWS returns the node binary and the scripts/node-ws directory with
// the npm ws package installed in it (scripts/node-ws/install.sh).
func NodeWS(t testing.TB) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	Require(t, "node (Node.js)", err)
	_, file, _, _ := runtime.Caller(0)
	dir = filepath.Join(filepath.Dir(file), "..", "..", "scripts", "node-ws")
	_, err = os.Stat(filepath.Join(dir, "node_modules", "ws"))
	Require(t, "the npm ws package (run scripts/node-ws/install.sh)", err)
	return node, dir
}
