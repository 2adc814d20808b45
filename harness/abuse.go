package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/harness/abuse"
	"github.com/wsbench/wsbench/harness/target"
)

// abuseMain is `harness abuse`: the hostile-input and fault scenarios of
// harness/abuse against a WebSocket chat-room server on a loopback address
// (or one it starts with --server-bin), writing results/abuse-<date>.json
// and .md. The slowloris scenario starts `harness abuse hold` as its
// attacker process.
func abuseMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "hold" {
		return hold(ctx, args[1:], stdout, stderr)
	}
	cfg := abuse.DefaultConfig()
	if self, err := os.Executable(); err == nil {
		cfg.HoldCommand = []string{self, "abuse", "hold"}
	}
	outDir := "results"
	pl := abuse.Placement{ServerCPU: 0, AttackerCPU: 1}
	var serverArgs string
	fs := abuseFlags(&cfg, &pl, &serverArgs, &outDir, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "abuse: unexpected arguments %q; all settings are flags (see --help)\n", fs.Args())
		return 2
	}
	if pl.ServerBin != "" {
		if cfg.URL != "" || cfg.ServerPID != 0 {
			fmt.Fprintln(stderr, "abuse: --server-bin starts the server; leave out --url and --server-pid")
			return 2
		}
		pl.ServerArgs = strings.Fields(serverArgs)
		cfg.URL = "ws://127.0.0.1:1/" // validated now, set when the server runs
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "abuse: %v\n", err)
		return 2
	}
	if _, err := abuse.NewTarget(cfg.URL); err != nil {
		fmt.Fprintf(stderr, "abuse: %v\n", err)
		return 2
	}
	placement := "not pinned (--url: the server runs wherever it was started)"
	died := func() bool { return false }
	if pl.ServerBin != "" {
		srv, code := startPlaced(ctx, pl, &cfg, stderr)
		if srv == nil {
			return code
		}
		defer srv.Stop()
		placement = pl.Describe()
		died = func() bool {
			exited, err := srv.Exited()
			if exited {
				fmt.Fprintf(stderr, "abuse: the server process died during the run: %v\n", err)
			}
			return exited
		}
	}
	rep, err := abuse.Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "abuse: %v\n", err)
		return 3
	}
	rep.Placement = placement
	if died() {
		rep.Pass = false
	}
	rep.WriteTable(stdout)
	if outDir != "" {
		if err := write(outDir, rep, stderr); err != nil {
			fmt.Fprintf(stderr, "abuse: %v\n", err)
			return 1
		}
	}
	if !rep.Pass {
		return 1
	}
	return 0
}

// startPlaced pins this program to pl.AttackerCPU (re-executing it) and
// starts pl.ServerBin on pl.ServerCPU, pointing cfg at it. On failure it
// returns nil and the exit code: 2 for a placement that cannot work, 3
// when the server did not start.
func startPlaced(ctx context.Context, pl abuse.Placement, cfg *abuse.Config, stderr io.Writer) (*target.Server, int) {
	if err := pl.Validate(); err != nil {
		fmt.Fprintf(stderr, "abuse: %v\n", err)
		return nil, 2
	}
	if err := pl.PinSelf(); err != nil {
		fmt.Fprintf(stderr, "abuse: pin to CPU %d: %v\n", pl.AttackerCPU, err)
		return nil, 3
	}
	srv, err := pl.StartServer(ctx, cfg.WriteTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "abuse: %v\n", err)
		return nil, 3
	}
	cfg.URL, cfg.ServerPID = srv.URL, srv.Pid()
	if !pl.NoPin {
		cfg.ServerCPU, cfg.ProbeCPU = pl.ServerCPU, pl.AttackerCPU
	}
	fmt.Fprintf(stderr, "abuse: started %s (pid %d) at %s; %s\n", pl.ServerBin, srv.Pid(), srv.URL, pl.Describe())
	return srv, 0
}

// abuseFlags binds the flags of `harness abuse` to cfg, pl, serverArgs
// (--server-args, split later) and outDir.
func abuseFlags(cfg *abuse.Config, pl *abuse.Placement, serverArgs, outDir *string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("abuse", pflag.ContinueOnError)
	fs.StringVar(&cfg.URL, "url", "", "ws:// URL of the server under test (loopback only)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "pid of the server process, to sample its RSS from /proc (0: unknown, no RSS check)")
	fs.StringSliceVar(&cfg.Scenarios, "scenarios", nil, "scenarios to run, comma separated (default all): "+strings.Join(abuse.ScenarioNames(), ","))
	fs.IntVar(&cfg.Conns, "conns", cfg.Conns, "handshake-hold: TCP connections that never finish the handshake")
	fs.IntVar(&cfg.SlowConns, "slow-conns", cfg.SlowConns, "slow-readers: upgraded connections that never read")
	fs.DurationVar(&cfg.Window, "window", cfg.Window, "length of the time-boxed scenarios (floods, churn, slow rooms)")
	fs.DurationVar(&cfg.CleanDuration, "clean", cfg.CleanDuration, "length of the clean probe run measured first")
	fs.Float64Var(&cfg.MaxRatio, "max-ratio", cfg.MaxRatio, "fail when the probe's p99 under abuse exceeds this × the clean p99 …")
	fs.DurationVar(&cfg.P99Floor, "p99-floor", cfg.P99Floor, "… and also exceeds this (noise floor for sub-millisecond clean runs)")
	fs.Int64Var(&cfg.MaxRSS, "max-rss", cfg.MaxRSS, "fail when the server's peak VmRSS in a scenario exceeds this many bytes (needs --server-pid)")
	fs.Int64Var(&cfg.MaxCut, "max-cut", cfg.MaxCut, "fail when the 1 GiB message was not cut before this many bytes were written")
	fs.IntVar(&cfg.PingRate, "ping-rate", cfg.PingRate, "ping-flood: pings per second per flooding connection (0: as fast as the socket takes them)")
	fs.IntVar(&cfg.StormClients, "storm-clients", cfg.StormClients, "reconnect-storm: clients reconnecting after the restart of an in-process server")
	fs.IntVar(&cfg.PartialConns, "partial-conns", cfg.PartialConns, "partial-messages: connections holding an unfinished 64 KiB frame")
	fs.IntVar(&cfg.SlowlorisConns, "slowloris-conns", cfg.SlowlorisConns, "slowloris: stalled connections held, each re-opened as soon as the server closes it")
	fs.DurationVar(&cfg.NewcomerMaxP99, "newcomer-max-p99", cfg.NewcomerMaxP99, "slowloris: fail when the newcomers' handshake p99 exceeds this")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", cfg.WriteTimeout, "the server's --write-timeout: slow-readers and slow rooms wait this long plus slack for non-readers to be closed (with --server-bin, passed to the server)")
	fs.StringVar(&pl.ServerBin, "server-bin", "", "start this server binary (ours) on a free loopback port instead of --url, pinned to --server-cpu, and stop it afterwards")
	fs.StringVar(serverArgs, "server-args", "", "extra flags for --server-bin, space separated, e.g. '--max-conns 10100 --max-pending 10500'")
	fs.StringVar(&pl.ServerLog, "server-log", "", "file for --server-bin's output (default: discarded)")
	fs.IntVar(&pl.ServerCPU, "server-cpu", pl.ServerCPU, "with --server-bin: the server's CPU (taskset, GOMAXPROCS=1)")
	fs.IntVar(&pl.AttackerCPU, "attacker-cpu", pl.AttackerCPU, "with --server-bin: this program's CPU (attacker and probe), so the server has a core to itself")
	fs.BoolVar(&pl.NoPin, "no-pin", false, "with --server-bin: do not pin (for machines without taskset or with one core)")
	fs.IntVar(&pl.Nice, "nice", 0, "with --server-bin: niceness of the server and this program (negative runs them ahead of other work; needs privileges)")
	fs.StringVar(outDir, "out-dir", *outDir, "directory for abuse-<date>.json and .md (empty: write none)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: harness abuse --url ws://127.0.0.1:PORT/ [flags]\n\nHostile-input and fault scenarios against a chat-room server on this machine; exits 1 when one fails.\n\nFlags:\n%s\nExamples:\n  make abuse                             # starts our server on a free port, runs everything\n  go run ./harness abuse --server-bin bin/server --scenarios slowloris   # start and pin the server here\n  go run ./harness abuse --url ws://127.0.0.1:8181/ --server-pid $(pgrep -n server)\n  go run ./harness abuse --url ws://127.0.0.1:8181/ --scenarios gigabyte,invalid-utf8 --out-dir ''\n", fs.FlagUsages())
	}
	return fs
}

// hold is the slowloris attacker in a process of its own (started by the
// slowloris scenario): it holds --conns stalled connections, re-opening
// each one the server closes, prints "ready N" once they are open, and
// stops when its stdin closes, on a signal, or after --max-duration; it
// then prints its counts as one JSON line.
func hold(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("abuse hold", pflag.ContinueOnError)
	url := fs.String("url", "", "ws:// URL of the server (loopback only)")
	conns := fs.Int("conns", abuse.DefaultSlowloris, "stalled connections to hold (1-15000)")
	maxDur := fs.Duration("max-duration", 2*time.Minute, "stop after this long even if stdin stays open")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: harness abuse hold --url ws://127.0.0.1:PORT/ [flags]\n\nThe slowloris scenario's attacker, run by it as a separate process. Holds stalled connections until stdin closes.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *conns < 1 || *conns > 15000 || *maxDur <= 0 {
		fmt.Fprintln(stderr, "abuse hold: --conns must be 1-15000 and --max-duration positive")
		return 2
	}
	t, err := abuse.NewTarget(*url)
	if err != nil {
		fmt.Fprintf(stderr, "abuse hold: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *maxDur)
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	hs := abuse.HoldStalled(ctx, t, *conns, func(held int) { fmt.Fprintf(stdout, "ready %d\n", held) })
	b, _ := json.Marshal(hs)
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

func write(dir string, rep *abuse.Report, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(dir, "abuse-"+rep.Started.Format("2006-01-02T150405Z"))
	for _, f := range []struct {
		ext string
		fn  func(*os.File) error
	}{
		{".json", func(w *os.File) error { return rep.WriteJSON(w) }},
		{".md", func(w *os.File) error { return rep.WriteMarkdown(w) }},
	} {
		w, err := os.Create(base + f.ext)
		if err != nil {
			return err
		}
		err = f.fn(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", base+f.ext, err)
		}
		fmt.Fprintf(stderr, "wrote %s\n", base+f.ext)
	}
	return nil
}
