package browser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/wsbench/wsbench/conformance/runner"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/server/chatserver"
)

// requireChromium skips the test when no browser is installed, except
// under CI=true, where a missing browser is a failure.
func requireChromium(t *testing.T) {
	t.Helper()
	_, err := findChromium()
	testenv.Require(t, "a browser for the browser lane (apt-get install chromium)", err)
}

// TestLane runs every case against the reference server in-process and
// fails on any FAILED case; it also saves a screenshot of the chat page to
// results/chat-page.png and checks that no Chromium process is left.
func TestLane(t *testing.T) {
	requireChromium(t)
	if testing.Short() {
		t.Skip("the browser lane takes about a minute; not in -short")
	}
	before := runtime.NumGoroutine()
	defer func() {
		// After Close and the server's Shutdown nothing of the lane runs.
		eventually.True(t, 10*time.Second, 50*time.Millisecond, func() error {
			if n := runtime.NumGoroutine(); n > before {
				return fmt.Errorf("%d goroutines, %d before the lane", n, before)
			}
			return nil
		})
	}()
	cfg := chatserver.DefaultConfig()
	cfg.PingInterval = 500 * time.Millisecond
	cfg.PongTimeout = 1500 * time.Millisecond
	cfg.ShutdownGrace = time.Second
	srv, err := chatserver.New(cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	}()

	u, _ := url.Parse("ws://" + ln.Addr().String() + "/")
	env := &suite.Env{URL: u, PingInterval: cfg.PingInterval, PongTimeout: cfg.PongTimeout, Browser: true, CaseTimeout: 30 * time.Second, Logf: t.Logf}

	var dataDir string
	defer func() {
		if err := Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if dataDir != "" {
			if pids := processesUsing(dataDir); len(pids) > 0 {
				t.Errorf("Chromium processes left after Close: %v", pids)
			}
		}
	}()

	// Run the lane as the conformance command does: through the runner,
	// four cases at a time (chat-page cases alone).
	var out strings.Builder
	entries := runner.Execute(context.Background(), env, Cases(), 4, &out)
	dataDir = shared.dataDir
	t.Logf("lane results:\n%s", out.String())
	for _, e := range entries {
		switch e.Result.Verdict {
		case suite.Failed:
			t.Errorf("%s %s FAILED\n  expected: %s\n  observed: %s", e.Case.ID, e.Case.Title, e.Result.Expected, e.Result.Observed)
		case suite.Skipped:
			t.Errorf("%s skipped against the reference server: %s", e.Case.ID, e.Result.Detail)
		}
	}

	t.Run("cases can fail", func(t *testing.T) { checkCasesCanFail(t, env) })

	// A screenshot of a real conversation for the README.
	l, err := shared.get()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shot := func(c *chatTab) error {
		buf, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			return err
		}
		dir := filepath.Join("..", "..", "results")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "chat-page.png"), buf, 0o644)
	}
	if _, err := chatConversation(ctx, l, ln.Addr().String(), shot); err != nil {
		t.Errorf("screenshot conversation: %v", err)
	}
}

// processesUsing lists the pids whose command line mentions s.
func processesUsing(s string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func TestCheckSequence(t *testing.T) {
	ev := func(types ...string) []event {
		var out []event
		for _, ty := range types {
			out = append(out, event{Type: ty})
		}
		return out
	}
	tests := []struct {
		name string
		log  []event
		ok   bool
	}{
		{"open messages close", ev("ctor", "open", "message", "message", "close"), true},
		{"failed connection", ev("ctor", "error", "close"), true},
		{"error after messages", ev("open", "message", "error", "close"), true},
		{"calls and states are ignored", ev("ctor", "call", "state", "open", "throw", "close", "state"), true},
		{"no close", ev("open", "message"), false},
		{"two closes", ev("open", "close", "close"), false},
		{"message after close", ev("open", "close", "message"), false},
		{"message before open", ev("message", "open", "close"), false},
		{"two opens", ev("open", "open", "close"), false},
		{"open after error", ev("error", "open", "close"), false},
		{"two errors", ev("error", "error", "close"), false},
		{"error after close", ev("open", "close", "error"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkSequence(tc.log)
			if (err == nil) != tc.ok {
				t.Errorf("checkSequence(%s) = %v; want ok=%t", summary(tc.log), err, tc.ok)
			}
		})
	}
}

func TestFindChromiumEnv(t *testing.T) {
	t.Setenv(ChromiumEnv, filepath.Join(t.TempDir(), "no-such-browser"))
	if _, err := findChromium(); !errors.Is(err, errNoChromium) {
		t.Errorf("findChromium with a missing %s = %v; want errNoChromium", ChromiumEnv, err)
	}
}

// checkCasesCanFail runs cases against a server that is not ours and
// mangles what it relays: BR-12 must fail, the chat-page cases must skip.
func checkCasesCanFail(t *testing.T, env *suite.Env) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			w.Write([]byte("some other server\n"))
			return
		}
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			msg, op, err := wsutil.ReadClientData(conn)
			if err != nil {
				return
			}
			wsutil.WriteServerMessage(conn, op, []byte(strings.ToUpper(string(msg))))
		}
	})}
	go hs.Serve(ln)
	defer hs.Close()

	bad := *env
	bad.URL, _ = url.Parse("ws://" + ln.Addr().String() + "/")
	want := map[string]suite.Verdict{"BR-12": suite.Failed, "BR-CP-01": suite.Skipped}
	for _, c := range Cases() {
		v, ok := want[c.ID]
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res := c.Run(ctx, &bad)
		cancel()
		if res.Verdict != v {
			t.Errorf("%s against a mangling, non-wsbench server = %v (%s%s); want %v", c.ID, res.Verdict, res.Detail, res.Observed, v)
		}
	}
}

// TestMissingChromiumSkips checks that without a browser every case is
// SKIPPED with the reason, not failed or hung, and the failure is
// remembered until Close.
func TestMissingChromiumSkips(t *testing.T) {
	var l lane
	t.Setenv(ChromiumEnv, filepath.Join(t.TempDir(), "no-such-browser"))
	for range 2 {
		if _, err := l.get(); !errors.Is(err, errNoChromium) {
			t.Fatalf("get() = %v; want errNoChromium", err)
		}
	}
	if res := laneErr(errNoChromium); res.Verdict != suite.Skipped {
		t.Errorf("laneErr(errNoChromium) = %v; want SKIPPED", res.Verdict)
	}
	if err := l.close(); err != nil {
		t.Errorf("close() = %v", err)
	}
	if l.started {
		t.Error("close() left the failed lane marked started")
	}
}
