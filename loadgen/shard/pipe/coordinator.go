// Package pipe is the shard transport for worker processes of this
// machine (`loadgen --procs N`), each with its own file-descriptor limit.
//
// The coordinator starts N workers (the loadgen binary re-executed with
// the hidden `worker` subcommand) and speaks loadgen/shard's four messages
// with each over its stdin/stdout, one line per message:
//
//	coordinator → worker   {"url": …}               its shard.Spec (JSON)
//	worker → coordinator   ready <established>      after its ramp
//	coordinator → worker   start <unix ns> | abort  when slot 0 is due, for all
//	worker → coordinator   {"report": …, …}         its shard.Result (JSON)
//
// A worker's stderr carries its warnings, passed on with a "[worker N]"
// prefix, and its per-second ticks ("tick {…}"), which the coordinator
// joins into one progress line for the whole run (progress.go). Ctrl-C is
// forwarded: a worker ends early and still reports.
package pipe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard"
)

// StartDelay is how long after the last worker's ramp slot 0 is due.
const StartDelay = 200 * time.Millisecond

// Run runs cfg over procs worker processes made by command (each must run
// WorkerMain) and returns the merged report. The merged progress line
// goes to cfg.Progress, every worker's warnings to cfg.Log (or
// cfg.Progress when Log is nil).
func Run(ctx context.Context, cfg run.Config, procs int, command func() *exec.Cmd) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if procs < 1 || procs > cfg.Clients {
		return nil, fmt.Errorf("%w: --procs %d: want 1 up to --clients %d", run.ErrUsage, procs, cfg.Clients)
	}
	specs, _, err := shard.Plan{Parts: procs}.Specs(cfg)
	if err != nil {
		return nil, err
	}
	logw := cfg.Log
	if logw == nil {
		logw = cfg.Progress
	}
	var warnings []string
	if _, w := client.Capacity(cfg.Clients, 1<<62, cfg.SourceIPs); len(w) > 0 {
		warnings = append(warnings, w...)
		for _, x := range w {
			logf(logw, "warning: %s", x)
		}
	}
	var ticks *progressMerger
	if cfg.Progress != nil || cfg.IntervalLog != nil {
		ticks = newProgressMerger(procs, cfg.Clients, cfg.Progress, cfg.IntervalLog)
	}
	workers := make([]*worker, procs)
	for i := range workers {
		specs[i].Ticks = ticks != nil
		w, err := startWorker(ctx, command(), specs[i], logw, ticks, i)
		if err != nil {
			for _, s := range workers[:i] {
				s.kill()
			}
			return nil, err
		}
		workers[i] = w
	}
	// Gate: wait for every worker's ramp, then start them together.
	total := 0
	for i, w := range workers {
		n, err := w.ready()
		if err != nil {
			logf(logw, "worker %d: %v", i, err)
		}
		total += n
	}
	startAt := time.Now().Add(StartDelay)
	for _, w := range workers {
		w.start(startAt, total > 0)
	}
	results := make([]*shard.Result, procs)
	var errs []error
	for i, w := range workers {
		res, err := w.result()
		if err != nil {
			errs = append(errs, fmt.Errorf("worker %d: %w", i, err))
			continue
		}
		results[i] = res
	}
	if ticks != nil {
		ticks.flush() // every worker's stderr is read to its end by now
	}
	return combine(cfg, procs, results, warnings, errors.Join(errs...))
}

// combine merges the workers' results.
func combine(cfg run.Config, procs int, results []*shard.Result, warnings []string, werr error) (*report.Report, error) {
	rep, err := shard.Merge(cfg, results, nil, func(i int) string { return fmt.Sprintf("worker %d", i) })
	if errors.Is(err, shard.ErrNoResults) && werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, err
	}
	rep.Config.Procs = procs
	rep.Generator.Warnings = append(warnings, rep.Generator.Warnings...)
	if werr != nil {
		rep.Generator.Warnings = append(rep.Generator.Warnings, werr.Error())
	}
	if rep.Connections.Established == 0 {
		return rep, run.ErrNoConnection
	}
	return rep, nil
}

type worker struct {
	id     int
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	errs   sync.WaitGroup
	failed bool
	stop   func() bool
}

func startWorker(ctx context.Context, cmd *exec.Cmd, spec shard.Spec, progress io.Writer, ticks *progressMerger, id int) (*worker, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %d: %w", id, err)
	}
	w := &worker{id: id, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	w.errs.Add(1)
	go func() {
		defer w.errs.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if ticks != nil && ticks.line(id, sc.Text()) {
				continue
			}
			logf(progress, "[worker %d] %s", id, sc.Text())
		}
	}()
	// Forward an interrupt: the worker ends early and still reports.
	w.stop = context.AfterFunc(ctx, func() { _ = cmd.Process.Signal(interruptSignal) })
	b, _ := json.Marshal(spec)
	if _, err := fmt.Fprintf(in, "%s\n", b); err != nil {
		w.kill()
		return nil, fmt.Errorf("worker %d: %w", id, err)
	}
	return w, nil
}

func (w *worker) ready() (int, error) {
	line, err := w.out.ReadString('\n')
	if err != nil {
		w.failed = true
		return 0, fmt.Errorf("no ready line: %w", err)
	}
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "ready" {
		w.failed = true
		return 0, fmt.Errorf("unexpected line %q", line)
	}
	return strconv.Atoi(f[1])
}

func (w *worker) start(at time.Time, ok bool) {
	if w.failed {
		w.kill()
		return
	}
	if !ok {
		fmt.Fprintln(w.in, "abort")
		return
	}
	fmt.Fprintf(w.in, "start %d\n", at.UnixNano())
}

func (w *worker) result() (*shard.Result, error) {
	if w.failed {
		return nil, errors.New("failed before its start")
	}
	line, err := w.out.ReadBytes('\n')
	w.in.Close()
	w.errs.Wait()
	_ = w.cmd.Wait()
	w.stop()
	if err != nil && len(line) == 0 {
		return nil, fmt.Errorf("no result: %w", err)
	}
	var res shard.Result
	if err := json.Unmarshal(line, &res); err != nil {
		return nil, fmt.Errorf("bad result: %w", err)
	}
	if res.Report == nil {
		return nil, fmt.Errorf("no report: %s", res.Error)
	}
	return &res, nil
}

func (w *worker) kill() {
	_ = w.cmd.Process.Kill()
	w.in.Close()
	w.errs.Wait()
	_ = w.cmd.Wait()
	if w.stop != nil {
		w.stop()
	}
}

func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", a...)
	}
}
