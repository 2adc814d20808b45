package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard/pipe"
)

const runUsage = `loadgen: WebSocket broadcast load generator (open model, no coordinated omission)

usage: loadgen [run] --url ws://HOST:PORT/ROOM [flags]
       loadgen merge REPORT.json… -o OUT.json    merge reports of simultaneous runs
       loadgen compare OLD NEW                    compare reports (exit 1 on regression)
       loadgen plot REPORT.json… -o FILE.png      latency percentile curves
       loadgen agent --nats nats://HOST:PORT     wait for runs handed out by --agents

Opens --clients connections (--ramp per second), then --senders of them
broadcast --rate messages per second in total on a fixed timetable; every
client receives everything and records latency from each message's intended
send time. Phases: ramp, warmup (not recorded), --duration measured, drain,
close (1000). Ctrl-C ends early and still reports (marked interrupted).

A run is invalid (exit 4, "valid": false in the report, reasons on stderr)
when it did not measure the load it was asked for: broadcasts sent but none
delivered, foreign messages outnumbering deliveries, more connections
dropped than --max-drops or failing than --max-connect-fail.

Exit status: 0 ok, 1 threshold exceeded, 2 usage error, 3 no connection,
4 run invalid, 130 interrupted.

Examples:
  loadgen --url ws://127.0.0.1:8181/ --clients 1000 --rate 200 --duration 30s --out run.json
  loadgen --url ws://127.0.0.1:8181/ --clients 19000 --senders 10 --rate 100 --max-p99 50ms --max-loss 0.1%
  loadgen --url ws://127.0.0.1:8181/ --clients 50000 --procs 3 --source-ips 127.0.0.2-127.0.0.4

Other people's chat servers (loadgen/README.md has one example per style):
  a server that relays to everyone but the sender:    --expect others
  a server that wraps messages in JSON:                --payload text
  a JSON protocol with a join message and rooms:
    --template '{"type":"msg","text":"{{token}}"}' --on-open '{"type":"join","room":"r{{room}}"}' --await '"joined"' --rooms 20
  a server that drops quiet clients:                   --keepalive ping --keepalive-every 4s --ignore '^pong$'
  wss:// with a self-signed certificate:               --insecure, or --ca cert.pem
  permessage-deflate:                                  --deflate (the report records what was negotiated)

Flags:
`

// runFlags binds the run flags to cfg and returns the flag set.
type runFlags struct {
	cfg        run.Config
	sources    client.SourceIPs
	procs      int
	out, hgrm  string
	interval   string
	quiet      bool
	thresholds run.Thresholds
	loss       Loss
	maxDrops   Loss
	maxFail    Loss
	agents     *agentFlags
	urlCount   int // times --url was given
}

func newRunFlags() (*pflag.FlagSet, *runFlags) {
	f := &runFlags{}
	fs := newFlags("loadgen")
	fs.SortFlags = false
	c := &f.cfg
	fs.Var(urlValue{&c.URL, &f.urlCount}, "url", "WebSocket URL of the room to load: ws://host:port/path or wss://…; {{room}} and {{client}} are filled in per client")
	fs.IntVar(&c.Clients, "clients", run.DefaultClients, "connections to open (every one receives everything)")
	fs.IntVar(&c.Senders, "senders", 0, "how many of the clients publish (0 = all)")
	fs.Float64Var(&c.Rate, "rate", run.DefaultRate, "broadcasts per second, all senders together, on a fixed timetable")
	fs.IntVar(&c.Size, "size", run.DefaultSize, "message size in bytes: binary at least the 32-byte header; text padded up to this by {{pad}} (never cut below the template and token)")
	fs.DurationVar(&c.Duration, "duration", run.DefaultDuration, "measured window")
	fs.DurationVar(&c.Warmup, "warmup", run.DefaultWarmup, "broadcasting before the measured window, not recorded")
	fs.DurationVar(&c.Drain, "drain", run.DefaultDrain, "after the window, wait at most this long for in-flight messages")
	fs.Float64Var(&c.Ramp, "ramp", run.DefaultRamp, "new connections per second (0 = as fast as possible)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", run.DefaultConnectTimeout, "TCP connect + WebSocket handshake timeout per connection")
	fs.DurationVar(&c.MaxSendLag, "max-send-lag", run.DefaultMaxSendLag, "a send later than this behind its timetable marks the report overloaded")
	fs.Var(&f.sources, "source-ips", "local addresses to spread connections over: list, range a-b or CIDR (e.g. 127.0.0.2-127.0.0.9)")
	addWorldFlags(fs, &c.World)
	fs.IntVar(&f.procs, "procs", 1, "worker processes (each with its own fd limit) sharing the load; results are merged")
	fs.StringVar(&f.out, "out", "", "write the JSON report here")
	fs.StringVar(&f.hgrm, "hgrm", "", "write the latency HdrHistogram percentile distribution (ms) here")
	fs.StringVar(&f.interval, "interval-log", "", "write one JSON line per second (connected, sent, delivered, p50/p99/max) here")
	fs.DurationVar(&f.thresholds.MaxP99, "max-p99", 0, "exit 1 when the delivery latency p99 exceeds this (0 = off)")
	fs.Var(&f.loss, "max-loss", "exit 1 when lost/expected exceeds this: a fraction (0.001) or a percentage (0.1%); receivers the server dropped count as owed every broadcast")
	f.maxDrops = Loss{Fraction: report.DefaultMaxDrops, Given: true}
	f.maxFail = Loss{Fraction: report.DefaultMaxConnectFail, Given: true}
	fs.Var(&f.maxDrops, "max-drops", "the run is invalid (exit 4) when more than this share of established connections is dropped by the server before the close phase")
	fs.Var(&f.maxFail, "max-connect-fail", "the run is invalid (exit 4) when more than this share of connection attempts fails")
	fs.Bool("rx-timestamps", true, "time receipts by the kernel's receive stamps (SO_TIMESTAMPING, Linux, not TLS) instead of when the generator read the message; off: user-space clock")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "process id of the server on this machine: report its CPU µs per delivery over the measured window (Linux /proc)")
	f.agents = addAgentFlags(fs)
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines on stderr (warnings are still printed)")
	return fs, f
}

// runCmd is `loadgen [run] --url … [flags]`: one load, in this process,
// in worker processes (--procs) or on agents (--agents).
func runCmd() *command {
	fs, f := newRunFlags()
	c := &command{flags: fs, usage: runUsage, hint: "Run loadgen --help for the flags."}
	c.run = func(ctx context.Context, args []string, io stdio) int {
		if len(args) > 0 {
			fmt.Fprintf(io.err, "loadgen: unexpected argument %q; subcommands are run, merge, compare, plot\n", args[0])
			return ExitUsage
		}
		cfg, err := f.config(fs, io.err)
		if err != nil {
			fmt.Fprintf(io.err, "loadgen: %v\n", err)
			return ExitUsage
		}
		if f.interval != "" {
			file, err := os.Create(f.interval)
			if err != nil {
				fmt.Fprintf(io.err, "loadgen: --interval-log: %v\n", err)
				return ExitUsage
			}
			defer file.Close()
			cfg.IntervalLog = file
		}
		rep, err := f.measure(ctx, cfg, io.err)
		switch {
		case errors.Is(err, run.ErrUsage):
			fmt.Fprintf(io.err, "loadgen: %v\n", err)
			return ExitUsage
		case rep == nil:
			fmt.Fprintf(io.err, "loadgen: %v\n", err)
			return ExitThreshold
		}
		// Judged here, with this command's limits and interrupt, so that runs
		// split over processes or agents are judged as one.
		rep.Config.MaxDrops, rep.Config.MaxConnectFail = cfg.MaxDrops, cfg.MaxConnectFail
		rep.Interrupted = rep.Interrupted || ctx.Err() != nil
		rep.Judge()
		return finish(rep, err, f, io.out, io.err)
	}
	return c
}

// config turns the parsed flags into the run's configuration and checks
// what only the command line can get wrong (a repeated --url, --procs
// with --agents, …); the errors say what to change.
func (f *runFlags) config(fs *pflag.FlagSet, stderr io.Writer) (run.Config, error) {
	cfg := f.cfg
	cfg.SourceIPs = f.sources
	cfg.MaxDrops, cfg.MaxConnectFail = f.maxDrops.Fraction, f.maxFail.Fraction
	if rx, _ := fs.GetBool("rx-timestamps"); !rx {
		cfg.UserClock = true
	}
	f.thresholds.MaxLoss, f.thresholds.LossSet = f.loss.Fraction, f.loss.Given
	cfg.Log = stderr // warnings even with --quiet
	if !f.quiet {
		cfg.Progress = stderr
	}
	if err := worldFromFlags(fs, &cfg, f.urlCount, f.procs, f.agents.Enabled()); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	switch {
	case f.procs < 1 || f.procs > cfg.Clients || f.procs > 64:
		return cfg, fmt.Errorf("--procs %d: want 1 up to min(--clients, 64)", f.procs)
	case f.agents.Validate(cfg) != nil:
		return cfg, f.agents.Validate(cfg)
	case f.agents.Enabled() && f.procs > 1:
		return cfg, errors.New("use either --procs (this machine) or --agents (agents elsewhere), not both; run each agent with its own share instead")
	case cfg.ServerPID != 0 && (f.procs > 1 || f.agents.Enabled()):
		return cfg, errors.New("--server-pid works with one loadgen process; drop --procs/--agents, or measure the server's CPU outside")
	case cfg.ServerPID < 0:
		return cfg, fmt.Errorf("--server-pid %d: want the server's process id", cfg.ServerPID)
	}
	return cfg, nil
}

// measure runs cfg where the flags say: on agents, over worker
// processes, or in this process.
func (f *runFlags) measure(ctx context.Context, cfg run.Config, stderr io.Writer) (*report.Report, error) {
	switch {
	case f.agents.Enabled():
		return f.agents.Run(ctx, cfg, stderr)
	case f.procs > 1:
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("%w: --procs needs its own executable: %v", run.ErrUsage, err)
		}
		return pipe.Run(ctx, cfg, f.procs, func() *exec.Cmd { return exec.Command(exe, Worker) })
	default:
		return run.Run(ctx, cfg)
	}
}

// finish writes the outputs of a run and returns its exit code: 130 when
// interrupted, 3 when nothing connected, 4 when invalid, 1 when a
// threshold failed. A run that never connected prints no table (it would
// be a table of zeros), only the error and what to check.
func finish(rep *report.Report, err error, f *runFlags, stdout, stderr io.Writer) int {
	code := ExitOK
	switch {
	case errors.Is(err, run.ErrNoConnection):
		fmt.Fprintf(stderr, "loadgen: %v\nloadgen: nothing was measured; check --url %s and that the server is running and accepts WebSocket upgrades there\n", err, rep.URL)
		code = ExitNoConnection
	case err != nil:
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		code = ExitThreshold
	}
	if code != ExitNoConnection {
		if werr := rep.WriteTable(stdout); werr != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", werr)
			return ExitThreshold
		}
	}
	save := rep.WriteFile
	if o := f.agents.Outcome; o != nil {
		save = o.WriteFile // with the agents' clocks (generator.agents)
	}
	if werr := writeFiles(rep, save, f.out, f.hgrm); werr != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", werr)
		return ExitThreshold
	}
	switch {
	case rep.Interrupted:
		fmt.Fprintf(stderr, "loadgen: interrupted; the report covers %.2fs of the %gs window and is marked interrupted and invalid\n", rep.MeasuredS, rep.Config.DurationS)
		return ExitInterrupted
	case code != ExitOK:
		return code
	case !rep.Valid:
		for _, why := range rep.InvalidReasons {
			fmt.Fprintf(stderr, "loadgen: run invalid: %s\n", why)
		}
		return ExitInvalid
	}
	if failed := f.thresholds.Check(rep); len(failed) > 0 {
		for _, s := range failed {
			fmt.Fprintf(stderr, "loadgen: threshold exceeded: %s\n", s)
		}
		return ExitThreshold
	}
	return ExitOK
}

// writeOutputs prints the table and writes the report and hgrm files.
func writeOutputs(rep *report.Report, out, hgrm string, stdout io.Writer) error {
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	return writeFiles(rep, rep.WriteFile, out, hgrm)
}

// writeFiles writes the report (with save) and hgrm files that were asked
// for.
func writeFiles(rep *report.Report, save func(path string) error, out, hgrm string) error {
	if out != "" {
		if err := save(out); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if hgrm != "" {
		h, err := report.DecodeHistogram(rep.Histograms.Latency)
		if err != nil {
			return err
		}
		file, err := os.Create(hgrm)
		if err != nil {
			return fmt.Errorf("--hgrm: %w", err)
		}
		if err := report.WriteHgrm(file, h); err != nil {
			file.Close()
			return fmt.Errorf("--hgrm: %w", err)
		}
		if err := file.Close(); err != nil {
			return fmt.Errorf("--hgrm: %w", err)
		}
	}
	return nil
}
