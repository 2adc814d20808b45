package cases_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/cases"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/runner"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

// startReference runs the reference server with short heartbeat settings.
func startReference(t *testing.T) (string, chatserver.Config) {
	t.Helper()
	cfg := chatserver.DefaultConfig()
	// A 4 MiB echo (Autobahn 9.x) under -race can keep the client busy
	// reading, not writing, for over a second: 2 s of silence is allowed.
	cfg.PingInterval = 500 * time.Millisecond
	cfg.PongTimeout = 2 * time.Second
	cfg.MaxMessage = 4 << 20 // Autobahn 9.3/9.4 send 4 MiB messages
	cfg.MaxConns = 40
	cfg.Origins = []string{"http://good.example"}
	cfg.HandshakeTimeout = 500 * time.Millisecond
	cfg.CloseTimeout = 300 * time.Millisecond
	cfg.Deflate = true // the DF cases run; TestReferenceServerDeclinesDeflate covers the server without it
	cfg.ShutdownGrace = time.Second
	return "ws://" + chattest.Start(t, cfg, t.Logf) + "/", cfg
}

func runSuite(t *testing.T, cfg runner.Config) []report.Entry {
	t.Helper()
	var out strings.Builder
	entries, err := runner.Run(context.Background(), cfg, cases.Catalogue(&rawclient.Recorder{}), &out, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	return entries
}

// TestReferenceServerPasses runs the whole catalogue against the reference
// server: nothing may fail, and only cases that need something this setup
// does not give may be skipped.
func TestReferenceServerPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every case, including 1,000 reconnecting clients")
	}
	url, scfg := startReference(t)
	cfg := runner.DefaultConfig()
	cfg.URL = url
	cfg.PingInterval, cfg.PongTimeout = scfg.PingInterval, scfg.PongTimeout
	cfg.MaxMessage = scfg.MaxMessage
	cfg.MaxConns = scfg.MaxConns
	cfg.ForbiddenOrigin = "http://evil.example"
	cfg.Relaxed = true
	cfg.Deflate = true
	cfg.Parallel = 8
	cfg.Timeout = 15 * time.Second
	entries := runSuite(t, cfg)
	if len(entries) < 300 {
		t.Fatalf("ran %d cases; want the whole catalogue", len(entries))
	}
	for _, e := range entries {
		switch {
		case e.Result.Verdict == suite.Skipped && strings.Contains(e.Result.Detail, "above --max-message"):
			// Autobahn 9.1/9.2's 8 and 16 MiB messages: the scripts run
			// them against a server started with --max-message 16 MiB.
		case e.Result.Verdict == suite.Skipped && strings.Contains(e.Result.Detail, "declined permessage-deflate"):
			// The reference server does not negotiate permessage-deflate
			// yet (RFC 7692 lets it decline; DF-01 records that); the DF
			// cases are checked against Node ws and Python websockets in
			// TestThirdPartyEchoServers.
		case e.Result.Verdict == suite.Failed, e.Result.Verdict == suite.Skipped:
			t.Errorf("%s", report.Line(e))
		}
	}
}

// TestReferenceServerDeclinesDeflate: without --deflate the reference
// server declines every permessage-deflate offer (DF-01 INFORMATIONAL, the
// other DF cases SKIPPED saying so) and fails none.
func TestReferenceServerDeclinesDeflate(t *testing.T) {
	t.Parallel()
	scfg := chatserver.DefaultConfig()
	cfg := runner.DefaultConfig()
	cfg.URL = "ws://" + chattest.Start(t, scfg, t.Logf) + "/"
	cfg.Run, cfg.Deflate, cfg.MaxMessage = `^(DF-|HS-09)`, true, scfg.MaxMessage
	for _, e := range runSuite(t, cfg) {
		switch {
		case e.Result.Verdict == suite.Failed,
			e.Case.ID == "DF-01" && e.Result.Verdict != suite.Informational,
			e.Result.Verdict == suite.Skipped && !strings.Contains(e.Result.Detail, "declined permessage-deflate") && !strings.Contains(e.Result.Detail, "above --max-message"):
			t.Errorf("%s", report.Line(e))
		}
	}
}

// TestBrokenServersFail runs the cases a deliberately broken server must
// fail, and checks that they do.
func TestBrokenServersFail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		broken   broken
		maxMsg   int64
		run      string
		mustFail []string
		edit     func(*runner.Config)
	}{
		{"no UTF-8 validation", broken{skipUTF8: true}, 0, `^(PV-07|PV-08|MS-01|UT-008|UT-010|UT-014|UT-090)$`, []string{"PV-07", "PV-08", "UT-008", "UT-010", "UT-090"}, nil},
		{"no close echo", broken{noCloseEcho: true}, 0, `^(CL-01|CL-07|CS-05|CS-14)$`, []string{"CL-01", "CL-07", "CS-05", "CS-14"}, nil},
		{"sends 1005 on the wire", broken{send1005: true}, 0, `^(CL-01|CL-10)$`, []string{"CL-01", "CL-10"}, nil},
		{"ignores the message limit", broken{ignoreMax: true}, 1000, `^(LM-01|LM-02)$`, []string{"LM-02"}, nil},
		{"accepts any handshake", broken{lenientHandshake: true}, 0, `^HS-0[1-4]$`, []string{"HS-02", "HS-03", "HS-04"}, nil},
		{"masks its frames", broken{maskFrames: true}, 0, `^MS-05$`, []string{"MS-05"}, nil},
		{"accepts then drops over capacity", broken{acceptThenDrop: 5}, 0, `^HS-12$`, []string{"HS-12"},
			func(c *runner.Config) { c.MaxConns = 5 }},
		{"never drops a silent peer", broken{}, 0, `^PP-06$`, []string{"PP-06"},
			func(c *runner.Config) { c.PongTimeout = 200 * time.Millisecond }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.broken.maxMessage = 1 << 20
			if tc.maxMsg > 0 {
				tc.broken.maxMessage = int(tc.maxMsg)
			}
			url := startBroken(t, tc.broken)
			cfg := runner.DefaultConfig()
			cfg.URL, cfg.Run, cfg.MaxMessage, cfg.Timeout = url, tc.run, tc.maxMsg, 6*time.Second
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			entries := runSuite(t, cfg)
			failed := map[string]bool{}
			for _, e := range entries {
				if e.Result.Verdict == suite.Failed {
					failed[e.Case.ID] = true
				}
			}
			for _, id := range tc.mustFail {
				if !failed[id] {
					t.Errorf("%s did not fail against a server that %s", id, tc.name)
				}
			}
			sel := regexp.MustCompile(tc.run)
			for id := range failed {
				if !sel.MatchString(id) {
					t.Errorf("unselected case %s ran", id)
				}
			}
		})
	}
}
