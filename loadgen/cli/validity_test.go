package cli

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/report"
)

// runOut is the outcome of one Run.
type runOut struct {
	code           int
	stdout, stderr string
	rep            *report.Report // nil when no --out was written
}

// runAgainst runs the loadgen with args plus --out against url.
func runAgainst(t *testing.T, url string, args ...string) runOut {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr bytes.Buffer
	all := append([]string{"--url", url, "--out", out, "-q"}, args...)
	code := loadgen("run", all, &stdout, &stderr)
	res := runOut{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if rep, err := report.ReadFile(out); err == nil {
		res.rep = rep
	}
	return res
}

func startRelay(t *testing.T, r *relaytest.Relay) string {
	t.Helper()
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r.URL()
}

// kickAfterConnect waits until want clients are connected to relay, waits
// a little into the run, then closes kick of them with 1008, as a server
// that sheds load does. It returns a func that waits for it.
func kickAfterConnect(t *testing.T, relay *relaytest.Relay, want, kick int, after time.Duration) func() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		eventually.True(t, 10*time.Second, 5*time.Millisecond, func() error {
			if n := relay.Conns(); n < want {
				return fmt.Errorf("%d of %d clients connected", n, want)
			}
			return nil
		})
		time.Sleep(after) // into the measured window; not a synchronisation
		for range kick {
			relay.Kick(ws.StatusPolicyViolation)
		}
	}()
	return wg.Wait
}

// TestSilentPassesNowFail reproduces each way a run used to exit 0 while
// measuring nothing, and checks its exit code, the report's verdict and
// that stderr says what happened.
func TestSilentPassesNowFail(t *testing.T) {
	t.Parallel()
	load := []string{"--clients", "20", "--senders", "2", "--rate", "40", "--duration", "1500ms", "--warmup", "200ms", "--drain", "1s"}

	t.Run("server drops most clients", func(t *testing.T) {
		t.Parallel()
		relay := &relaytest.Relay{}
		url := startRelay(t, relay)
		wait := kickAfterConnect(t, relay, 20, 18, 700*time.Millisecond)
		res := runAgainst(t, url, append(load, "--max-loss", "0.1%")...)
		wait()
		if res.code != ExitInvalid || !strings.Contains(res.stderr, "18 of 20 connections") || !strings.Contains(res.stderr, "--max-drops") {
			t.Errorf("exit %d, stderr %q; want %d naming 18 of 20 dropped and --max-drops", res.code, res.stderr, ExitInvalid)
		}
		if res.rep == nil || res.rep.Valid || len(res.rep.InvalidReasons) == 0 || res.rep.Connections.Dropped != 18 {
			t.Errorf("report %+v; want valid false with reasons and 18 dropped", res.rep)
		}
	})

	t.Run("drops cannot dodge max-loss", func(t *testing.T) {
		t.Parallel()
		relay := &relaytest.Relay{}
		url := startRelay(t, relay)
		wait := kickAfterConnect(t, relay, 20, 10, 700*time.Millisecond)
		res := runAgainst(t, url, append(load, "--max-loss", "0.1%", "--max-drops", "100%")...)
		wait()
		if res.code != ExitThreshold || !strings.Contains(res.stderr, "counting the 10 dropped receivers") {
			t.Errorf("exit %d, stderr %q; want %d with the loss counting the 10 dropped receivers", res.code, res.stderr, ExitThreshold)
		}
		if m := res.rep.Messages; m.Lost != 0 || m.LostAll == 0 || m.ExpectedAll != m.Sent*20 {
			t.Errorf("messages %+v; want no loss over the receivers that stayed, loss over all 20", m)
		}
	})

	t.Run("server wraps messages", func(t *testing.T) {
		t.Parallel()
		url := startRelay(t, &relaytest.Relay{Wrap: true})
		res := runAgainst(t, url, load...)
		if res.code != ExitInvalid || !strings.Contains(res.stderr, "none delivered") || !strings.Contains(res.stderr, "foreign messages outnumber") {
			t.Errorf("exit %d, stderr %q; want %d saying none delivered and foreign outnumber deliveries", res.code, res.stderr, ExitInvalid)
		}
		if res.rep == nil || res.rep.Valid || res.rep.Messages.Foreign == 0 {
			t.Errorf("report %+v; want invalid with foreign messages counted", res.rep)
		}
	})

	t.Run("server refuses most upgrades", func(t *testing.T) {
		t.Parallel()
		url := startRelay(t, &relaytest.Relay{MaxConns: 5})
		res := runAgainst(t, url, append(load, "--max-loss", "0%")...)
		if res.code != ExitInvalid || !strings.Contains(res.stderr, "failed to connect") || !strings.Contains(res.stderr, "--max-connect-fail") {
			t.Errorf("exit %d, stderr %q; want %d naming failed connects and --max-connect-fail", res.code, res.stderr, ExitInvalid)
		}
		if res.rep == nil || res.rep.Connections.Failed < 10 || !strings.Contains(strings.Join(res.rep.Generator.Warnings, " "), "503") {
			t.Errorf("report %+v; want most connects failed with the 503 in the warnings", res.rep)
		}
	})

	t.Run("unreachable port", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "ws://" + ln.Addr().String() + "/"
		ln.Close()
		res := runAgainst(t, url, "--clients", "3", "--duration", "500ms", "--warmup", "0s")
		if res.code != ExitNoConnection || !strings.Contains(res.stderr, "refused") || !strings.Contains(res.stderr, "check --url") {
			t.Errorf("exit %d, stderr %q; want %d with the dial error and what to check", res.code, res.stderr, ExitNoConnection)
		}
		if res.stdout != "" {
			t.Errorf("stdout %q; want no table for a run that never connected", res.stdout)
		}
		if res.rep == nil || res.rep.Valid {
			t.Errorf("report %+v; want one written, marked invalid", res.rep)
		}
	})

	t.Run("healthy run stays valid", func(t *testing.T) {
		t.Parallel()
		url := startRelay(t, &relaytest.Relay{})
		res := runAgainst(t, url, append(load, "--max-loss", "0%")...)
		if res.code != ExitOK || res.rep == nil || !res.rep.Valid || len(res.rep.InvalidReasons) != 0 {
			t.Errorf("exit %d, stderr %q, report %+v; want 0 and valid", res.code, res.stderr, res.rep)
		}
		// Kept the timetable or, on a starved machine, OVERLOADED: either
		// way the generator line judges sends, which a run that sent
		// nothing has none of.
		if !strings.Contains(res.stdout, "own send lag max") || strings.Contains(res.stdout, "sent nothing") {
			t.Errorf("stdout %q; want the generator's timetable line", res.stdout)
		}
	})
}

// TestMergeRefusesSameRunAndWarnsOnWindows merges a report with itself
// (refused) and two runs made one after the other (merged, with a warning
// that their windows do not overlap).
func TestMergeRefusesSameRunAndWarnsOnWindows(t *testing.T) {
	url := startRelay(t, &relaytest.Relay{})
	dir := t.TempDir()
	a, b, m := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "m.json")
	for _, out := range []string{a, b} {
		var stdout, stderr bytes.Buffer
		args := []string{"--url", url, "--clients", "2", "--rate", "20", "--duration", "300ms", "--warmup", "0s", "-q", "--out", out}
		if code := loadgen("run", args, &stdout, &stderr); code != ExitOK {
			t.Fatalf("Run = %d; stderr %s", code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := loadgen("merge", []string{a, a, "-o", m}, &stdout, &stderr); code != ExitUsage || !strings.Contains(stderr.String(), "same run") {
		t.Errorf("Merge(a, a) = %d, stderr %q; want %d saying it is the same run", code, stderr.String(), ExitUsage)
	}
	stderr.Reset()
	if code := loadgen("merge", []string{a, b, "-o", m}, &stdout, &stderr); code != ExitOK || !strings.Contains(stderr.String(), "do not overlap") {
		t.Errorf("Merge(a, b) = %d, stderr %q; want %d warning that the windows do not overlap", code, stderr.String(), ExitOK)
	}
	rep, err := report.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages.Sent != 12 || !rep.Valid {
		t.Errorf("merged sent %d valid %v; want 12 (6 + 6) and valid", rep.Messages.Sent, rep.Valid)
	}
}

func TestServerPIDFlag(t *testing.T) {
	t.Parallel()
	url := startRelay(t, &relaytest.Relay{})
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"negative", []string{"--server-pid", "-1"}, ExitUsage, "--server-pid -1"},
		{"with procs", []string{"--server-pid", "1", "--procs", "2"}, ExitUsage, "one loadgen process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runAgainst(t, url, append([]string{"--clients", "2"}, tc.args...)...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", res.code, res.stderr, tc.code, tc.want)
			}
		})
	}
}
