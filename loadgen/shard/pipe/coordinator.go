// Package procs runs one load over several worker processes of this
// machine, each with its own file-descriptor limit, and merges their
// results into one report.
//
// The coordinator starts N workers (the loadgen binary re-executed with the
// hidden `worker` subcommand) and talks to each over its stdin/stdout, one
// line per message:
//
//	coordinator → worker   {"config": …}            the worker's share (JSON)
//	worker → coordinator   ready <established>      after its ramp
//	coordinator → worker   start <unix ns>          when slot 0 is due, for all
//	worker → coordinator   {"report": …, …}         its result (JSON)
//
// All workers share one run id and one timetable: worker w owns a slice of
// the global sender ids, so every receiver, in any worker, counts every
// broadcast. Expected deliveries and fan-out times are therefore recomputed
// from the workers' raw data, not summed.
package pipe

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
)

// StartDelay is how long after the last worker's ramp slot 0 is due.
const StartDelay = 200 * time.Millisecond

// Spec is the part of run.Config a worker receives.
type Spec struct {
	URL            string        `json:"url"`
	Clients        int           `json:"clients"`
	Senders        int           `json:"senders"`
	Rate           float64       `json:"rate"`
	Size           int           `json:"size"`
	Duration       time.Duration `json:"duration"`
	Warmup         time.Duration `json:"warmup"`
	Drain          time.Duration `json:"drain"`
	Ramp           float64       `json:"ramp"`
	ConnectTimeout time.Duration `json:"connect_timeout"`
	MaxSendLag     time.Duration `json:"max_send_lag"`
	UserClock      bool          `json:"user_clock,omitempty"`
	SourceIPs      []string      `json:"source_ips,omitempty"`
	RunID          uint64        `json:"run_id"`
	SenderBase     int           `json:"sender_base"`
	ClientBase     int           `json:"client_base"`
	TotalSenders   int           `json:"total_senders"`
	Progress       bool          `json:"progress"` // its own progress lines on stderr
	Ticks          bool          `json:"ticks"`    // per-second ticks on stderr, merged by the coordinator
}

// WorkerResult is what a worker sends back.
type WorkerResult struct {
	Report *report.Report `json:"report"`
	Error  string         `json:"error,omitempty"`
	// Window: slots Lo…Hi of the timetable starting at StartNs.
	StartNs int64  `json:"start_ns,omitempty"`
	Lo      uint64 `json:"lo,omitempty"`
	Hi      uint64 `json:"hi,omitempty"`
	// LastReceipts is base64 of little-endian int64 Unix ns per slot.
	LastReceipts string `json:"last_receipts,omitempty"`
}

// Split divides n into parts shares differing by at most one, larger first.
func Split(n, parts int) []int {
	out := make([]int, parts)
	for i := range out {
		out[i] = n / parts
		if i < n%parts {
			out[i]++
		}
	}
	return out
}

// Run runs cfg over procs worker processes made by command (each must run
// WorkerMain) and returns the merged report. Progress lines of worker 0
// go to cfg.Progress, every worker's warnings to cfg.Log (or
// cfg.Progress when Log is nil).
func Run(ctx context.Context, cfg run.Config, procs int, command func() *exec.Cmd) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if procs < 1 || procs > cfg.Clients {
		return nil, fmt.Errorf("%w: --procs %d: want 1 up to --clients %d", run.ErrUsage, procs, cfg.Clients)
	}
	senders := cfg.Senders
	if senders == 0 {
		senders = cfg.Clients
	}
	var runID uint64
	for runID == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		runID = binary.LittleEndian.Uint64(b[:])
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
	clients, sends := Split(cfg.Clients, procs), Split(senders, procs)
	var ticks *progressMerger
	if cfg.Progress != nil || cfg.IntervalLog != nil {
		ticks = newProgressMerger(procs, cfg.Clients, cfg.Progress, cfg.IntervalLog)
	}
	workers := make([]*worker, procs)
	cb, sb := 0, 0
	for i := range workers {
		spec := Spec{
			URL: cfg.URL, Clients: clients[i], Senders: sends[i], Rate: cfg.Rate, Size: cfg.Size,
			Duration: cfg.Duration, Warmup: cfg.Warmup, Drain: cfg.Drain, Ramp: cfg.Ramp / float64(procs),
			ConnectTimeout: cfg.ConnectTimeout, MaxSendLag: cfg.MaxSendLag, UserClock: cfg.UserClock,
			RunID: runID, SenderBase: sb, ClientBase: cb, TotalSenders: senders, Ticks: ticks != nil,
		}
		if sends[i] == 0 {
			// A worker without senders must not default to "all clients".
			spec.Senders = -1
		}
		for _, ip := range cfg.SourceIPs {
			spec.SourceIPs = append(spec.SourceIPs, ip.String())
		}
		cb += clients[i]
		sb += sends[i]
		w, err := startWorker(ctx, command(), spec, logw, ticks, i)
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
	results := make([]*WorkerResult, procs)
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
	return combine(cfg, procs, senders, results, warnings, errors.Join(errs...))
}

// combine merges the workers' results.
func combine(cfg run.Config, procs, senders int, results []*WorkerResult, warnings []string, werr error) (*report.Report, error) {
	rep, err := MergeResults(results, nil, func(i int) string { return fmt.Sprintf("worker %d", i) }, cfg.Rate, senders)
	if errors.Is(err, ErrNoResults) && werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, err
	}
	rep.Config.Procs = procs
	rep.Config.Ramp = cfg.Ramp
	rep.Config.DurationS = cfg.Duration.Seconds()
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

func startWorker(ctx context.Context, cmd *exec.Cmd, spec Spec, progress io.Writer, ticks *progressMerger, id int) (*worker, error) {
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

func (w *worker) result() (*WorkerResult, error) {
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
	var res WorkerResult
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

// parseIPs turns a Spec's addresses back into IPs.
func parseIPs(ss []string) []net.IP {
	var out []net.IP
	for _, s := range ss {
		if ip := net.ParseIP(s); ip != nil {
			out = append(out, ip)
		}
	}
	return out
}
