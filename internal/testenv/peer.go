package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// PythonWebsockets returns a Python interpreter that can import websockets:
// the python3 on PATH, else Debian's /usr/bin/python3 (python3-websockets
// installs into its packages, which a pyenv or venv python3 on PATH does
// not see).
func PythonWebsockets(t testing.TB) string {
	t.Helper()
	var err error
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if err = exec.Command(py, "-c", "import websockets").Run(); err == nil {
			return py
		}
	}
	Require(t, "python3 with websockets (apt-get install python3-websockets)", err)
	return ""
}

// Scripts returns the repository's scripts directory.
func Scripts() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts")
}

// NodeChat starts scripts/peers/node-chat/server.js, a chat server written
// the way tutorials write it, with --style style (except-sender, json,
// join, keepalive) and args on a free port, and returns its HOST:PORT.
func NodeChat(t testing.TB, style string, args ...string) string {
	t.Helper()
	node, dir := NodeWS(t)
	cmd := exec.Command(node, append([]string{filepath.Join(Scripts(), "peers", "node-chat", "server.js"), "--style", style, "--port", "0"}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	return StartPeer(t, cmd)
}

// listening is what every peer under scripts/ prints once it serves.
var listening = regexp.MustCompile(`listening on (\S+:\d+)`)

// StartPeer starts cmd (a peer server from scripts/), waits up to 20 s for
// it to print "listening on HOST:PORT" on stdout and returns HOST:PORT.
// The process is interrupted (then killed after 5 s) when t ends; its
// stderr goes to t.Logf.
func StartPeer(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedWriter{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if s := stderr.String(); s != "" {
			t.Logf("%s stderr:\n%s", filepath.Base(cmd.Path), s)
		}
	})
	select {
	case a := <-addr:
		return a
	case <-exited:
		t.Fatalf("%s exited before listening: %s", strings.Join(cmd.Args, " "), stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not print its address within 20 s", strings.Join(cmd.Args, " "))
	}
	return ""
}

// lockedWriter is a strings.Builder written by the exec package's copier
// goroutine and read by the test.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
