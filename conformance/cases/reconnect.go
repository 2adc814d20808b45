package cases

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/backoff"
	"github.com/wsbench/wsbench/internal/reconnect"
	"github.com/wsbench/wsbench/server/chatserver"
)

// The reconnect cases check the project's own reconnecting client
// (internal/reconnect, the same policy as the chat page) against the
// reference server started in-process on 127.0.0.1, because they must stop
// and restart the server. They ignore --url.

func (k *kit) reconnect() []suite.Case {
	budget := func(*suite.Env) time.Duration { return 150 * time.Second }
	cs := []suite.Case{
		{ID: "RC-01", Group: "reconnect", Ref: "wsbench reconnect policy", Title: "after a server restart clients return, every delay within [0, min(cap, base·2ⁿ)]", Run: rcRestart},
		{ID: "RC-02", Group: "reconnect", Ref: "wsbench reconnect policy", Title: "the attempt counter resets after a stable uptime, not before", Run: rcStableReset},
		{ID: "RC-03", Group: "reconnect", Ref: "RFC 6455 §7.4.1; wsbench policy", Title: "no reconnect after the client's own close 1000", Run: rcIntentional},
		{ID: "RC-04", Group: "reconnect", Ref: "wsbench policy (4000-4099)", Title: "no reconnect after a server close code 4000-4099 (do not retry)", Run: rcDoNotRetry},
		{ID: "RC-05", Group: "reconnect", Ref: "RFC 9110 §10.2.3", Title: "Retry-After of a 503 refusal is honoured", Run: rcRetryAfter},
		{ID: "RC-06", Group: "reconnect", Ref: "wsbench reconnect policy", Title: "1,000 clients dropped at once come back spread out, not in one burst", Run: rcThundering, Serial: true},
	}
	for i := range cs {
		cs[i].Budget = budget
	}
	return cs
}

// refServer is the reference chat server on a fixed loopback port, so it
// can be stopped and started again at the same address.
type refServer struct {
	cfg  chatserver.Config
	addr string
	s    *chatserver.Server
	done chan error
}

func startRef(cfg chatserver.Config, addr string) (*refServer, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	s, err := chatserver.New(cfg, func(string, ...any) {})
	if err != nil {
		ln.Close()
		return nil, err
	}
	r := &refServer{cfg: cfg, addr: ln.Addr().String(), s: s, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ln) }()
	return r, nil
}

func (r *refServer) url(path string) string { return "ws://" + r.addr + path }

func (r *refServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.s.Shutdown(ctx)
	<-r.done
}

func refConfig() chatserver.Config {
	cfg := chatserver.DefaultConfig()
	cfg.PingInterval, cfg.PongTimeout = 0, 0
	cfg.ShutdownGrace = time.Second
	cfg.CloseTimeout = 500 * time.Millisecond
	return cfg
}

// event is one thing a client did, with its time.
type event struct {
	kind    string // "open", "delay"
	at      time.Time
	attempt int
	d       time.Duration
	err     error
}

// tracked is a reconnect.Client with its event log.
type tracked struct {
	c      *reconnect.Client
	mu     sync.Mutex
	events []event
	runErr error
	done   chan struct{}
}

func (t *tracked) add(e event) {
	e.at = time.Now()
	t.mu.Lock()
	t.events = append(t.events, e)
	t.mu.Unlock()
}

func (t *tracked) log() []event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]event(nil), t.events...)
}

func (t *tracked) count(kind string) int {
	n := 0
	for _, e := range t.log() {
		if e.kind == kind {
			n++
		}
	}
	return n
}

func startClient(ctx context.Context, url string, bc backoff.Config, wg *sync.WaitGroup) (*tracked, error) {
	t := &tracked{done: make(chan struct{})}
	c, err := reconnect.New(reconnect.Config{
		URL: url, Backoff: bc, DialTimeout: 2 * time.Second,
		OnOpen:  func(n int) { t.add(event{kind: "open", attempt: n}) },
		OnDelay: func(n int, d time.Duration, why error) { t.add(event{kind: "delay", attempt: n, d: d, err: why}) },
	})
	if err != nil {
		return nil, err
	}
	t.c = c
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(t.done)
		t.runErr = c.Run(ctx)
	}()
	return t, nil
}

// until polls cond every 10 ms until it holds or d passes.
func until(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// checkDelays verifies that each delay lies within its ceiling (plus the
// Retry-After it follows) and that the next attempt came no earlier.
func checkDelays(bc backoff.Config, evs []event) error {
	for i, e := range evs {
		if e.kind != "delay" {
			continue
		}
		var extra time.Duration
		var rf *reconnect.RefusedError
		if errors.As(e.err, &rf) {
			extra = rf.RetryAfter
		}
		if ceil := bc.Ceiling(e.attempt); e.d < 0 || e.d > ceil+extra {
			return fmt.Errorf("delay %d = %v outside [0, %v]", e.attempt, e.d, ceil+extra)
		}
		if i+1 < len(evs) {
			if gap := evs[i+1].at.Sub(e.at); gap+2*time.Millisecond < e.d {
				return fmt.Errorf("delay %d = %v but the next attempt came after %v", e.attempt, e.d, gap)
			}
		}
	}
	return nil
}

func isRefusal(err error) bool {
	var rf *reconnect.RefusedError
	return errors.As(err, &rf) && rf.Status == http.StatusServiceUnavailable
}

func rcRestart(ctx context.Context, env *suite.Env) suite.Result {
	srv, err := startRef(refConfig(), "")
	if err != nil {
		return suite.Failf("the reference server", "%v", err)
	}
	bc := backoff.Config{Base: 50 * time.Millisecond, Cap: 400 * time.Millisecond, Stable: 10 * time.Second}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait(); srv.stop() }()
	const n = 20
	var cs []*tracked
	for i := 0; i < n; i++ {
		t, err := startClient(cctx, srv.url("/rc-01"), bc, &wg)
		if err != nil {
			return suite.Failf("a client", "%v", err)
		}
		cs = append(cs, t)
	}
	opens := func(min int) func() bool {
		return func() bool {
			for _, t := range cs {
				if t.count("open") < min {
					return false
				}
			}
			return true
		}
	}
	if !until(ctx, 10*time.Second, opens(1)) {
		return suite.Fail("20 clients connected", "not all connected")
	}
	addr := srv.addr
	srv.stop()
	time.Sleep(500 * time.Millisecond) // down long enough for several failed dials
	srv, err = startRef(refConfig(), addr)
	if err != nil {
		return suite.Failf("the server restarted on "+addr, "%v", err)
	}
	if !until(ctx, 15*time.Second, opens(2)) {
		return suite.Fail("every client back after the restart", "not all reconnected within 15s")
	}
	maxAttempt := 0
	for i, t := range cs {
		evs := t.log()
		if err := checkDelays(bc, evs); err != nil {
			return suite.Failf("full-jitter delays within [0, min(cap, base·2ⁿ)]", "client %d: %v", i, err)
		}
		for _, e := range evs {
			if e.kind == "delay" && e.attempt > maxAttempt {
				maxAttempt = e.attempt
			}
		}
	}
	if maxAttempt == 0 {
		return suite.Fail("failed dials while the server was down (attempt ≥ 1)", "every client returned at its first attempt")
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("%d clients back; up to %d attempts", n, maxAttempt+1)}
}

func rcStableReset(ctx context.Context, env *suite.Env) suite.Result {
	// A server that drops a silent client after 300 ms of silence.
	cfg := refConfig()
	cfg.PongTimeout = 300 * time.Millisecond
	srv, err := startRef(cfg, "")
	if err != nil {
		return suite.Failf("the reference server", "%v", err)
	}
	defer srv.stop()
	run := func(stable time.Duration) ([]int, error) {
		bc := backoff.Config{Base: 20 * time.Millisecond, Cap: 100 * time.Millisecond, Stable: stable}
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()
		t, err := startClient(cctx, srv.url("/rc-02"), bc, &wg)
		if err != nil {
			return nil, err
		}
		if !until(ctx, 10*time.Second, func() bool { return t.count("delay") >= 3 }) {
			return nil, fmt.Errorf("fewer than 3 drops in 10s")
		}
		var at []int
		for _, e := range t.log() {
			if e.kind == "delay" {
				at = append(at, e.attempt)
			}
		}
		return at[:3], nil
	}
	short, err := run(150 * time.Millisecond) // 300 ms uptimes are stable
	if err != nil {
		return suite.Failf("3 drops", "%v", err)
	}
	long, err := run(10 * time.Second) // 300 ms uptimes are not
	if err != nil {
		return suite.Failf("3 drops", "%v", err)
	}
	if fmt.Sprint(short) != "[0 0 0]" || fmt.Sprint(long) != "[0 1 2]" {
		return suite.Failf("attempts [0 0 0] after stable uptimes and [0 1 2] after short ones", "%v and %v", short, long)
	}
	return suite.Pass()
}

func rcIntentional(ctx context.Context, env *suite.Env) suite.Result {
	srv, err := startRef(refConfig(), "")
	if err != nil {
		return suite.Failf("the reference server", "%v", err)
	}
	defer srv.stop()
	bc := backoff.Config{Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond, Stable: time.Second}
	var wg sync.WaitGroup
	defer wg.Wait()
	t, err := startClient(ctx, srv.url("/rc-03"), bc, &wg)
	if err != nil {
		return suite.Failf("a client", "%v", err)
	}
	if !until(ctx, 5*time.Second, func() bool { return t.count("open") == 1 }) {
		return suite.Fail("connected", "no connection")
	}
	_ = t.c.Close()
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
		return suite.Fail("Run returns after Close", "still running after 5s")
	}
	time.Sleep(100 * time.Millisecond) // two ceilings: a reconnect would show
	if !errors.Is(t.runErr, reconnect.ErrClosed) || t.count("open") != 1 || t.count("delay") != 0 {
		return suite.Failf("one connection, Run returns ErrClosed", "%d opens, %d delays, %v", t.count("open"), t.count("delay"), t.runErr)
	}
	return suite.Pass()
}

// closer is a WebSocket server that closes every connection with code.
func closer(code ws.StatusCode, upgrades *atomic.Int64) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		upgrades.Add(1)
		defer conn.Close()
		_ = ws.WriteFrame(conn, ws.NewCloseFrame(ws.NewCloseFrameBody(code, "go away")))
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = ws.ReadFrame(conn)
	})}
	go func() { _ = hs.Serve(ln) }()
	return "ws://" + ln.Addr().String() + "/", func() { hs.Close() }, nil
}

func rcDoNotRetry(ctx context.Context, env *suite.Env) suite.Result {
	var rs []suite.Result
	for _, code := range []ws.StatusCode{4000, 4099, 4100, 1001} {
		var upgrades atomic.Int64
		url, stop, err := closer(code, &upgrades)
		if err != nil {
			return suite.Failf("a test server", "%v", err)
		}
		bc := backoff.Config{Base: 10 * time.Millisecond, Cap: 20 * time.Millisecond, Stable: time.Second}
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		t, err := startClient(cctx, url, bc, &wg)
		if err != nil {
			cancel()
			stop()
			return suite.Failf("a client", "%v", err)
		}
		retry := code < 4000 || code > 4099
		var r suite.Result
		if retry {
			if until(ctx, 5*time.Second, func() bool { return upgrades.Load() >= 3 }) {
				r = suite.Pass()
			} else {
				r = suite.Failf("reconnects after close "+fmt.Sprint(code), "%d connections", upgrades.Load())
			}
		} else {
			select {
			case <-t.done:
				if errors.Is(t.runErr, reconnect.ErrDoNotRetry) && upgrades.Load() == 1 {
					r = suite.Pass()
				} else {
					r = suite.Failf(fmt.Sprintf("one connection, no retry after close %d", code), "%d connections, %v", upgrades.Load(), t.runErr)
				}
			case <-time.After(5 * time.Second):
				r = suite.Failf(fmt.Sprintf("no retry after close %d", code), "%d connections, still running", upgrades.Load())
			}
		}
		cancel()
		wg.Wait()
		stop()
		rs = append(rs, labelled(fmt.Sprint(code), r))
	}
	return worst(rs...)
}

func rcRetryAfter(ctx context.Context, env *suite.Env) suite.Result {
	cfg := refConfig()
	cfg.MaxConns = 1
	srv, err := startRef(cfg, "")
	if err != nil {
		return suite.Failf("the reference server", "%v", err)
	}
	defer srv.stop()
	bc := backoff.Config{Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond, Stable: time.Second}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	holder, err := startClient(cctx, srv.url("/rc-05"), bc, &wg)
	if err != nil {
		return suite.Failf("a client", "%v", err)
	}
	if !until(ctx, 5*time.Second, func() bool { return holder.count("open") == 1 }) {
		return suite.Fail("the first client connected", "no connection")
	}
	t, err := startClient(cctx, srv.url("/rc-05"), bc, &wg)
	if err != nil {
		return suite.Failf("a client", "%v", err)
	}
	if !until(ctx, 5*time.Second, func() bool { return t.count("delay") >= 1 }) {
		return suite.Fail("a refused attempt", "none")
	}
	_ = holder.c.Close()
	if !until(ctx, 10*time.Second, func() bool { return t.count("open") >= 1 }) {
		return suite.Fail("the second client connected once the slot was free", "no connection within 10s")
	}
	evs := t.log()
	first := evs[0]
	if !isRefusal(first.err) {
		return suite.Failf("a 503 refusal first", "%v", first.err)
	}
	var next event
	for _, e := range evs[1:] {
		next = e
		break
	}
	gap := next.at.Sub(first.at)
	if first.d < 2*time.Second || gap < 2*time.Second {
		return suite.Failf("next attempt ≥ 2s (Retry-After: 2) after the 503", "delay %v, next attempt after %v", first.d, gap)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("next attempt %v after the 503", gap.Round(time.Millisecond))}
}

func rcThundering(ctx context.Context, env *suite.Env) suite.Result {
	const n = 1000
	cfg := refConfig()
	cfg.MaxConns = 2 * n
	srv, err := startRef(cfg, "")
	if err != nil {
		return suite.Failf("the reference server", "%v", err)
	}
	bc := backoff.DefaultConfig()
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait(); srv.stop() }()
	var cs []*tracked
	opened := func(min int) func() bool {
		return func() bool {
			for _, t := range cs {
				if t.count("open") < min {
					return false
				}
			}
			return true
		}
	}
	// Connect in batches of 100 so the start is not itself a burst.
	for i := 0; i < n; i++ {
		t, err := startClient(cctx, srv.url("/rc-06"), bc, &wg)
		if err != nil {
			return suite.Failf("a client", "%v", err)
		}
		cs = append(cs, t)
		if len(cs)%100 == 0 && !until(ctx, 30*time.Second, opened(1)) {
			return suite.Failf("1,000 clients connected", "only some of the first %d connected in 30s", len(cs))
		}
	}
	addr := srv.addr
	dropped := time.Now()
	srv.stop()
	srv, err = startRef(cfg, addr)
	if err != nil {
		return suite.Failf("the server restarted on "+addr, "%v", err)
	}
	if !until(ctx, 60*time.Second, opened(2)) {
		return suite.Fail("every client back", "not all reconnected within 60s")
	}
	// Bucket the second connects by 100 ms since the drop.
	buckets := map[int64]int{}
	var last time.Duration
	for _, t := range cs {
		evs := t.log()
		seen := 0
		for _, e := range evs {
			if e.kind != "open" {
				continue
			}
			seen++
			if seen == 2 {
				since := e.at.Sub(dropped)
				buckets[int64(since/(100*time.Millisecond))]++
				if since > last {
					last = since
				}
			}
		}
	}
	peak, peakAt := 0, int64(0)
	var keys []int64
	for b, c := range buckets {
		keys = append(keys, b)
		if c > peak {
			peak, peakAt = c, b
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	detail := fmt.Sprintf("peak %d of %d reconnects in one 100 ms window (at +%v); all back within %v over %d windows",
		peak, n, time.Duration(peakAt)*100*time.Millisecond, last.Round(time.Millisecond), len(keys))
	if peak*2 > n {
		return suite.Fail("reconnects spread out (peak window < 50 % of clients)", detail)
	}
	return suite.Result{Verdict: suite.OK, Detail: detail}
}
