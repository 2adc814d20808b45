package abuse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/harness/target"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

// noLeaks fails the test when goroutines started during it are still
// running once its cleanups (server shutdown included) have run. Call it
// first, so that its cleanup runs last.
func noLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines left (%d before):\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// startServer runs our server on 127.0.0.1:0 with short timeouts and
// returns its ws:// URL; logf receives its log lines.
func startServer(t *testing.T, logf func(string, ...any), mut func(*chatserver.Config)) string {
	t.Helper()
	cfg := chatserver.DefaultConfig()
	cfg.HandshakeTimeout = 500 * time.Millisecond
	cfg.ShutdownGrace = time.Second
	cfg.CloseTimeout = 500 * time.Millisecond
	if mut != nil {
		mut(&cfg)
	}
	return "ws://" + chattest.Start(t, cfg, logf) + "/"
}

func TestNewTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url      string
		loopback bool // want ErrNotLoopback when false and the URL is otherwise fine
		ok       bool
	}{
		{"ws://127.0.0.1:8181/", true, true},
		{"ws://127.0.0.2:8181/room", true, true},
		{"ws://localhost:8181/", true, true},
		{"ws://[::1]:8181/", true, true},
		{"ws://192.0.2.1:8181/", false, false},
		{"ws://10.0.0.1/", false, false},
		{"wss://127.0.0.1:8181/", true, false},
		{"http://127.0.0.1:8181/", true, false},
		{"::not a url", true, false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			_, err := NewTarget(tc.url)
			if tc.ok != (err == nil) {
				t.Fatalf("NewTarget(%q) = %v; want ok=%v", tc.url, err, tc.ok)
			}
			if !tc.loopback && !errors.Is(err, ErrNotLoopback) {
				t.Errorf("NewTarget(%q) = %v; want ErrNotLoopback", tc.url, err)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := "# HELP x y\n# TYPE x counter\n" +
		"wsbench_connections_open 12\n" +
		"wsbench_close_codes_sent_total{code=\"1009\"} 3\n" +
		"wsbench_close_codes_sent_total{code=\"1007\"} 5 1700000000000\n" +
		"garbage line\n"
	m := target.ParseMetrics(strings.NewReader(text))
	if m["wsbench_connections_open"] != 12 || m[`wsbench_close_codes_sent_total{code="1007"}`] != 5 {
		t.Fatalf("ParseMetrics = %v", m)
	}
	before := target.Metrics{`wsbench_close_codes_sent_total{code="1009"}`: 1}
	got := CloseCodesSent(before, m)
	if len(got) != 2 || got["1009"] != 2 || got["1007"] != 5 {
		t.Errorf("CloseCodesSent = %v; want 1009:2 1007:5", got)
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()
	mask := [4]byte{1, 2, 3, 4}
	for _, n := range []uint64{0, 125, 126, 65535, 65536, 1 << 40, 1<<63 - 1} {
		h, err := ws.ReadHeader(bytes.NewReader(header(true, ws.OpBinary, n, mask)))
		if err != nil || h.Length != int64(n) || !h.Masked || h.Mask != mask || !h.Fin {
			t.Errorf("header(%d) read back as %+v, %v", n, h, err)
		}
	}
	// 2^63 has the most significant bit set, which RFC 6455 §5.2 forbids:
	// it must be encodable anyway, to be sent as an attack.
	b := header(true, ws.OpBinary, 1<<63, mask)
	if len(b) != 14 || b[1] != 0x80|127 || b[2] != 0x80 {
		t.Errorf("header(2^63) = % x", b)
	}
}

func TestPlacementValidate(t *testing.T) {
	t.Parallel()
	if err := (Placement{ServerCPU: 1, AttackerCPU: 1}).Validate(); err == nil || !strings.Contains(err.Error(), "two different CPUs") {
		t.Errorf("server and attacker on one CPU: Validate() = %v; want an error saying to use two CPUs", err)
	}
	if err := (Placement{ServerCPU: -1, AttackerCPU: 1}).Validate(); err == nil {
		t.Error("negative CPU: Validate() = nil; want an error")
	}
	if err := (Placement{ServerCPU: 1, AttackerCPU: 1, NoPin: true}).Validate(); err != nil {
		t.Errorf("--no-pin: Validate() = %v; want nil", err)
	}
	if got := (Placement{ServerCPU: 0, AttackerCPU: 1, Nice: -10}).Describe(); !strings.Contains(got, "server on CPU 0") || !strings.Contains(got, "nice -10") {
		t.Errorf("Describe() = %q; want the server's CPU and the niceness", got)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 100 * time.Millisecond}, {0.99, 198 * time.Millisecond}, {1, 200 * time.Millisecond}} {
		if got := quantile(ds, tc.q); got != tc.want {
			t.Errorf("quantile(1..200 ms, %v) = %v; want %v", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.99); got != 0 {
		t.Errorf("quantile(nil) = %v; want 0", got)
	}
}

func TestFormatCodes(t *testing.T) {
	t.Parallel()
	if got := FormatCodes(map[string]int{"1007": 3, "eof": 1, "1002": 3}); got != "1002×3 1007×3 eof×1" {
		t.Errorf("FormatCodes = %q", got)
	}
	if got := FormatCodes(nil); got != "-" {
		t.Errorf("FormatCodes(nil) = %q", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := DefaultConfig()
	good.URL = "ws://127.0.0.1:1/"
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"no url", func(c *Config) { c.URL = "" }},
		{"unknown scenario", func(c *Config) { c.Scenarios = []string{"nope"} }},
		{"too many conns for one process", func(c *Config) { c.Conns = 19000 }},
		{"ratio below 1", func(c *Config) { c.MaxRatio = 0.5 }},
		{"tiny window", func(c *Config) { c.Window = time.Millisecond }},
		{"probe senders above clients", func(c *Config) { c.Probe.Senders = 99 }},
		{"too many stalled connections for one process", func(c *Config) { c.SlowlorisConns = 19000 }},
		{"no newcomer p99 bound", func(c *Config) { c.NewcomerMaxP99 = 0 }},
		{"no write timeout", func(c *Config) { c.WriteTimeout = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tc.mut(&c)
			if c.Validate() == nil {
				t.Error("Validate() = nil; want an error")
			}
		})
	}
}

// TestRunScenarios runs the cheap scenarios, scaled down, against our
// server and checks what each scenario itself expects (close codes, cuts,
// connections returning); the latency verdict is a measurement and is not
// asserted here.
func TestRunScenarios(t *testing.T) {
	noLeaks(t)
	url := startServer(t, func(string, ...any) {}, nil)
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.Conns = 200
	cfg.Window = 600 * time.Millisecond
	cfg.CleanDuration = 500 * time.Millisecond
	cfg.StormClients = 100
	cfg.Scenarios = []string{"handshake-hold", "huge-length", "gigabyte", "invalid-utf8", "ping-flood", "churn"}
	var log bytes.Buffer
	rep, err := Run(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if len(rep.Scenarios) != len(cfg.Scenarios) {
		t.Fatalf("%d scenario results; want %d\n%s", len(rep.Scenarios), len(cfg.Scenarios), log.String())
	}
	for _, s := range rep.Scenarios {
		if s.ServerDown {
			t.Errorf("%s: server down: %v", s.Name, s.Failures)
		}
		if len(s.Outcome.Failures) > 0 {
			t.Errorf("%s: %v (codes %v, facts %v)", s.Name, s.Outcome.Failures, s.Outcome.Codes, s.Outcome.Facts)
		}
		if s.Probe.Received == 0 {
			t.Errorf("%s: the probe received nothing", s.Name)
		}
	}
	byName := map[string]ScenarioResult{}
	for _, s := range rep.Scenarios {
		byName[s.Name] = s
	}
	// The server ends an unfinished handshake with a FIN ("closed") or, when
	// it leaves unread request bytes behind, a reset.
	if c := byName["handshake-hold"].Outcome.Codes; c["closed"]+c["reset"] != cfg.Conns {
		t.Errorf("handshake-hold: outcomes %v; want all %d closed or reset by the server (handshake timeout 500ms)", c, cfg.Conns)
	}
	if c := byName["gigabyte"].Outcome.Codes; c["1009"] == 0 || len(c) != 1 {
		t.Errorf("gigabyte: codes %v; want only 1009", c)
	}
	var md, js bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "| huge-length |") {
		t.Errorf("WriteMarkdown: %v\n%s", err, md.String())
	}
	if err := rep.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"name": "gigabyte"`) {
		t.Errorf("WriteJSON: %v", err)
	}
}

// TestLogEscapesClientBytes sends control characters and invalid UTF-8
// wherever a client can put bytes that the server logs (room path, origin,
// forwarded-for, close reason, a broken request line) and checks that no
// log line carries them raw: a client must not be able to forge log lines
// or send terminal escapes to an operator.
func TestLogEscapesClientBytes(t *testing.T) {
	noLeaks(t)
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	url := startServer(t, logf, func(c *chatserver.Config) {
		c.TrustProxy = true
		c.Origins = []string{"http://allowed.example"}
	})
	tg, err := NewTarget(url)
	if err != nil {
		t.Fatal(err)
	}
	evil := "\x1b[31mred\x1b[0m\r\nFAKE LOG LINE\x00\x07\x7f\xff"
	raw := func(req string) string {
		nc, err := net.Dial("tcp", tg.HostPort)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(3 * time.Second))
		nc.Write([]byte(req))
		br := bufio.NewReader(nc)
		if strings.Contains(req, "Upgrade: websocket") && strings.Contains(req, "allowed.example") {
			// Upgraded: send a close with an evil reason, wait for the echo.
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			rc := &rawConn{nc: nc, br: br}
			body := append([]byte{0x03, 0xe8}, "\x1b[2J\r\nbye"...)
			rc.writeFrame(true, ws.OpClose, body)
			rc.readClose(time.Now().Add(3 * time.Second))
			return "upgraded"
		}
		status, _ := br.ReadString('\n')
		return status
	}
	upgrade := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	// Room path with percent-encoded control characters (decoded into the
	// room name) and a forwarded-for with bytes that are not UTF-8 (net/http
	// lets bytes ≥ 0x80 through in header values; control characters there
	// it refuses with 400 before the server sees them).
	raw("GET /%1B%5B31m%0D%0AFAKE%00%7F%C2%9B HTTP/1.1\r\nHost: x\r\nOrigin: http://allowed.example\r\nX-Forwarded-For: 1.2.3.4, \xff\xfe\xc2\x9b31m\r\n" + upgrade + "\r\n")
	// Disallowed origin carrying non-UTF-8 bytes and a C1 CSI (403, logged).
	raw("GET /r HTTP/1.1\r\nHost: x\r\nOrigin: http://\xc2\x9b31mevil\xff\r\n" + upgrade + "\r\n")
	// Control characters in header values: refused by net/http itself.
	if st := raw("GET /r HTTP/1.1\r\nHost: x\r\nOrigin: http://\x1b[31mevil\x07\r\n" + upgrade + "\r\n"); !strings.HasPrefix(st, "HTTP/1.1 400") {
		t.Errorf("control characters in Origin: status line %q; want 400", st)
	}
	// A bad upgrade (version 12) with an evil path.
	raw("GET /%0AFAKE HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	// A request line net/http rejects, quoting client bytes.
	raw("GET /\x1b[31m" + evil + " HTTP/1.1\r\nHost: x\r\n\r\n")
	raw("\x1b[2J" + evil + "\r\n\r\n")

	// The close of the upgraded connection is logged when it ends.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "ws close") {
				n++
			}
		}
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) < 3 {
		t.Fatalf("only %d log lines; the server did not log the attempts: %q", len(lines), lines)
	}
	for _, l := range lines {
		if !utf8.ValidString(l) {
			t.Errorf("log line is not valid UTF-8: %q", l)
		}
		for _, r := range l {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("log line carries raw control character %U: %q", r, l)
				break
			}
		}
	}
	t.Logf("%d log lines, e.g. %q", len(lines), lines[0])
}

// TestSlowlorisScenario runs the slowloris scenario, scaled down, against
// our server with --max-pending 16 and a handshake timeout far longer than
// the run: 48 stalled connections re-opened as the server closes them
// must not keep the newcomers or /healthz out (before issue 17 the server
// closed every newcomer while the 16 slots were held: 0 %). Here attacker,
// newcomers and server share one process and its scheduler, so a newcomer
// can be starved between its connect and its request while the slots turn
// over every few milliseconds; the share that gets in is asserted loosely,
// the handshake p99 not at all (make abuse runs the attacker in its own
// process; TestSlowlorisDoesNotLockOut checks the policy exactly).
func TestSlowlorisScenario(t *testing.T) {
	noLeaks(t)
	url := startServer(t, func(string, ...any) {}, func(c *chatserver.Config) {
		c.MaxPending = 16
		c.HandshakeTimeout = time.Minute
	})
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.SlowlorisConns = 48
	cfg.Window = time.Second
	e := &env{cfg: cfg, logf: t.Logf}
	var err error
	if e.target, err = NewTarget(url); err != nil {
		t.Fatal(err)
	}
	out := slowloris(context.Background(), e)
	attempts, ok := out.Facts["newcomer_attempts"].(int), out.Facts["newcomer_ok"].(int)
	hAttempts, hOK := out.Facts["healthz_attempts"].(int), out.Facts["healthz_ok"].(int)
	if attempts < 10 || hAttempts < 10 {
		t.Fatalf("%d newcomers and %d /healthz in 2 s; want about 20 each", attempts, hAttempts)
	}
	if ok*2 < attempts || hOK*2 < hAttempts {
		t.Errorf("%d of %d newcomers joined and chatted, %d of %d /healthz answered 200; want most (codes %v)", ok, attempts, hOK, hAttempts, out.Codes)
	}
	if out.Codes["server-closed"] == 0 {
		t.Errorf("the server closed no stalled connection while 48 held 16 slots; codes %v", out.Codes)
	}
	if out.Facts["attacker_process"] != false {
		t.Errorf("attacker_process = %v; want false (no HoldCommand)", out.Facts["attacker_process"])
	}
}
