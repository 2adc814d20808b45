package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/runner"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/chatpage"
)

// server routes requests to the one behaviour session of a run. The first
// agent to connect to /session/ owns the run; attempts are handed to its
// script, which decides each one.
type server struct {
	cfg  Config
	ctx  context.Context
	logf func(string, ...any)
	wg   sync.WaitGroup // the script and every connection goroutine

	mu        sync.Mutex
	sess      *session
	fz        fuzzing
	started   chan struct{} // closed when a session or a protocol case starts
	isStarted bool
	ended     chan struct{} // closed when the session's script has ended
}

// startedOnce closes started the first time; callers hold mu.
func (s *server) startedOnce() {
	if !s.isStarted {
		s.isStarted = true
		close(s.started)
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthz":
		s.mu.Lock()
		sess := s.sess
		s.mu.Unlock()
		sess.healthz(w)
	case r.URL.Path == "/getCaseCount", r.URL.Path == "/runCase", r.URL.Path == "/getCaseStatus", r.URL.Path == "/updateReports":
		s.fuzz(w, r)
	case strings.HasPrefix(r.URL.Path, "/session/"):
		s.session(w, r, strings.TrimPrefix(r.URL.Path, "/session/"))
	case r.URL.Path == "/":
		fmt.Fprintf(w, "wsbench conformance serve\n\nbehaviour session for a reconnecting client: ws://%s/session/AGENT\n"+
			"protocol cases (Autobahn fuzzingserver endpoints): ws://%s/getCaseCount, /runCase?case=N&agent=A, /getCaseStatus?case=N&agent=A, /updateReports?agent=A\n", r.Host, r.Host)
	default:
		http.NotFound(w, r)
	}
}

func (s *server) session(w http.ResponseWriter, r *http.Request, agent string) {
	if agent == "" || strings.Contains(agent, "/") {
		http.Error(w, "connect to /session/AGENT, AGENT a name for your client without '/'", http.StatusNotFound)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		// A browser opening the session URL gets the chat page, which
		// connects back to this path: the page is a client under test too.
		chatpage.Serve(w, r)
		return
	}
	a := &attempt{w: w, r: r, at: time.Now(), done: make(chan struct{})}
	s.mu.Lock()
	sess := s.sess
	if sess == nil {
		sess = newSession(s.cfg, agent, &s.wg, s.logf)
		s.sess = sess
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(s.ended)
			sess.run(s.ctx, a)
		}()
		s.startedOnce()
		s.mu.Unlock()
		<-a.done
		return
	}
	s.mu.Unlock()
	if sess.agent != agent {
		http.Error(w, "this run belongs to agent "+sess.agent+"; start another serve for "+agent, http.StatusConflict)
		return
	}
	select {
	case sess.attempts <- a:
		<-a.done
	case <-s.ended:
		http.Error(w, "the session is over", http.StatusGone)
	case <-r.Context().Done():
	}
}

// Run serves until the session has ended (or ctx ends, or cfg.Timeout),
// then prints one line per case and the closing line to out and writes the
// reports. It returns the entries; the caller turns failures into an exit
// code. Errors wrapping ErrUsage are configuration errors.
func Run(ctx context.Context, cfg Config, out io.Writer, logf func(string, ...any)) ([]report.Entry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := regexpSelect(nil, cfg.Run); err != nil {
		return nil, err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.List {
		all := append(behaviourSuite(cfg, nil), protocolSuite(&fuzzing{})...)
		sel, _ := regexpSelect(all, cfg.Run)
		return nil, runner.List(out, sel)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	addr := ln.Addr().String()
	cfg.Addr = addr
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}
	sessionURL := "ws://" + addr + "/session/AGENT"
	fmt.Fprintf(out, "conformance serve: listening on %s\n  behaviour session (reconnecting clients): %s  (AGENT: any name for your client)\n", addr, sessionURL)
	fmt.Fprintf(out, "  the wsbench chat page as the client: open http://%s/session/chat-page in a browser\n", addr)
	fmt.Fprintf(out, "  protocol cases for an echoing client (Autobahn fuzzingserver endpoints): ws://%s/getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A\n", addr)

	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	s := &server{cfg: cfg, ctx: rctx, logf: logf, started: make(chan struct{}), ended: make(chan struct{}),
		fz: fuzzing{results: map[int]suite.Result{}, done: make(chan struct{})}}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	started := time.Now()

	// The run ends with the behaviour session's script, with
	// /updateReports from the protocol agent, or at the timeout.
	select {
	case <-s.ended:
	case <-s.fz.done:
	case <-rctx.Done():
	}
	// Stop the script, then the listener and the handlers not yet
	// upgraded, then wait for the upgraded ones (Shutdown does not track
	// hijacked connections; they are in wg from before their upgrade).
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = hs.Shutdown(sctx)
	scancel()
	s.wg.Wait()
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return nil, fmt.Errorf("serve %s: %w", addr, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	var all []suite.Case
	agent := "client"
	if s.fz.agent != "" {
		agent = s.fz.agent
	}
	if s.sess != nil {
		agent = s.sess.agent
		obs := &s.sess.obs
		fmt.Fprintf(out, "agent %q (User-Agent %q)\n", obs.agent, obs.userAgent)
		all = behaviourSuite(cfg, obs)
	}
	if s.fz.agent != "" { // no handler runs any more: wg is done
		fmt.Fprintf(out, "protocol agent %q: %d of %d cases run\n", s.fz.agent, len(s.fz.results), len(protocolCases))
		all = append(all, protocolSuite(&s.fz)...)
	}
	if len(all) == 0 {
		all = behaviourSuite(cfg, nil) // every behaviour case FAILED: no client came
	}
	sel, _ := regexpSelect(all, cfg.Run)
	env := &suite.Env{CaseTimeout: time.Second, Logf: logf}
	entries := runner.Execute(ctx, env, sel, 1, out)
	if _, err := fmt.Fprintln(out, report.Count(entries)); err != nil {
		return entries, err
	}
	if cfg.JUnit != "" {
		if err := runner.WriteFile(cfg.JUnit, func(w io.Writer) error { return report.WriteJUnit(w, "wsbench conformance serve", entries) }); err != nil {
			return entries, err
		}
	}
	if cfg.JSON != "" {
		target := "ws://" + addr // the protocol agent's base URL
		if s.sess != nil {
			target += "/session/" + s.sess.agent
		}
		rep := report.NewJSON(target, started, entries)
		if err := runner.WriteFile(cfg.JSON, func(w io.Writer) error { return report.WriteJSON(w, rep) }); err != nil {
			return entries, err
		}
	}
	if cfg.ReportDir != "" {
		if err := report.WriteAutobahn(cfg.ReportDir, agent, "ws://"+addr, started, entries); err != nil {
			return entries, fmt.Errorf("--report-dir: %w", err)
		}
	}
	return entries, nil
}

// regexpSelect validates expr and selects the cases it matches.
func regexpSelect(cases []suite.Case, expr string) ([]suite.Case, error) {
	if err := (runner.Config{Run: expr, List: true, Timeout: time.Second, Parallel: 1}).Validate(); err != nil {
		return nil, err
	}
	return runner.Select(cases, expr), nil
}
