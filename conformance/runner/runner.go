// Package runner selects conformance cases, runs them against one server
// (concurrently where a case allows it, each bounded by a timeout), prints
// one line per case in catalogue order and writes the JUnit and JSON
// reports. The conformance command is a thin wrapper around Run.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/suite"
)

// Defaults for Config.
const (
	DefaultTimeout  = 20 * time.Second
	DefaultParallel = 4
)

// Config is everything the conformance command takes from its flags.
type Config struct {
	URL             string
	Run             string // regexp over "ID title"; empty selects all
	Browser         bool
	PingInterval    time.Duration
	PongTimeout     time.Duration
	MaxMessage      int64
	MaxConns        int
	ForbiddenOrigin string
	Timeout         time.Duration // per case
	Parallel        int           // cases run at once (cases marked Serial run alone)
	Relaxed         bool
	Profile         string // suite.ProfileChat (default) or suite.ProfileEcho
	Deflate         bool   // run the permessage-deflate cases
	JUnit           string
	JSON            string
	ReportDir       string // Autobahn-shaped index.json, a file per case, index.html
	Agent           string // the server's name in ReportDir's reports; default the URL's host
	List            bool
}

// DefaultConfig returns the command's defaults.
func DefaultConfig() Config {
	return Config{URL: "ws://127.0.0.1:8181/", Timeout: DefaultTimeout, Parallel: DefaultParallel, Profile: suite.ProfileChat}
}

// ErrUsage marks configuration errors (exit code 2).
var ErrUsage = errors.New("usage")

// Validate reports the first unusable setting, saying what to do.
func (c Config) Validate() error {
	var errs []error
	if !c.List {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--url %q must be a ws:// or wss:// URL such as ws://127.0.0.1:8181/", c.URL))
		}
	}
	if _, err := regexp.Compile(c.Run); err != nil {
		errs = append(errs, fmt.Errorf("--run %q is not a valid regular expression: %v", c.Run, err))
	}
	if c.PingInterval < 0 || c.PongTimeout < 0 {
		errs = append(errs, errors.New("--ping-interval and --pong-timeout must not be negative; leave them out when unknown"))
	}
	if c.PingInterval > 0 && c.PongTimeout > 0 && c.PongTimeout <= c.PingInterval {
		errs = append(errs, fmt.Errorf("--pong-timeout %v must be longer than --ping-interval %v (as the server requires)", c.PongTimeout, c.PingInterval))
	}
	if c.MaxMessage < 0 || c.MaxMessage > 1<<30 {
		errs = append(errs, fmt.Errorf("--max-message %d must be between 1 and 1 GiB, or 0 when unknown", c.MaxMessage))
	}
	if c.MaxConns < 0 || c.MaxConns > 1000 {
		errs = append(errs, fmt.Errorf("--max-conns %d: give the server's limit (at most 1000, the suite opens that many connections), or 0 when unknown", c.MaxConns))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %v must be a positive duration such as 20s", c.Timeout))
	}
	if c.Parallel < 1 || c.Parallel > 64 {
		errs = append(errs, fmt.Errorf("--parallel %d must be between 1 and 64", c.Parallel))
	}
	switch c.Profile {
	case suite.ProfileChat, suite.ProfileEcho, "":
	default:
		errs = append(errs, fmt.Errorf("--profile %q: use chat (the server relays to every member of a room) or echo (it sends each message back to its sender only)", c.Profile))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return nil
}

// agent is the server's name in the Autobahn-shaped reports.
func (c Config) agent() string {
	if c.Agent != "" {
		return c.Agent
	}
	if u, err := url.Parse(c.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return "server"
}

// Env builds the environment cases see.
func (c Config) Env(logf func(string, ...any)) (*suite.Env, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	profile := c.Profile
	if profile == "" {
		profile = suite.ProfileChat
	}
	return &suite.Env{
		URL: u, PingInterval: c.PingInterval, PongTimeout: c.PongTimeout,
		MaxMessage: c.MaxMessage, Origin: c.ForbiddenOrigin, Browser: c.Browser,
		Relaxed: c.Relaxed, MaxConns: c.MaxConns, CaseTimeout: c.Timeout, Logf: logf,
		Profile: profile, Wire: c.ReportDir != "", Deflate: c.Deflate,
	}, nil
}

// Select returns the cases whose ID, or "ID title", matches expr, in order.
func Select(cases []suite.Case, expr string) []suite.Case {
	re := regexp.MustCompile(expr)
	var out []suite.Case
	for _, c := range cases {
		if re.MatchString(c.ID) || re.MatchString(c.ID+" "+c.Title) {
			out = append(out, c)
		}
	}
	return out
}

// List prints the catalogue: id, group, Autobahn case, ref, title.
func List(w io.Writer, cases []suite.Case) error {
	for _, c := range cases {
		ref, ab := c.Ref, c.Autobahn
		if ab == "" {
			ab = "-"
		}
		if len(ref) > 26 { // long WHATWG step references go on their own line
			if _, err := fmt.Fprintf(w, "%-8s  %-10s  %-9s  %s\n", c.ID, c.Group, ab, ref); err != nil {
				return err
			}
			c.ID, c.Group, ab, ref = "", "", "", ""
		}
		if _, err := fmt.Fprintf(w, "%-8s  %-10s  %-9s  %-26s  %s\n", c.ID, c.Group, ab, ref, c.Title); err != nil {
			return err
		}
	}
	return nil
}

// Execute runs cases against env, printing a line per case to out in
// catalogue order as results become available, and returns every result.
func Execute(ctx context.Context, env *suite.Env, cases []suite.Case, parallel int, out io.Writer) []report.Entry {
	entries := make([]report.Entry, len(cases))
	done := make([]chan struct{}, len(cases))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var printed sync.WaitGroup
	printed.Add(1)
	go func() {
		defer printed.Done()
		for i := range cases {
			<-done[i]
			fmt.Fprintln(out, report.Line(entries[i]))
		}
	}()

	var mu sync.RWMutex // Serial cases hold it exclusively, others shared
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	run := func(i int) {
		entries[i] = report.Entry{Case: cases[i], Result: runOne(ctx, env, cases[i])}
		close(done[i])
	}
	for i, c := range cases {
		if c.After {
			continue
		}
		if c.Serial {
			mu.Lock()
			run(i)
			mu.Unlock()
			continue
		}
		sem <- struct{}{}
		mu.RLock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { mu.RUnlock(); <-sem }()
			run(i)
		}()
	}
	wg.Wait()
	for i, c := range cases {
		if c.After {
			run(i)
		}
	}
	printed.Wait()
	return entries
}

// runOne runs c with its own deadline; a case that overruns it by more than
// a grace period is reported FAILED rather than hanging the suite.
func runOne(ctx context.Context, env *suite.Env, c suite.Case) suite.Result {
	timeout := env.CaseTimeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if c.Budget != nil {
		timeout = max(timeout, c.Budget(env))
	}
	if c.Room && env.Profile == suite.ProfileEcho {
		return suite.Skip("needs several members of one room; an echo server (--profile echo) sends each message back to its sender only")
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wire *rawclient.Wire
	if env.Wire {
		wire = rawclient.NewWire()
		cctx = rawclient.WithWire(cctx, wire)
	}
	start := time.Now()
	ch := make(chan suite.Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- suite.Failf("the case to finish", "the case panicked: %v", p)
			}
		}()
		ch <- c.Run(cctx, env)
	}()
	var r suite.Result
	select {
	case r = <-ch:
	case <-time.After(timeout + 5*time.Second):
		r = suite.Failf("the case to finish within --timeout "+timeout.String(), "still running after %v", time.Since(start).Round(time.Millisecond))
	}
	if r.Verdict == suite.OK && cctx.Err() != nil && ctx.Err() != nil {
		r = suite.Skip("interrupted")
	}
	if r.Verdict == suite.Failed && c.Ref != "" && !strings.Contains(r.Expected, "§") {
		// Every failure names the requirement it rests on.
		r.Expected = strings.TrimSpace(r.Expected + " (" + c.Ref + ")")
	}
	r.Elapsed = time.Since(start)
	r.Wire, r.RemoteClose = wire.Lines(), wire.CloseCode()
	return r
}

// Run executes the selected cases for cfg and writes the reports. It
// returns the entries; the caller turns failures into an exit code.
func Run(ctx context.Context, cfg Config, cases []suite.Case, out io.Writer, logf func(string, ...any)) ([]report.Entry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sel := Select(cases, cfg.Run)
	if cfg.List {
		return nil, List(out, sel)
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("%w: --run %q selects no case; see --list", ErrUsage, cfg.Run)
	}
	env, err := cfg.Env(logf)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	entries := Execute(ctx, env, sel, cfg.Parallel, out)
	if _, err := fmt.Fprintln(out, report.Count(entries)); err != nil {
		return entries, err
	}
	if cfg.JUnit != "" {
		if err := writeFile(cfg.JUnit, func(w io.Writer) error { return report.WriteJUnit(w, "wsbench conformance", entries) }); err != nil {
			return entries, err
		}
	}
	if cfg.ReportDir != "" {
		if err := report.WriteAutobahn(cfg.ReportDir, cfg.agent(), cfg.URL, started, entries); err != nil {
			return entries, fmt.Errorf("--report-dir: %w", err)
		}
	}
	if cfg.JSON != "" {
		rep := report.NewJSON(cfg.URL, started, entries)
		if err := writeFile(cfg.JSON, func(w io.Writer) error { return report.WriteJSON(w, rep) }); err != nil {
			return entries, err
		}
	}
	return entries, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// WriteFile creates path (and its directory) and fills it with write; the
// serve command writes its reports with it too.
func WriteFile(path string, write func(io.Writer) error) error { return writeFile(path, write) }
