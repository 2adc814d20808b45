package chatserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// TestFrameInHandshakePacket: a frame sent in the same write as the
// upgrade request (buffered by the HTTP server) is not lost.
func TestFrameInHandshakePacket(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := upgradeReq("GET", "HTTP/1.1", "/early")
	nc.Write(append([]byte(req), masked(true, 0, ws.OpText, []byte("early bird"))...))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := newByteReader(nc)
	c := &client{t: t, nc: nc, r: br}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	if f, err := c.readData(5 * time.Second); err != nil || string(f.Payload) != "early bird" {
		t.Fatalf("got %q, %v; want the frame sent with the request", f.Payload, err)
	}
}

// fanoutRecorder is a Fanout that records publishes and delivers locally,
// as a cluster layer would after a round trip.
type fanoutRecorder struct {
	s    *Server
	mu   sync.Mutex
	seen []string
}

func (f *fanoutRecorder) Publish(room string, op ws.OpCode, payload []byte) {
	f.mu.Lock()
	f.seen = append(f.seen, room+":"+string(payload))
	f.mu.Unlock()
	f.s.DeliverLocal(room, op, payload)
}

func TestFanoutSeam(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	s, err := New(cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	rec := &fanoutRecorder{s: s}
	s.SetFanout(rec)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(t.Context())
	eventually.True(t, 5*time.Second, time.Millisecond, func() error {
		if s.Addr() == nil {
			return fmt.Errorf("not serving")
		}
		return nil
	})
	c := dial(t, s, "/x")
	c.send(ws.OpText, "via fanout")
	if f, err := c.readData(5 * time.Second); err != nil || string(f.Payload) != "via fanout" {
		t.Fatalf("got %q, %v", f.Payload, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if strings.Join(rec.seen, ",") != "/x:via fanout" {
		t.Fatalf("Fanout saw %q; want the one publish", rec.seen)
	}
}

func TestPushInterval(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.PushInterval = 20 * time.Millisecond })
	a, b := dial(t, s, "/a"), dial(t, s, "/b")
	for _, c := range []*client{a, b} {
		f, err := c.readData(5 * time.Second)
		if err != nil || f.Header.OpCode != ws.OpText || !strings.HasPrefix(string(f.Payload), "server push ") {
			t.Fatalf("got %v %q, %v; want a pushed text message", f.Header.OpCode, f.Payload, err)
		}
	}
}

// TestWriteDeadlineSlowConsumer: a member that stops reading while its
// queue is large enough is cut when a write misses the write timeout; the
// others keep receiving.
func TestWriteDeadlineSlowConsumer(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.SendQueue = 100000; c.WriteTimeout = 300 * time.Millisecond })
	const maxMsgs, size = 3000, 60 << 10
	stuck := dial(t, s, "/wd")
	sender := dial(t, s, "/wd")
	waitMembers(t, s, "/wd", 2)
	payload := make([]byte, size)
	for n := 0; metric(t, s, `wsbench_slow_consumer_closes_total{reason="deadline"}`) == 0; n++ {
		if n == maxMsgs {
			t.Fatalf("no write-deadline close after %d messages of %d bytes", n, size)
		}
		payload[0] = byte(n)
		sender.write(masked(true, 0, ws.OpBinary, payload))
		f, err := sender.readData(10 * time.Second)
		if err != nil || len(f.Payload) != size || f.Payload[0] != byte(n) {
			t.Fatalf("sender message %d: %v", n, err)
		}
	}
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := metric(t, s, `wsbench_slow_consumer_closes_total{reason="deadline"}`); got != 1 {
			return fmt.Errorf("deadline slow consumer closes = %v; want 1", got)
		}
		return nil
	})
	waitMembers(t, s, "/wd", 1)
	// The cut is a reset, so the kernel drops the unsent bytes at once
	// instead of holding them for a peer that does not read.
	stuck.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, stuck.nc); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the cut member's socket ended with %v; want a connection reset", err)
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		trust bool
		xff   []string
		want  string
	}{
		{"no proxy", false, []string{"1.2.3.4"}, "10.0.0.1"},
		{"trusted", true, []string{"1.2.3.4, 5.6.7.8"}, "5.6.7.8"},
		{"trusted, several headers", true, []string{"9.9.9.9", "1.2.3.4"}, "1.2.3.4"},
		{"trusted, no header", true, nil, "10.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.TrustProxy = tc.trust
			s, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := &http.Request{RemoteAddr: "10.0.0.1:5555", Header: http.Header{"X-Forwarded-For": tc.xff}}
			if got := s.clientIP(r); got != tc.want {
				t.Fatalf("clientIP = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"pong not longer than ping", func(c *Config) { c.PingInterval, c.PongTimeout = 10*time.Second, 10*time.Second }, "--pong-timeout"},
		{"negative ping", func(c *Config) { c.PingInterval = -1 }, "--ping-interval"},
		{"zero max-conns", func(c *Config) { c.MaxConns = 0 }, "--max-conns"},
		{"zero send-queue", func(c *Config) { c.SendQueue = 0 }, "--send-queue"},
		{"zero max-message", func(c *Config) { c.MaxMessage = 0 }, "--max-message"},
		{"origin without scheme", func(c *Config) { c.Origins = []string{"example.com"} }, "--origins"},
		{"origin wildcard", func(c *Config) { c.Origins = []string{"*"} }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v; want an error mentioning %q", err, tc.want)
			}
		})
	}
}
