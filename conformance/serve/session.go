package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Phase names, as OnPhase receives them and case details print them.
const (
	PhaseIdle      = "idle"
	PhaseDrops     = "drops"
	PhaseRefused   = "refused"
	PhaseFrozen    = "frozen"
	PhaseStable    = "stable"
	PhaseGoingAway = "going-away"
	PhaseLast      = "last"
	PhaseDone      = "done"
)

// LastMessage is the text the session sends on the last connection; a
// client may close when it sees it, as a user would at some point.
const LastMessage = "wsbench: last connection; close the client when you like"

// resetAttempts is how many delays phase 5 measures after the stable
// connection.
const resetAttempts = 3

// errNoAttempt: the client did not come back in time.
var errNoAttempt = errors.New("no new attempt")

// observations is what the script saw; the cases judge it. Fields are
// written by the script goroutine and read once it has ended.
type observations struct {
	agent, userAgent, origin string
	reached                  string // the last phase entered
	abort                    string // why the script stopped early ("" = ran to the end)

	pings, pongs int           // phase 1
	pongMax      time.Duration // the slowest pong counted
	idleEnd      string

	drops []time.Duration // phase 2

	refusedGap   time.Duration // phase 3: 503 → next attempt
	refusedOK    bool
	healthzAsked int // GET /healthz answered 503 meanwhile

	frozenGaveUp time.Duration // phase 4: freeze → the client gave up
	frozenHow    string
	frozenOK     bool

	resetDelays []time.Duration // phase 5

	goingAwayDelay time.Duration // phase 6
	goingAwayOK    bool

	ownClose      int           // phase 7: the client's own close code (0 = none)
	ownCloseAbort bool          // the client ended the last connection without a close frame
	sent4000      bool          // the suite closed with 4000 instead
	cameBack      time.Duration // after the close, the next attempt (0 = none within quiet)
	quiet         time.Duration
}

// session runs the script for one agent.
type session struct {
	cfg      Config
	agent    string
	attempts chan *attempt
	refusing atomic.Bool  // /healthz answers 503 while set
	asked    atomic.Int32 // /healthz requests answered 503
	wg       *sync.WaitGroup
	logf     func(string, ...any)

	pending *attempt
	obs     observations
}

func newSession(cfg Config, agent string, wg *sync.WaitGroup, logf func(string, ...any)) *session {
	return &session{cfg: cfg, agent: agent, attempts: make(chan *attempt), wg: wg, logf: logf,
		obs: observations{agent: agent}}
}

func (s *session) phase(p string) {
	s.obs.reached = p
	s.logf("session %s: phase %s", s.agent, p)
	if s.cfg.OnPhase != nil {
		s.cfg.OnPhase(s.agent, p)
	}
}

// next returns the client's next handshake attempt within wait.
func (s *session) next(ctx context.Context, wait time.Duration) (*attempt, error) {
	if a := s.pending; a != nil {
		s.pending = nil
		return a, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case a := <-s.attempts:
		return a, nil
	case <-t.C:
		return nil, fmt.Errorf("%w within %v", errNoAttempt, wait)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hold keeps l open for d, pinging every PingEvery. It returns early, with
// the event, when the connection ends or the client starts another one.
func (s *session) hold(ctx context.Context, l *live, d time.Duration) (liveEvent, bool) {
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(s.cfg.PingEvery)
	defer tick.Stop()
	for {
		select {
		case e := <-l.ev:
			return e, true
		case a := <-s.attempts:
			s.pending = a
			return liveEvent{at: a.at, err: errors.New("the client opened a new connection")}, true
		case <-tick.C:
			if !l.frozen.Load() {
				_ = l.write(ws.OpPing, true, []byte("wsbench"))
			}
		case <-end.C:
			return liveEvent{}, false
		case <-ctx.Done():
			return liveEvent{err: ctx.Err()}, true
		}
	}
}

// acceptNext waits for the next attempt and accepts it; since is when the
// previous connection ended, for the delay.
func (s *session) acceptNext(ctx context.Context, since time.Time) (*live, time.Duration, error) {
	a, err := s.next(ctx, s.cfg.MaxDelay)
	if err != nil {
		return nil, 0, err
	}
	d := a.at.Sub(since)
	l, err := a.accept(s.wg)
	return l, d, err
}

func (s *session) stop(why string, args ...any) {
	s.obs.abort = fmt.Sprintf(why, args...)
	s.logf("session %s: stopped in phase %s: %s", s.agent, s.obs.reached, s.obs.abort)
}

// run plays the script on the session's first attempt a. It returns when
// the script is over; every connection it accepted is closed by then.
func (s *session) run(ctx context.Context, a *attempt) {
	s.obs.userAgent, s.obs.origin = a.r.UserAgent(), a.r.Header.Get("Origin")
	var l *live
	defer func() {
		if l != nil {
			l.kill()
		}
	}()
	var err error
	if l, err = a.accept(s.wg); err != nil {
		s.stop("the first handshake failed: %v", err)
		return
	}

	// 1 idle: pings every PingEvery; each must be answered, within
	// PingEvery (the grace after the last ping, too).
	s.phase(PhaseIdle)
	sent := map[string]time.Time{}
	for end := time.Now().Add(s.cfg.Idle); time.Now().Before(end) || (len(sent) > 0 && time.Now().Before(end.Add(s.cfg.PingEvery))); {
		if time.Now().Before(end) {
			payload := fmt.Sprintf("wsbench-%d", s.obs.pings)
			if err := l.write(ws.OpPing, true, []byte(payload)); err != nil {
				s.obs.idleEnd = err.Error()
				break
			}
			sent[payload] = time.Now()
			s.obs.pings++
		}
		if e, ended := s.awaitPongs(ctx, l, sent); ended {
			s.obs.idleEnd = describe(e)
			break
		}
	}
	if s.obs.idleEnd != "" {
		s.stop("the first connection ended during the idle phase: %s", s.obs.idleEnd)
		return
	}

	// 2 drops.
	s.phase(PhaseDrops)
	l.kill()
	since := time.Now()
	for range s.cfg.Attempts {
		var d time.Duration
		if l, d, err = s.acceptNext(ctx, since); err != nil {
			s.stop("after %d drops: %v", len(s.obs.drops), err)
			return
		}
		s.obs.drops = append(s.obs.drops, d)
		l.kill()
		since = time.Now()
	}

	// 3 refused.
	s.phase(PhaseRefused)
	a, err = s.next(ctx, s.cfg.MaxDelay)
	if err != nil {
		s.stop("after the last drop: %v", err)
		return
	}
	s.refusing.Store(true)
	a.refuse(s.cfg.RetryAfter)
	refused := time.Now()
	a, err = s.next(ctx, s.cfg.RetryAfter+s.cfg.MaxDelay)
	s.refusing.Store(false)
	if err != nil {
		s.stop("after the 503: %v", err)
		return
	}
	s.obs.refusedGap, s.obs.refusedOK = a.at.Sub(refused), true
	s.obs.healthzAsked = int(s.asked.Load())

	// 4 frozen.
	s.phase(PhaseFrozen)
	if l, err = a.accept(s.wg); err != nil {
		s.stop("%v", err)
		return
	}
	if e, ended := s.hold(ctx, l, s.cfg.PingEvery); ended {
		s.stop("the connection before the freeze ended: %s", describe(e))
		return
	}
	l.frozen.Store(true)
	frozen := time.Now()
	e, ended := s.hold(ctx, l, s.cfg.HeartbeatBound)
	l.kill()
	since = time.Now()
	if ended && ctx.Err() == nil {
		s.obs.frozenGaveUp, s.obs.frozenHow, s.obs.frozenOK = e.at.Sub(frozen), describe(e), true
		if s.pending == nil {
			since = e.at
		}
	}

	// 5 stable.
	s.phase(PhaseStable)
	if l, _, err = s.acceptNext(ctx, since); err != nil {
		s.stop("after the frozen link: %v", err)
		return
	}
	if e, ended := s.hold(ctx, l, s.cfg.Stable); ended {
		s.stop("the stable connection ended after less than %v: %s", s.cfg.Stable, describe(e))
		return
	}
	l.kill()
	since = time.Now()
	for range resetAttempts {
		var d time.Duration
		if l, d, err = s.acceptNext(ctx, since); err != nil {
			s.stop("after the stable connection: %v", err)
			return
		}
		s.obs.resetDelays = append(s.obs.resetDelays, d)
		l.kill()
		since = time.Now()
	}

	// 6 going away.
	s.phase(PhaseGoingAway)
	if l, _, err = s.acceptNext(ctx, since); err != nil {
		s.stop("%v", err)
		return
	}
	if e, ended := s.hold(ctx, l, s.cfg.PingEvery); ended {
		s.stop("the connection before close 1001 ended: %s", describe(e))
		return
	}
	_ = l.closeWith(1001, "wsbench: going away")
	since = s.closeAndWait(ctx, l)
	var d time.Duration
	if l, d, err = s.acceptNext(ctx, since); err != nil {
		s.stop("after close 1001: %v", err)
		return
	}
	s.obs.goingAwayDelay, s.obs.goingAwayOK = d, true

	// 7 last.
	s.phase(PhaseLast)
	_ = l.write(ws.OpText, true, []byte(LastMessage))
	e, ended = s.hold(ctx, l, s.cfg.CloseWait)
	switch {
	case ended && e.close:
		s.obs.ownClose = e.code
		l.kill()
	case ended && s.pending == nil:
		s.obs.ownCloseAbort = true
		s.obs.ownClose = -1
		l.kill()
	case ended:
		// A new connection while the last one was open: counted as coming back.
		l.kill()
	default:
		s.obs.sent4000 = true
		_ = l.closeWith(4000, "wsbench: do not retry")
		s.closeAndWait(ctx, l)
	}
	closed := time.Now()
	s.obs.quiet = s.quietWindow().Round(time.Millisecond)
	if a, err := s.next(ctx, s.obs.quiet); err == nil {
		s.obs.cameBack = max(a.at.Sub(closed), time.Nanosecond)
		a.drop()
	}
	s.phase(PhaseDone)
}

// quietWindow is how long the client must stay away after the last close:
// Quiet, or 1.5 times the longest delay seen, at most MaxDelay.
func (s *session) quietWindow() time.Duration {
	q := s.cfg.Quiet
	for _, d := range append(append([]time.Duration{}, s.obs.drops...), s.obs.resetDelays...) {
		q = max(q, d*3/2)
	}
	return min(q, max(s.cfg.MaxDelay, s.cfg.Quiet))
}

// closeAndWait gives the client a second to answer the suite's close, then
// closes the TCP connection; it returns when the connection ended.
func (s *session) closeAndWait(ctx context.Context, l *live) time.Time {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-l.ev:
	case <-t.C:
	case <-ctx.Done():
	}
	l.kill()
	return time.Now()
}

// awaitPongs collects pongs for PingEvery: a pong answering a ping in
// sent (within PingEvery of it) counts and leaves sent.
func (s *session) awaitPongs(ctx context.Context, l *live, sent map[string]time.Time) (liveEvent, bool) {
	t := time.NewTimer(s.cfg.PingEvery)
	defer t.Stop()
	for {
		select {
		case p := <-l.pongs:
			if at, ok := sent[string(p)]; ok {
				delete(sent, string(p))
				if lat := time.Since(at); lat <= s.cfg.PingEvery {
					s.obs.pongs++
					s.obs.pongMax = max(s.obs.pongMax, lat)
				}
			}
		case e := <-l.ev:
			return e, true
		case a := <-s.attempts:
			s.pending = a
			return liveEvent{at: a.at, err: errors.New("the client opened a new connection")}, true
		case <-t.C:
			return liveEvent{}, false
		case <-ctx.Done():
			return liveEvent{err: ctx.Err()}, true
		}
	}
}

// describe says how a connection ended, for details.
func describe(e liveEvent) string {
	switch {
	case e.close:
		return fmt.Sprintf("the client sent close %d", e.code)
	case e.err != nil:
		return e.err.Error()
	}
	return "still open"
}

// healthz answers 503 + Retry-After while the session refuses, else 200;
// it allows any origin, so a page served elsewhere can read it.
func (s *session) healthz(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
	w.Header().Set("Cache-Control", "no-store")
	if s != nil && s.refusing.Load() {
		s.asked.Add(1)
		w.Header().Set("Retry-After", fmt.Sprint(int(s.cfg.RetryAfter/time.Second)))
		http.Error(w, "refusing", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
