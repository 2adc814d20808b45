package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/harness/target"
	"github.com/wsbench/wsbench/loadgen/report"
)

// Env is what Run needs from its surroundings.
type Env struct {
	Self   []string  // argv that runs this program's hidden subcommands (harness bench): the idle holder, the floor's two sides
	Stderr io.Writer // progress
	Stdout io.Writer // the final summary
}

// DefaultOut returns results/<date>-<host>, adding -2, -3 … if taken.
func DefaultOut(now time.Time) string {
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	base := filepath.Join("results", now.UTC().Format("2006-01-02")+"-"+host)
	out := base
	for i := 2; ; i++ {
		if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
			return out
		}
		out = base + "-" + strconv.Itoa(i)
	}
}

// bench is one Run in progress.
type bench struct {
	cfg     Config
	env     Env
	gen     Generator
	prog    *Progress
	res     Results
	capEst  time.Duration
	runEst  func(Load) time.Duration
	serverN int
}

// Run measures cfg's servers and writes cfg.Out. It returns an error when
// the bench could not run (missing tools, build failure, the loadgen
// refusing its flags); partial results are written even then.
func Run(ctx context.Context, cfg Config, env Env) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.Servers = cfg.Measured()
	if err := preflight(cfg); err != nil {
		return err
	}
	if err := cfg.install(func(name string, argv ...string) error {
		fmt.Fprintf(env.Stderr, "[bench] %s: %s\n", name, strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = env.Stderr, env.Stderr
		return cmd.Run()
	}); err != nil {
		return err
	}
	if cfg.Out == "" {
		cfg.Out = DefaultOut(time.Now())
	}
	if cfg.NodeDir == "" {
		cfg.NodeDir = filepath.Join("scripts", "node-ws")
	}
	for _, d := range []string{"matrix", "capacity", "plots", "logs"} {
		if err := os.MkdirAll(filepath.Join(cfg.Out, d), 0o755); err != nil {
			return err
		}
	}
	b := &bench{cfg: cfg, env: env}
	b.res.SLOMs = float64(cfg.SLO) / float64(time.Millisecond)
	b.res.Config = cfg
	b.res.Machine = DescribeMachine(cfg)
	if err := os.WriteFile(filepath.Join(cfg.Out, "machine.txt"), []byte(b.res.Machine.Text()), 0o644); err != nil {
		return err
	}
	bins, err := os.MkdirTemp("", "wsbench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bins)
	var pkgs []string
	if cfg.LoadgenBin == "" {
		pkgs = append(pkgs, "./loadgen")
		cfg.LoadgenBin = filepath.Join(bins, "loadgen")
	}
	if cfg.ServerBin == "" && slices.Contains(cfg.Servers, Ours) {
		pkgs = append(pkgs, "./server")
		cfg.ServerBin = filepath.Join(bins, "server")
	}
	if len(pkgs) > 0 {
		fmt.Fprintf(env.Stderr, "[bench] go build %s into %s\n", strings.Join(pkgs, " "), bins)
		build := exec.CommandContext(ctx, "go", append([]string{"build", "-o", bins + string(filepath.Separator)}, pkgs...)...)
		build.Stdout, build.Stderr = env.Stderr, env.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", strings.Join(pkgs, " "), err)
		}
	}
	b.cfg = cfg
	b.gen = Generator{Bin: cfg.LoadgenBin, CPU: cfg.pin(cfg.LoadgenCPU), Nice: cfg.Nice}
	err = b.run(ctx)
	if err != nil {
		b.res.Aborted = err.Error()
	}
	if werr := b.write(); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// pin returns cpu, or -1 when pinning is off.
func (c Config) pin(cpu int) int {
	if c.NoPin {
		return -1
	}
	return cpu
}

func preflight(cfg Config) error {
	if !cfg.NoPin {
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("taskset not found: install util-linux (apt-get install util-linux) or run with --no-pin")
		}
	}
	for _, s := range cfg.Servers {
		if s != Node {
			continue
		}
		if _, err := exec.LookPath("node"); err != nil {
			return errors.New("node not found: install Node.js ≥ 18, or bench only ours with --servers ours")
		}
		dir := cfg.NodeDir
		if dir == "" {
			dir = filepath.Join("scripts", "node-ws")
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws")); err != nil {
			return fmt.Errorf("the Node ws package is not installed: run %s/install.sh (make node-peer)", dir)
		}
	}
	if _, err := os.Stat(filepath.Join("server")); err != nil {
		return errors.New("run the bench from the wsbench module root (where ./server and ./loadgen are)")
	}
	return nil
}

func (b *bench) spec(name string, log string) target.Spec {
	if cmd, ok := b.cfg.command(name); ok {
		return target.Spec{
			Name: name,
			Argv: func(addr string) []string {
				_, port, _ := strings.Cut(addr, ":")
				return cmd.Argv(port)
			},
			CPU:  b.cfg.pin(b.cfg.ServerCPU),
			Nice: b.cfg.Nice,
			Log:  log,
		}
	}
	if name == Node {
		return target.Spec{
			Name: Node,
			Argv: func(addr string) []string {
				host, port, _ := strings.Cut(addr, ":")
				return []string{"node", filepath.Join(b.cfg.NodeDir, "server.js"), "--port", port, "--host", host}
			},
			CPU:  b.cfg.pin(b.cfg.ServerCPU),
			Nice: b.cfg.Nice,
			Log:  log,
		}
	}
	spec := target.Ours(Ours, b.cfg.ServerBin, log, b.cfg.ServerArgs...)
	spec.Env, spec.CPU, spec.Nice = []string{"GOMAXPROCS=1"}, b.cfg.pin(b.cfg.ServerCPU), b.cfg.Nice
	return spec
}

func (b *bench) run(ctx context.Context) error {
	c := b.cfg
	est := func(l Load) time.Duration {
		return l.Warmup + l.Duration + l.connectTime() + 3500*time.Millisecond // + drain, close, server start
	}
	b.runEst = est
	matrix := make([]Load, 0)
	for _, n := range c.Clients {
		for _, r := range c.Rates {
			for _, s := range c.Sizes {
				matrix = append(matrix, Load{Clients: n, Senders: c.Senders, Rate: r, Size: s, Duration: c.Duration, Warmup: c.Warmup, Ramp: c.Ramp})
			}
		}
	}
	capLoad := Load{Clients: c.CapClients, Rate: c.CapStartRate, Size: c.CapSize, Duration: c.CapDuration, Warmup: c.CapWarmup, Ramp: c.Ramp}
	b.capEst = est(capLoad)
	idleEst := time.Duration(float64(c.IdleConns)/2000*float64(time.Second)) + 4*time.Second
	steps, total := 0, time.Duration(0)
	for _, l := range matrix {
		steps += c.Repeat * len(c.Servers)
		total += time.Duration(c.Repeat*len(c.Servers)) * est(l)
	}
	if c.Pprof && c.CapMaxSteps > 0 && slices.Contains(c.Servers, Ours) {
		steps++
		total += b.capEst
	}
	steps += c.CapMaxSteps * len(c.Servers) * c.CapRepeat
	total += time.Duration(c.CapMaxSteps*len(c.Servers)*c.CapRepeat) * b.capEst
	if c.IdleConns > 0 {
		steps += len(c.Servers)
		total += time.Duration(len(c.Servers)) * idleEst
	}
	floorEst := time.Duration(len(c.FloorRates))*(c.Warmup+c.Duration) + 2*time.Second
	if c.FloorSockets > 0 {
		steps++
		total += floorEst
	}
	b.prog = NewProgress(b.env.Stderr, steps, total)
	fmt.Fprintf(b.env.Stderr, "[bench] %d steps, about %s; results in %s; %s\n", steps, total.Round(time.Second), c.Out, c.SplitText())

	if c.FloorSockets > 0 {
		b.prog.Begin(floorEst, "floor: a bare write(2) of %d bytes to %d loopback sockets at %v writes/s", c.FloorFrame, c.FloorSockets, c.FloorRates)
		fl, err := MeasureFloor(ctx, b.env.Self, c.FloorSockets, c.FloorRates, c.FloorFrame, c.Warmup, c.Duration, c.pin(c.ServerCPU), c.pin(c.LoadgenCPU), c.Nice)
		if err != nil {
			b.prog.End("failed: %v", err)
			return err
		}
		b.res.Floor = fl
		var parts []string
		for _, f := range fl {
			parts = append(parts, fmt.Sprintf("%s writes/s: %.2f µs CPU per write (%d short writes)", si(f.Rate), f.CPUUsPerWrite, f.Short))
		}
		b.prog.End("%s", strings.Join(parts, "; "))
	}

	// Matrix: servers alternate within each cell so slow drift of a shared
	// machine hits both alike.
	for rep := 1; rep <= c.Repeat; rep++ {
		for _, l := range matrix {
			for _, s := range c.Servers {
				name := fmt.Sprintf("c%d-r%s-s%d-%d", l.Clients, fmtRate(l.Rate), l.Size, rep)
				rec, err := b.measure(ctx, "matrix", s, l, filepath.Join("matrix", s, name), est(l))
				if err != nil {
					return err
				}
				rec.Repeat = rep
				b.res.Runs = append(b.res.Runs, rec)
			}
		}
	}
	if c.CapMaxSteps > 0 {
		// Repeated searches alternate servers, as the matrix does, so
		// that a noisy minute hits both alike.
		searches := map[string][]CapacitySearch{}
		for rep := 1; rep <= c.CapRepeat; rep++ {
			for _, s := range c.Servers {
				cs, err := b.capacitySearch(ctx, s, capLoad, rep)
				if err != nil {
					return err
				}
				searches[s] = append(searches[s], cs)
			}
		}
		for _, s := range c.Servers {
			cr := Capacity(s, capLoad.Clients, capLoad.Size, searches[s])
			b.res.Capacity = append(b.res.Capacity, cr)
			fmt.Fprintf(b.env.Stderr, "[bench] %s capacity: %s deliveries/s median of %d searches (range %s–%s), %s µs server CPU per delivery\n",
				s, si(cr.DeliveriesPerS), len(cr.Searches), si(cr.MinDeliveriesPerS), si(cr.MaxDeliveriesPerS), us(cr.CPUUsPerDelivery))
		}
		if cr := capOf(b.res, Ours); c.Pprof && cr != nil {
			l := capLoad
			// Where it failed shows what limits us; else where it passed.
			l.Rate = cr.FailedRate
			if l.Rate == 0 {
				l.Rate = cr.BestRate
			}
			if l.Rate > 0 {
				p := b.profile(ctx, l)
				b.res.Profile = &p
			}
		}
	}
	if c.IdleConns > 0 {
		for _, s := range c.Servers {
			b.prog.Begin(idleEst, "%s: %d idle connections, server memory per connection", s, c.IdleConns)
			srv, err := target.Start(ctx, b.spec(s, filepath.Join(c.Out, "logs", s+"-idle.log")))
			if err != nil {
				return err
			}
			r, err := MeasureIdle(ctx, b.env.Self, srv, c.IdleConns, c.pin(c.LoadgenCPU), c.Nice, s == Ours)
			srv.Stop()
			if err != nil {
				b.prog.End("failed: %v", err)
				r.Note = err.Error()
			} else {
				b.prog.End("%d connections: RSS %s → %s, %.2f KiB per connection%s", r.Conns, kib(r.RSSBeforeKiB), kib(r.RSSAfterKiB), r.KiBPerConn, goroutineNote(r))
			}
			b.res.Idle = append(b.res.Idle, r)
		}
	}
	return ctx.Err()
}

func goroutineNote(r IdleResult) string {
	if r.GoroutinesAfter == 0 {
		return ""
	}
	return fmt.Sprintf(", goroutines %d → %d", r.GoroutinesBefore, r.GoroutinesAfter)
}

// measure starts server s, runs l against it and stops it.
func (b *bench) measure(ctx context.Context, kind, s string, l Load, rel string, est time.Duration) (RunRecord, error) {
	rec := RunRecord{Kind: kind, Server: s, Clients: l.Clients, Senders: l.Senders, Rate: l.Rate, Size: l.Size, OfferedPerS: float64(l.Clients) * l.Rate}
	if rec.Senders == 0 {
		rec.Senders = l.Clients
	}
	b.prog.Begin(est, "%s %s: clients=%d rate=%s/s size=%dB (%s deliveries/s offered)", s, kind, l.Clients, fmtRate(l.Rate), l.Size, si(rec.OfferedPerS))
	if err := ctx.Err(); err != nil {
		return rec, err
	}
	base := filepath.Join(b.cfg.Out, rel)
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return rec, err
	}
	if b.cfg.QuietWait > 0 && !b.cfg.NoPin {
		rec.QuietWaitS = b.waitQuiet(ctx).Seconds()
	}
	b.serverN++
	srv, err := target.Start(ctx, b.spec(s, filepath.Join(b.cfg.Out, "logs", fmt.Sprintf("%s-%03d.log", s, b.serverN))))
	if err != nil {
		return rec, err
	}
	meter := target.StartCPUMeter(srv.Pid())
	l.ServerPID = srv.Pid()
	res, err := b.gen.Run(ctx, srv.URL, l, base)
	usage, uerr := srv.Usage()
	if w, werr := meter.Read(); werr == nil && !b.cfg.NoPin {
		rec.OtherServerCPU = w.Other(b.cfg.ServerCPU)
		rec.OtherLoadgenCPU = max(0, w.BusyOn(b.cfg.LoadgenCPU)-res.CPUSeconds)
	}
	if exited, werr := srv.Exited(); exited {
		rec.Why = fmt.Sprintf("server exited during the run: %v; ", werr)
	}
	srv.Stop()
	if err != nil {
		b.prog.End("failed: %v", err)
		return rec, err
	}
	if uerr == nil {
		rec.ServerUsage.Usage = usage
	}
	rec.ExitCode = res.ExitCode
	rec.LoadgenCPU = res.CPUSeconds
	rec.WallSeconds = res.Wall.Seconds()
	if r := res.Report; r != nil {
		rec.Report = rel + ".json"
		rec.Latency = r.LatencyMs
		rec.DeliveredPerS = r.Throughput.DeliveredPerS
		rec.Expected, rec.Lost = r.Messages.Expected, r.Messages.Lost
		rec.Established = r.Connections.Established
		rec.Overloaded = r.Generator.Overloaded
		rec.MaxSendLagMs = r.Generator.MaxSendLagMs
		if r.Server != nil {
			rec.ServerUsage.CPUUsPerDelivery = r.Server.CPUUsPerDelivery
		}
		rec.InvalidReasons = r.InvalidReasons
	}
	rec.Pass, rec.Why = judge(rec, res.Report, b.cfg.SLO, rec.Why)
	verdict := "pass"
	if !rec.Pass {
		verdict = "FAIL: " + rec.Why
	}
	b.prog.End("p50 %s p99 %s max %s ms, %s/s delivered, lost %d/%d; server peak RSS %s, CPU %.1fs, %s µs/delivery; loadgen CPU %.0f%%, send lag ≤ %s ms; other load %.0f%% — %s",
		ms(rec.Latency.P50), ms(rec.Latency.P99), ms(rec.Latency.Max), si(rec.DeliveredPerS), rec.Lost, rec.Expected,
		kib(rec.ServerUsage.PeakRSSKiB), rec.ServerUsage.CPUSeconds, us(rec.ServerUsage.CPUUsPerDelivery), 100*rec.LoadgenBusy(), ms(rec.MaxSendLagMs), 100*rec.OtherLoad(), verdict)
	return rec, nil
}

// judge decides whether a run met the SLO with no loss and was valid (an
// invalid run measured something other than the load: see
// report.Judge; its reasons are given). A generator that
// fell behind its timetable does not fail a run by itself: latency counts
// from the intended send time, so its lag is already in the p99; the
// capacity table marks such steps instead.
func judge(rec RunRecord, r *report.Report, slo time.Duration, why string) (bool, string) {
	var reasons []string
	if why != "" {
		reasons = append(reasons, strings.TrimSuffix(why, "; "))
	}
	switch {
	case r == nil:
		reasons = append(reasons, fmt.Sprintf("no report (loadgen exit %d)", rec.ExitCode))
	default:
		if !r.Valid {
			why := "marked invalid"
			if len(r.InvalidReasons) > 0 {
				why = strings.Join(r.InvalidReasons, "; ")
			}
			reasons = append(reasons, "run invalid: "+why)
		}
		if r.Connections.Established < int64(rec.Clients) {
			reasons = append(reasons, fmt.Sprintf("%d of %d clients connected", r.Connections.Established, rec.Clients))
		}
		if r.Connections.Dropped > 0 {
			reasons = append(reasons, fmt.Sprintf("%d connections dropped", r.Connections.Dropped))
		}
		if r.Messages.Lost > 0 {
			reasons = append(reasons, fmt.Sprintf("%d deliveries lost", r.Messages.Lost))
		}
		if r.Messages.Expected == 0 {
			reasons = append(reasons, "nothing expected (no broadcast measured)")
		}
		if p99 := time.Duration(r.LatencyMs.P99 * float64(time.Millisecond)); p99 >= slo {
			reasons = append(reasons, fmt.Sprintf("p99 %s ms ≥ SLO %s", ms(r.LatencyMs.P99), slo))
		}
	}
	return len(reasons) == 0, strings.Join(reasons, "; ")
}

// us renders microseconds with 3 significant digits ("–" for none).
func us(v float64) string {
	if v <= 0 {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func fmtRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

func ms(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// si renders a count with k/M suffixes.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

func kib(v int64) string {
	if v >= 1024 {
		return strconv.FormatFloat(float64(v)/1024, 'f', 1, 64) + " MiB"
	}
	return strconv.FormatInt(v, 10) + " KiB"
}

// connectTime estimates how long the loadgen takes to open l's clients at
// its ramp (the loadgen's default ramp is 1000/s).
func (l Load) connectTime() time.Duration {
	ramp := 1000.0
	if l.Ramp > 0 {
		ramp = l.Ramp
	}
	return time.Duration(float64(l.Clients) / ramp * float64(time.Second))
}

// waitQuiet samples both CPUs for a second at a time until other processes
// use less than QuietBelow of each, or QuietWait has passed. Nothing of the
// bench runs meanwhile, so all the load it sees is foreign.
func (b *bench) waitQuiet(ctx context.Context) time.Duration {
	start := time.Now()
	for time.Since(start) < b.cfg.QuietWait && ctx.Err() == nil {
		before, err := target.ReadCPUTimes()
		if err != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		after, err := target.ReadCPUTimes()
		if err != nil {
			break
		}
		if before.Busy(after, b.cfg.ServerCPU) < b.cfg.QuietBelow && before.Busy(after, b.cfg.LoadgenCPU) < b.cfg.QuietBelow {
			break
		}
	}
	return time.Since(start)
}
