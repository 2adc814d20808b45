package reconnect

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/internal/backoff"
	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

func startServer(t *testing.T, edit func(*chatserver.Config)) string {
	t.Helper()
	cfg := chatserver.DefaultConfig()
	cfg.ShutdownGrace = time.Second
	edit(&cfg)
	return "ws://" + chattest.Start(t, cfg, t.Logf) + "/room"
}

var fast = backoff.Config{Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond, Stable: time.Second}

// TestEchoHeartbeatAndClose: messages arrive, the app heartbeat is
// answered, pings are answered (the connection outlives the pong timeout),
// and Close ends Run with ErrClosed and no reconnect.
func TestEchoHeartbeatAndClose(t *testing.T) {
	t.Parallel()
	url := startServer(t, func(c *chatserver.Config) {
		c.PingInterval, c.PongTimeout = 50*time.Millisecond, 200*time.Millisecond
	})
	var opens, pongs atomic.Int32
	got := make(chan string, 16)
	c, err := New(Config{URL: url, Backoff: fast, Heartbeat: 30 * time.Millisecond,
		OnOpen: func(int) { opens.Add(1) },
		OnMessage: func(op ws.OpCode, p []byte) {
			if string(p) == AppPong {
				pongs.Add(1)
				return
			}
			got <- string(p)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		return c.Send(ws.OpText, []byte("hello"))
	})
	if m := <-got; m != "hello" {
		t.Fatalf("message = %q; want hello", m)
	}
	time.Sleep(600 * time.Millisecond) // three pong timeouts: pings must be answered
	if opens.Load() != 1 || pongs.Load() == 0 {
		t.Fatalf("opens %d, app pongs %d; want 1 open and some pongs", opens.Load(), pongs.Load())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-runErr; !errors.Is(err, ErrClosed) {
		t.Fatalf("Run = %v; want ErrClosed", err)
	}
	if opens.Load() != 1 {
		t.Fatalf("reconnected after Close: %d opens", opens.Load())
	}
}

// TestDeadAfterReconnects: a connection that stays silent longer than
// DeadAfter is treated as dead and replaced.
func TestDeadAfterReconnects(t *testing.T) {
	t.Parallel()
	url := startServer(t, func(c *chatserver.Config) { c.PingInterval, c.PongTimeout = 0, 0 })
	var opens atomic.Int32
	var mu sync.Mutex
	var delays []int
	c, err := New(Config{URL: url, Backoff: fast, DeadAfter: 100 * time.Millisecond,
		OnOpen:  func(int) { opens.Add(1) },
		OnDelay: func(n int, d time.Duration, _ error) { mu.Lock(); delays = append(delays, n); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if opens.Load() < 3 {
			return errors.New("fewer than 3 connections")
		}
		return nil
	})
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(delays) < 2 || delays[0] != 0 || delays[1] != 1 {
		t.Fatalf("attempts %v; want 0, 1, … (uptimes below Stable)", delays)
	}
}

func TestNewRejectsBadBackoff(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{URL: "ws://x/", Backoff: backoff.Config{Base: time.Second, Cap: time.Millisecond}}); err == nil {
		t.Fatal("New accepted cap < base")
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"2", 2 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"999999", time.Hour},
		{"Wed, 25 Nov 2026 09:00:30 GMT", 30 * time.Second},
		{"Wed, 25 Nov 2026 08:00:00 GMT", 0},
		{"soon", 0},
		{"", 0},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}
