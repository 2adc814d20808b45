// Package storm measures a reconnect storm: many clients connected to an
// in-process chat server, the server restarted (Shutdown, then a new server
// on the same address), and every client reconnecting with full-jitter
// exponential backoff (a random wait in [0, min(MaxDelay, BaseDelay·2^n)]
// before attempt n, AWS Architecture Blog "Exponential Backoff and
// Jitter"). It reports whether all came back, how long that took, and the
// peak number of successful connects per 100 ms bucket: a herd that
// reconnects at once shows as one tall bucket.
//
// The clients are the project's reconnecting client (internal/reconnect)
// with its backoff policy (internal/backoff), the same policy the chat
// page uses.
package storm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsbench/wsbench/internal/backoff"
	"github.com/wsbench/wsbench/internal/reconnect"
	"github.com/wsbench/wsbench/server/chatserver"
)

// Defaults of Config.
const (
	DefaultClients = 5000
	DefaultBound   = 60 * time.Second
	Bucket         = 100 * time.Millisecond
)

// Config is one storm.
type Config struct {
	Clients int            // clients connected before the restart
	Backoff backoff.Config // the clients' reconnect policy
	Bound   time.Duration  // all clients must be back within this after the restart
	Server  chatserver.Config
}

// DefaultConfig returns a 5,000-client storm with the default backoff
// policy against a default server (shutdown grace 2 s, max-conns above the
// client count).
func DefaultConfig() Config {
	s := chatserver.DefaultConfig()
	s.ShutdownGrace = 2 * time.Second
	s.MaxConns = DefaultClients + 100
	return Config{Clients: DefaultClients, Backoff: backoff.DefaultConfig(), Bound: DefaultBound, Server: s}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Clients < 1 || c.Clients > 8000 {
		errs = append(errs, fmt.Errorf("storm: clients %d must be 1..8000 (client and server share one process's 20,000 descriptors)", c.Clients))
	}
	if err := c.Backoff.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Bound <= 0 {
		errs = append(errs, errors.New("storm: bound must be positive"))
	}
	if c.Server.MaxConns < c.Clients {
		errs = append(errs, fmt.Errorf("storm: server max-conns %d is below %d clients", c.Server.MaxConns, c.Clients))
	}
	return errors.Join(errs...)
}

// Result is what a storm measured.
type Result struct {
	Clients         int     `json:"clients"`
	Reconnected     int     `json:"reconnected"`    // clients connected to the new server at the end
	AllBackSeconds  float64 `json:"all_back_s"`     // restart → last client back (0 when not all came back)
	Attempts        int64   `json:"attempts"`       // dial attempts after the restart, failures included
	Refused         int64   `json:"refused"`        // attempts refused (connection refused, 503)
	PeakPerBucket   int     `json:"peak_per_100ms"` // most successful connects in one 100 ms bucket
	PeakShare       float64 `json:"peak_share"`     // PeakPerBucket / Clients
	PeakAttempts    int     `json:"peak_attempts_per_100ms"`
	DowntimeSeconds float64 `json:"server_down_s"` // restart begun → new server listening
}

// Run connects cfg.Clients clients to an in-process server on 127.0.0.1,
// restarts the server and waits until every client is back or cfg.Bound
// has passed. logf receives progress and the servers' logs.
func Run(ctx context.Context, cfg Config, logf func(string, ...any)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	quiet := func(string, ...any) {}
	s1, err := chatserver.New(cfg.Server, quiet)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	serveErr := make(chan error, 2)
	go func() { serveErr <- s1.Serve(ln) }()

	st := &state{cfg: cfg, url: "ws://" + addr + "/storm"}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Add(1)
		go func() { defer wg.Done(); st.client(cctx) }()
	}
	var s2 *chatserver.Server
	defer func() {
		cancel()
		wg.Wait()
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		s1.Shutdown(sctx)
		if s2 != nil {
			s2.Shutdown(sctx)
		}
	}()

	// Phase 1: everyone connected.
	if err := st.waitFor(ctx, 0, cfg.Bound); err != nil {
		return nil, fmt.Errorf("initial connect: %w", err)
	}
	logf("storm: %d clients connected to %s; restarting the server", cfg.Clients, addr)

	// Phase 2: restart. Shutdown sends 1001 to everyone; the clients
	// back off and reconnect while the old server drains (503) and
	// after its listener closed (connection refused).
	restart := time.Now()
	st.restart.Store(restart.UnixNano())
	st.gen.Store(1)
	sctx, c := context.WithTimeout(ctx, cfg.Server.ShutdownGrace+5*time.Second)
	s1.Shutdown(sctx)
	c()
	<-serveErr
	s2, err = chatserver.New(cfg.Server, quiet)
	if err != nil {
		return nil, err
	}
	var ln2 net.Listener
	for t := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		ln2, err = net.Listen("tcp", addr)
		if err == nil || time.Since(t) > 5*time.Second {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen again on %s: %w", addr, err)
	}
	down := time.Since(restart)
	go func() { serveErr <- s2.Serve(ln2) }()
	back := st.waitFor(ctx, 1, cfg.Bound)

	res := st.result(down)
	if back == nil {
		res.AllBackSeconds = time.Duration(st.lastBack.Load() - restart.UnixNano()).Seconds()
	}
	logf("storm: %d/%d back in %.1fs (server down %.2fs), peak %d connects per 100 ms (%.1f%%), %d attempts, %d refused",
		res.Reconnected, res.Clients, res.AllBackSeconds, res.DowntimeSeconds, res.PeakPerBucket, 100*res.PeakShare, res.Attempts, res.Refused)
	return res, nil
}

// state is shared by the clients of one storm.
type state struct {
	cfg      Config
	url      string
	gen      atomic.Int64 // 0 before the restart, 1 after
	restart  atomic.Int64 // unix ns of the restart
	lastBack atomic.Int64
	attempts atomic.Int64
	refused  atomic.Int64
	mu       sync.Mutex
	conn     [2]int        // clients connected in each generation
	buckets  map[int64]int // successful connects after the restart per bucket
	tries    map[int64]int // attempts after the restart per bucket
}

func (s *state) waitFor(ctx context.Context, gen int, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		s.mu.Lock()
		n := s.conn[gen]
		s.mu.Unlock()
		if n >= s.cfg.Clients {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d clients connected after %v", n, s.cfg.Clients, bound)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *state) result(down time.Duration) *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Result{Clients: s.cfg.Clients, Reconnected: s.conn[1], Attempts: s.attempts.Load(), Refused: s.refused.Load(), DowntimeSeconds: down.Seconds()}
	for _, v := range s.buckets {
		r.PeakPerBucket = max(r.PeakPerBucket, v)
	}
	for _, v := range s.tries {
		r.PeakAttempts = max(r.PeakAttempts, v)
	}
	r.PeakShare = float64(r.PeakPerBucket) / float64(s.cfg.Clients)
	return r
}

// bucket is the 100 ms bucket, counted from the restart, of now + after.
func (s *state) bucket(after time.Duration) int64 {
	return (time.Now().Add(after).UnixNano() - s.restart.Load()) / int64(Bucket)
}

// client runs one reconnecting client until ctx ends.
func (s *state) client(ctx context.Context) {
	c, err := reconnect.New(reconnect.Config{
		URL:     s.url,
		Backoff: s.cfg.Backoff,
		OnOpen: func(int) {
			gen := s.gen.Load()
			s.mu.Lock()
			defer s.mu.Unlock()
			s.conn[gen]++
			if gen == 1 {
				if s.buckets == nil {
					s.buckets = map[int64]int{}
				}
				s.buckets[s.bucket(0)]++
				s.lastBack.Store(time.Now().UnixNano())
			}
		},
		OnClose: func(int, string, error) {
			if s.gen.Load() == 0 {
				s.mu.Lock()
				s.conn[0]--
				s.mu.Unlock()
			}
		},
		OnDelay: func(_ int, d time.Duration, why error) {
			if s.gen.Load() == 0 {
				return
			}
			s.attempts.Add(1)
			var rf *reconnect.RefusedError
			if errors.As(why, &rf) || (why != nil && strings.HasPrefix(why.Error(), "dial ")) {
				s.refused.Add(1)
			}
			s.mu.Lock()
			if s.tries == nil {
				s.tries = map[int64]int{}
			}
			s.tries[s.bucket(d)]++
			s.mu.Unlock()
		},
	})
	if err != nil {
		return
	}
	c.Run(ctx)
}
