package chatserver

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsbench/wsbench/server/frame"
	"github.com/wsbench/wsbench/server/page"
)

// Application heartbeat: a text message of exactly AppPing is answered with
// a text AppPong to the sender only and never relayed (Config.AppHeartbeat).
const (
	AppPing = "__ping__"
	AppPong = "__pong__"
)

// ErrServing is returned by Serve when the server is already serving.
var ErrServing = errors.New("chatserver: already serving")

var timeNow = time.Now

// Server is a chat-room WebSocket server. Create it with New, start it with
// Serve or ListenAndServe, stop it with Shutdown. All methods are safe for
// concurrent use.
type Server struct {
	cfg Config

	// Fan-out load, for the inline-write rule (beginPublish).
	publishing     atomic.Int32 // fan-outs in progress
	lastPublishEnd atomic.Int64 // UnixNano when the last one ended
	lastInlineTook atomic.Int64 // ns the last inline fan-out held its publisher

	logf   func(string, ...any)
	m      *metrics
	hub    *hub
	fanout Fanout
	http   *http.Server
	poll   *poller // set by Serve; nil: every connection keeps its reader goroutine

	appPong  []byte // encoded once
	ping     []byte
	draining atomic.Bool
	nconns   atomic.Int64 // admitted WebSocket connections (open or upgrading)
	pending  atomic.Int64 // TCP connections the HTTP server holds (not hijacked), mirrored from pend
	pend     pendingSet   // those connections, bounded by MaxPending (pending.go)

	mu       sync.Mutex      // serializes joins with the start of draining
	health   []func() string // extra /healthz lines, guarded by mu
	ipMu     sync.Mutex
	perIP    map[string]int // open connections by client address (MaxConnsPerIP)
	addr     atomic.Pointer[net.Addr]
	serving  atomic.Bool
	quit     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when Shutdown has finished
	wg       sync.WaitGroup
}

// New returns a Server for cfg, or cfg's validation error. logf receives one
// line per connection and per refusal; nil discards them.
func New(cfg Config, logf func(format string, args ...any)) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s := &Server{
		cfg:     cfg,
		logf:    logf,
		m:       newMetrics(),
		hub:     newHub(),
		appPong: frame.Encode(ws.OpText, []byte(AppPong)),
		ping:    frame.Encode(ws.OpPing, nil),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.fanout = localFanout{s}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.HandshakeTimeout,
		ReadTimeout:       cfg.HandshakeTimeout,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(quotedLog{logf}, "", 0),
		ConnState:         s.pend.connState,
	}
	s.pend.s = s
	return s, nil
}

// AddHealthLine adds a line to the /healthz body, computed on each request
// (a cluster node reports its NATS link). It does not change the status.
func (s *Server) AddHealthLine(line func() string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = append(s.health[:len(s.health):len(s.health)], line)
}

// RegisterCollector adds c to the registry served on /metrics.
func (s *Server) RegisterCollector(c prometheus.Collector) error {
	return s.m.reg.Register(c)
}

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Handler returns the server's HTTP handler (the Server itself): page,
// /healthz, /metrics, /debug/pprof/ and WebSocket upgrades on any path.
func (s *Server) Handler() http.Handler { return s }

// Addr returns the listening address once Serve has started, else nil.
func (s *Server) Addr() net.Addr {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return nil
}

// ListenAndServe listens on addr (Config.Addr when empty) and serves.
func (s *Server) ListenAndServe(addr string) error {
	if addr == "" {
		addr = s.cfg.Addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown; it then waits for Shutdown
// to finish and returns nil. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		ln.Close()
		return ErrServing
	}
	a := ln.Addr()
	s.addr.Store(&a)
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		ln.Close()
		<-s.done
		return nil
	}
	s.wg.Add(1)
	if s.cfg.ParkIdle {
		if p, err := newPoller(); err != nil {
			s.logf("idle parking off: %v", err)
		} else {
			s.poll = p
			go p.run()
		}
	}
	s.mu.Unlock()
	go s.tick()
	err := s.http.Serve(trackingListener{ln})
	if errors.Is(err, http.ErrServerClosed) {
		<-s.done
		return nil
	}
	return err
}

// Shutdown stops the server: /healthz turns 503 and new upgrades are refused
// with 503 + Retry-After, every client gets a 1001 close frame after the
// frames already queued to it (never inside one), and Shutdown waits until
// they have all closed, ctx is done or the shutdown grace has passed;
// connections left are then cut and the listener closes. It waits for every
// goroutine of the server and is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	first := false
	s.stopOnce.Do(func() { first = true })
	if !first {
		select {
		case <-s.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(s.done)
	s.mu.Lock()
	s.draining.Store(true) // /healthz 503, upgrades 503 + Retry-After
	s.mu.Unlock()
	close(s.quit)
	grace, cancel := context.WithTimeout(ctx, s.cfg.ShutdownGrace)
	defer cancel()
	for _, c := range s.hub.all(nil) {
		c.closeWith(ws.StatusGoingAway, "server shutting down")
	}
	all := make(chan struct{})
	go func() { s.wg.Wait(); close(all) }()
	select {
	case <-all:
	case <-grace.Done():
		left := s.hub.all(nil)
		s.logf("shutdown grace over: cutting %d connections", len(left))
		for _, c := range left {
			c.cut()
		}
		<-all
	}
	s.mu.Lock()
	poll := s.poll // set by Serve under mu, if it started before draining
	s.mu.Unlock()
	if poll != nil {
		poll.stop() // every connection has finished
	}
	// The listener stayed open while draining so that load balancers could
	// see /healthz answer 503; now it closes.
	hctx, hcancel := context.WithTimeout(context.Background(), time.Second)
	defer hcancel()
	if err := s.http.Shutdown(hctx); err != nil {
		s.http.Close()
	}
	return nil
}

// tick sends the periodic pings and pushes.
func (s *Server) tick() {
	defer s.wg.Done()
	var ping, push <-chan time.Time
	if d := s.cfg.PingInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		ping = t.C
	}
	if d := s.cfg.PushInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		push = t.C
	}
	var sweep <-chan time.Time
	if d := s.cfg.PongTimeout; d > 0 && s.poll != nil {
		// Parked connections have no read deadline: look for silent
		// ones often enough to drop them within 1.25 × the pong timeout.
		t := time.NewTicker(max(d/4, 10*time.Millisecond))
		defer t.Stop()
		sweep = t.C
	}
	for {
		select {
		case <-s.quit:
			return
		case <-ping:
			s.broadcastAll(s.ping)
		case now := <-sweep:
			s.dropSilent(now.UnixNano())
		case now := <-push:
			msg := fmt.Sprintf("server push %s", now.UTC().Format(time.RFC3339Nano))
			n := s.broadcastAll(frame.Encode(ws.OpText, []byte(msg)))
			s.m.messagesOut.Add(float64(n))
		}
	}
}

// dropSilent closes parked connections silent for the pong timeout.
func (s *Server) dropSilent(now int64) {
	mp := memberPool.Get().(*[]*conn)
	members := s.hub.all((*mp)[:0])
	for _, c := range members {
		c.dropIfSilent(now)
	}
	clear(members)
	*mp = members[:0]
	memberPool.Put(mp)
}

// ServeHTTP routes a request: an upgrade on any path joins the room of that
// path; otherwise /healthz, /metrics, /debug/pprof/ (with Pprof) or the chat
// page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isUpgradeRequest(r) {
		s.upgrade(w, r)
		return
	}
	switch p := r.URL.Path; {
	case p == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("draining\n"))
			return
		}
		w.Write([]byte("ok\n"))
		s.mu.Lock()
		lines := s.health
		s.mu.Unlock()
		for _, line := range lines {
			fmt.Fprintln(w, line())
		}
	case p == "/metrics":
		promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	case s.cfg.Pprof && strings.HasPrefix(p, "/debug/pprof/"):
		switch strings.TrimPrefix(p, "/debug/pprof/") {
		case "cmdline":
			pprof.Cmdline(w, r)
		case "profile":
			pprof.Profile(w, r)
		case "symbol":
			pprof.Symbol(w, r)
		case "trace":
			pprof.Trace(w, r)
		default:
			pprof.Index(w, r)
		}
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		page.Serve(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// quotedLog passes net/http's own error lines to logf with control
// characters escaped: they can quote bytes sent by clients.
type quotedLog struct{ logf func(string, ...any) }

func (q quotedLog) Write(p []byte) (int, error) {
	q.logf("http: %q", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
