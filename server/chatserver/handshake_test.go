package chatserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

const goodKey = "dGhlIHNhbXBsZSBub25jZQ=="

func upgradeReq(method, proto, path string, extra ...string) string {
	h := []string{method + " " + path + " " + proto, "Host: x", "Upgrade: websocket", "Connection: Upgrade"}
	seen := map[string]bool{}
	for _, e := range extra {
		seen[strings.ToLower(strings.SplitN(e, ":", 2)[0])] = true
	}
	if !seen["sec-websocket-version"] {
		h = append(h, "Sec-WebSocket-Version: 13")
	}
	if !seen["sec-websocket-key"] {
		h = append(h, "Sec-WebSocket-Key: "+goodKey)
	}
	for _, e := range extra {
		if !strings.HasSuffix(e, ":") {
			h = append(h, e)
		}
	}
	return strings.Join(h, "\r\n") + "\r\n\r\n"
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.Origins = []string{"http://good.example"} })
	tests := []struct {
		name   string
		req    string
		status int
		header string // "Name: value" expected in the response
	}{
		{"ok", upgradeReq("GET", "HTTP/1.1", "/room"), 101, "Sec-Websocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{"allowed origin", upgradeReq("GET", "HTTP/1.1", "/", "Origin: http://good.example"), 101, ""},
		{"disallowed origin", upgradeReq("GET", "HTTP/1.1", "/", "Origin: http://evil.example"), 403, ""},
		{"version 8", upgradeReq("GET", "HTTP/1.1", "/", "Sec-WebSocket-Version: 8"), 426, "Sec-Websocket-Version: 13"},
		{"no version", upgradeReq("GET", "HTTP/1.1", "/", "Sec-WebSocket-Version:"), 426, "Sec-Websocket-Version: 13"},
		{"no key", upgradeReq("GET", "HTTP/1.1", "/", "Sec-WebSocket-Key:"), 400, ""},
		{"short key", upgradeReq("GET", "HTTP/1.1", "/", "Sec-WebSocket-Key: AAAA"), 400, ""},
		{"key not base64", upgradeReq("GET", "HTTP/1.1", "/", "Sec-WebSocket-Key: ########################"), 400, ""},
		{"POST", upgradeReq("POST", "HTTP/1.1", "/"), 405, ""},
		{"HTTP/1.0", upgradeReq("GET", "HTTP/1.0", "/"), 400, ""},
		{"no Connection upgrade", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + goodKey + "\r\n\r\n", 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := rawRequest(t, s, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d", resp.StatusCode, tc.status)
			}
			if tc.header != "" {
				k, v, _ := strings.Cut(tc.header, ": ")
				if got := resp.Header.Get(k); got != v {
					t.Fatalf("%s = %q; want %q", k, got, v)
				}
			}
		})
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxConns = 2 })
	dial(t, s, "/")
	dial(t, s, "/")
	resp := rawRequest(t, s, upgradeReq("GET", "HTTP/1.1", "/"))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third connection: status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := metric(t, s, `wsbench_connections_refused_total{reason="max_conns"}`); got != 1 {
		t.Fatalf("refused max_conns = %v; want 1", got)
	}
}

// TestMaxConnsSlotFreeOnceClosed: at --max-conns, a client that has
// completed the close handshake (seen our close and the TCP close) can
// connect again at once: the slot is released before the socket closes.
// Each round's dial fails the test if it gets 503.
func TestMaxConnsSlotFreeOnceClosed(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxConns = 1 })
	for i := range 50 {
		c := dial(t, s, "/")
		c.write(masked(true, 0, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
		if code, _ := c.expectClose(2 * time.Second); code != ws.StatusNormalClosure {
			t.Fatalf("round %d: close echo %d; want 1000", i, code)
		}
		c.expectEOF(2 * time.Second)
		c.nc.Close()
	}
}

func TestPageAndEndpoints(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	base := "http://" + s.Addr().String()
	tests := []struct {
		path, want string
		status     int
	}{
		{"/", `id="text1"`, 200},
		{"/room1", `id="messages"`, 200},
		{"/healthz", "ok", 200},
		{"/metrics", "wsbench_connections_open", 200},
		{"/debug/pprof/", `id="text1"`, 200}, // pprof off: just a room page
	}
	for _, tc := range tests {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s = %d, body without %q", tc.path, resp.StatusCode, tc.want)
		}
	}
}

// TestShutdown: every client gets 1001, /healthz answers 503 while
// draining, upgrades are refused with 503, and Shutdown returns once the
// clients have answered.
func TestShutdown(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.ShutdownGrace = 10 * time.Second })
	var cs []*client
	for i := range 4 {
		cs = append(cs, dial(t, s, fmt.Sprintf("/r%d", i%2)))
	}
	waitMembers(t, s, "/r0", 2)
	waitMembers(t, s, "/r1", 2)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	for i, c := range cs {
		if code, reason := c.expectClose(5 * time.Second); code != 1001 {
			t.Fatalf("client %d: close %d %q; want 1001", i, code, reason)
		}
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("/healthz while draining = %d; want 503", resp.StatusCode)
	}
	if r := rawRequest(t, s, upgradeReq("GET", "HTTP/1.1", "/")); r.StatusCode != 503 {
		t.Fatalf("upgrade while draining = %d; want 503", r.StatusCode)
	}
	select {
	case <-done:
		t.Fatal("Shutdown returned before the clients answered")
	default:
	}
	for _, c := range cs {
		c.send(ws.OpClose, closeBody(1001, ""))
		c.expectEOF(5 * time.Second)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after every client closed")
	}
}

// TestShutdownGraceCutsSilentClients: a client that never answers 1001 is
// cut when the grace ends.
func TestShutdownGraceCutsSilentClients(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.ShutdownGrace = 200 * time.Millisecond; c.CloseTimeout = 10 * time.Second })
	c := dial(t, s, "/")
	waitMembers(t, s, "/", 1)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.expectClose(5 * time.Second); code != 1001 {
		t.Fatalf("close %d; want 1001", code)
	}
	c.expectEOF(5 * time.Second)
}

// TestRestartSameAddress: a new server can serve on the address of one that
// was shut down, and Shutdown may be called concurrently.
func TestRestartSameAddress(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { s.Shutdown(context.Background()) })
	}
	wg.Wait()
	s2, err := New(testConfig(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s2.ListenAndServe(addr) }()
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if s2.Addr() == nil {
			return fmt.Errorf("not listening")
		}
		return nil
	})
	c := dial(t, s2, "/")
	c.send(ws.OpText, "again")
	if f, err := c.readData(5 * time.Second); err != nil || string(f.Payload) != "again" {
		t.Fatalf("echo on restarted server: %q, %v", f.Payload, err)
	}
	s2.Shutdown(context.Background())
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// FuzzRequest sends arbitrary request bytes through the HTTP parser and the
// upgrade checks: the server must answer (or refuse) without panicking and
// never switch protocols for a request it should refuse.
func FuzzRequest(f *testing.F) {
	f.Add(upgradeReq("GET", "HTTP/1.1", "/room"))
	f.Add(upgradeReq("GET", "HTTP/1.1", "/", "Sec-WebSocket-Version: 8"))
	f.Add(upgradeReq("GET", "HTTP/1.1", "/", "Origin: http://evil.example"))
	f.Add("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	f.Add("GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n")
	s, err := New(func() Config { c := testConfig(); c.Origins = []string{"http://good.example"}; return c }(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, req string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(req)))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code == http.StatusSwitchingProtocols {
			t.Fatalf("switched protocols without hijacking: %q", req)
		}
		if isUpgradeRequest(r) && w.Code < 400 {
			t.Fatalf("upgrade request answered %d without a WebSocket: %q", w.Code, req)
		}
	})
}

func TestOriginMatches(t *testing.T) {
	cases := []struct {
		allowed, origin string
		want            bool
	}{
		{"*", "http://anything.example", true},
		{"http://good.example", "http://good.example", true},
		{"http://good.example", "HTTP://Good.Example", true},
		{"http://good.example", "http://good.example:8080", false},
		{"http://127.0.0.1:*", "http://127.0.0.1:43127", true},
		{"http://127.0.0.1:*", "http://127.0.0.1", true},
		{"http://127.0.0.1:*", "http://127.0.0.1:", false},
		{"http://127.0.0.1:*", "http://127.0.0.1:80x", false},
		{"http://127.0.0.1:*", "http://127.0.0.10:80", false},
		{"http://127.0.0.1:*", "https://127.0.0.1:80", false},
		{"http://127.0.0.1:*", "http://127.0.0.1.evil.example", false},
		{"http://127.0.0.1:*", "http://127.0.0.1:80@evil.example", false},
	}
	for _, c := range cases {
		if got := originMatches(c.allowed, c.origin); got != c.want {
			t.Errorf("originMatches(%q, %q) = %v, want %v", c.allowed, c.origin, got, c.want)
		}
	}
}
