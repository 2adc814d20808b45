package cases_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/cases"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/runner"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/testenv"
)

// thirdPartyMaxMessage is the limit every echo peer is started with.
const thirdPartyMaxMessage = 4 << 20

// TestThirdPartyEchoServers runs the catalogue (without the in-process
// reconnect cases) against well-known WebSocket libraries' echo servers
// and checks the exact set of FAILED cases: each one is a real departure
// from RFC 6455 by that library, verified by hand. A suite change that
// fails a good library (a misread, a deadlock, a policy sold as a MUST)
// shows up here as an unexpected failure; one that stops seeing a real
// defect shows up as a missing one.
func TestThirdPartyEchoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the catalogue against Node and Python servers")
	}
	catalogue := cases.Catalogue(&rawclient.Recorder{})
	peers := []struct {
		name   string
		cmd    func(t *testing.T) *exec.Cmd
		failed []string // sorted
	}{
		{
			// gorilla/websocket 1.5 upgrades an HTTP/1.0 request too.
			name: "gorilla", failed: []string{"HS-06"},
			cmd: func(t *testing.T) *exec.Cmd {
				return exec.Command(buildPeer(t, "gorilla-echo"), "--port", "0", "--max-message", strconv.Itoa(thirdPartyMaxMessage))
			},
		},
		{
			// coder/websocket 1.8 checks no UTF-8 (RFC 6455 §8.1 MUST):
			// every invalid text message and close reason is accepted,
			// and the invalid close reason echoed.
			name: "coder", failed: coderFailures(catalogue),
			cmd: func(t *testing.T) *exec.Cmd {
				return exec.Command(buildPeer(t, "coder-echo"), "--port", "0", "--max-message", strconv.Itoa(thirdPartyMaxMessage))
			},
		},
		{
			// gobwas/ws 1.5 (wsutil.ReadClientData, close codes added by
			// the peer): no departure found; HTTP/1.0 gets 505.
			name: "gobwas", failed: nil,
			cmd: func(t *testing.T) *exec.Cmd {
				return exec.Command(buildPeer(t, "gobwas-echo"), "--port", "0", "--max-message", strconv.Itoa(thirdPartyMaxMessage))
			},
		},
		{
			// ws 8 upgrades an HTTP/1.0 request (RFC 6455 §4.1 asks for
			// HTTP/1.1 or higher).
			name: "node-ws", failed: []string{"HS-06"},
			cmd: func(t *testing.T) *exec.Cmd {
				node, dir := testenv.NodeWS(t)
				cmd := exec.Command(node, filepath.Join(testenv.Scripts(), "peers", "node-ws-echo", "server.js"),
					"--port", "0", "--max-message", strconv.Itoa(thirdPartyMaxMessage), "--deflate")
				cmd.Env = append(cmd.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
				return cmd
			},
		},
		{
			// websockets 10 answers Sec-WebSocket-Version: 99 with 400 and
			// no Sec-WebSocket-Version header (RFC 6455 §4.4 MUST).
			name: "python-websockets", failed: []string{"HS-04"},
			cmd: func(t *testing.T) *exec.Cmd {
				py := testenv.PythonWebsockets(t)
				return exec.Command(py, filepath.Join(testenv.Scripts(), "peers", "python-websockets-echo", "server.py"),
					"--port", "0", "--max-message", strconv.Itoa(thirdPartyMaxMessage))
			},
		},
	}
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			addr := testenv.StartPeer(t, p.cmd(t))
			cfg := runner.DefaultConfig()
			cfg.URL = "ws://" + addr + "/"
			cfg.Profile = suite.ProfileEcho
			cfg.MaxMessage = thirdPartyMaxMessage
			cfg.Relaxed = true
			cfg.Deflate = true // Node (--deflate) and Python negotiate it; gorilla, coder and gobwas decline
			cfg.Parallel = 8
			cfg.Timeout = 6 * time.Second
			cfg.ReportDir, cfg.Agent = t.TempDir(), p.name
			var sel []suite.Case
			for _, c := range catalogue {
				if c.Group != "reconnect" { // in-process; they ignore --url
					sel = append(sel, c)
				}
			}
			var out strings.Builder
			entries, err := runner.Run(t.Context(), cfg, sel, &out, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + out.String())
			var failed []string
			for _, e := range entries {
				if e.Result.Verdict == suite.Failed {
					failed = append(failed, e.Case.ID)
					t.Logf("FAILED %s", report.Line(e))
				}
			}
			slices.Sort(failed)
			if !slices.Equal(failed, p.failed) {
				t.Errorf("FAILED cases against %s = %v; want exactly %v", p.name, failed, p.failed)
			}
			checkAutobahnReport(t, cfg.ReportDir, p.name, entries)
		})
	}
}

// checkAutobahnReport: --report-dir wrote an index.json with every case
// under the agent, each with the behaviour the run printed, and a report
// file holding the case's wire log.
func checkAutobahnReport(t *testing.T, dir, agent string, entries []report.Entry) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := report.ReadAutobahnIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx[agent]) != len(entries) {
		t.Fatalf("index.json has %d cases for %s; want %d", len(idx[agent]), agent, len(entries))
	}
	for i, key := range report.AutobahnKeys(entries) {
		c := idx[agent][key]
		v := entries[i].Result.Verdict
		if v != suite.Skipped && c.Behavior != v.String() {
			t.Errorf("index.json %s: behavior %q; want %q", key, c.Behavior, v)
		}
		if v == suite.Failed {
			b, err := os.ReadFile(filepath.Join(dir, c.ReportFile))
			if err != nil || !strings.Contains(string(b), "upgrade request") {
				t.Errorf("%s: report file %s lacks the wire log: %v", key, c.ReportFile, err)
			}
		}
	}
}

// buildPeer builds the Go echo server in scripts/peers/<name> (its own
// module: the library is not a dependency of wsbench) and returns the
// binary. A build that fails (no module proxy) fails under CI=true.
func buildPeer(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(testenv.Scripts(), "peers", name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, out)
	}
	testenv.Require(t, "the "+name+" peer (go build in scripts/peers/"+name+")", err)
	return bin
}

// coderFailures is every case that sends invalid UTF-8 in a text message
// or a close reason: the cases coder/websocket fails.
func coderFailures(all []suite.Case) []string {
	ids := []string{"CL-06", "CS-13", "PV-07", "PV-08"}
	for _, c := range all {
		if c.Group == "utf8" && strings.Contains(c.Title, "1007") {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}
