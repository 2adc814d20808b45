package run

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsbench/wsbench/loadgen/payload"
	"github.com/wsbench/wsbench/loadgen/receive"
	"github.com/wsbench/wsbench/loadgen/report"
)

func encode(buf []byte, run uint64, sender int, seq uint64, intended int64) error {
	return payload.Encode(buf, payload.Header{RunID: run, Sender: uint32(sender), Seq: seq, Intended: intended})
}

// Version is the loadgen's version as recorded in reports.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}

// report builds the report after every reader has stopped.
func (r *runner) report(started time.Time, measured time.Duration, res *Result, fdLimit uint64, rssPerClient float64, warnings []string) *report.Report {
	cfg := r.cfg
	rep := &report.Report{
		Tool:    report.Tool,
		Version: Version(),
		Started: started.UTC().Format(time.RFC3339),
		URL:     cfg.URL,
		RunID:   fmt.Sprintf("%016x", r.runID),
		Window:  r.window,
		Config: report.Config{
			Clients:   cfg.Clients,
			Senders:   cfg.senders(),
			Rate:      cfg.Rate * float64(cfg.senders()) / float64(cfg.totalSenders()),
			Size:      cfg.Size,
			DurationS: cfg.Duration.Seconds(),
			WarmupS:   cfg.Warmup.Seconds(),
			Ramp:      cfg.Ramp,
			Procs:     1,

			MaxDrops:       cfg.MaxDrops,
			MaxConnectFail: cfg.MaxConnectFail,
		},
	}
	for _, ip := range cfg.SourceIPs {
		rep.Config.SourceIPs = append(rep.Config.SourceIPs, ip.String())
	}
	if len(rep.Config.SourceIPs) > 16 {
		rep.Config.SourceIPs = append(rep.Config.SourceIPs[:16], fmt.Sprintf("… %d in all", len(cfg.SourceIPs)))
	}

	var receivers, delivered, dup, reord, dropped, foreign, deliveredDropped int64
	var reasons map[string]int64
	var expected, expectedDropped, unexpected, ignored int64
	for i, m := range r.members {
		if m == nil {
			continue
		}
		foreign += m.reader.Foreign
		unexpected += m.reader.Unexpected
		ignored += m.reader.Ignored
		if m.dropped {
			expectedDropped += r.owed(i, m, r.sentWin.Load())
			dropped++
			why := "error"
			if m.reader.CloseCode != 0 {
				why = fmt.Sprintf("close %d", m.reader.CloseCode)
			}
			if reasons == nil {
				reasons = map[string]int64{}
			}
			reasons[why]++
			deliveredDropped += m.reader.Tracker.Delivered - m.reader.Tracker.Duplicated
			continue
		}
		receivers++
		expected += r.owed(i, m, r.sentWin.Load())
		delivered += m.reader.Tracker.Delivered
		dup += m.reader.Tracker.Duplicated
		reord += m.reader.Tracker.Reordered
	}
	r.mu.Lock()
	rep.Connections = report.Connections{
		Attempted:   r.attempted.Load(),
		Established: r.attempted.Load() - r.failed.Load(),
		Failed:      r.failed.Load(),
		Dropped:     dropped,
		ConnectMs:   report.Summarize(r.connectH),
		DropReasons: reasons,
	}
	connectEnc, _ := report.EncodeHistogram(r.connectH)
	lag := report.Summarize(r.lagH)
	rep.Histograms.SendLag, _ = report.EncodeHistogram(r.lagH)
	r.mu.Unlock()

	sent := r.sentWin.Load()
	rep.Messages = report.Messages{
		Sent:       sent,
		Receivers:  receivers,
		Expected:   expected,
		Delivered:  delivered,
		Duplicated: dup,
		Reordered:  reord,
		Foreign:    foreign,
		Unexpected: unexpected,
		Ignored:    ignored,

		DeliveredDropped: deliveredDropped,
		ExpectedAll:      expected + expectedDropped,
	}
	rep.Messages.Lost = max(0, rep.Messages.Expected-(delivered-dup))
	rep.Messages.LostAll = max(0, rep.Messages.ExpectedAll-(delivered-dup)-deliveredDropped)
	if s := measured.Seconds(); s > 0 {
		rep.Throughput = report.Throughput{SentPerS: float64(sent) / s, DeliveredPerS: float64(delivered) / s}
	}
	rep.MeasuredS = measured.Seconds()
	rep.Server = r.serverCPU.stats(delivered + deliveredDropped)

	lat := r.stats.Latency()
	rep.LatencyMs = report.Summarize(lat)
	rep.Histograms.Latency, _ = report.EncodeHistogram(lat)
	rep.Histograms.Connect = connectEnc
	if res.Window != nil {
		res.LastReceipts = r.stats.LastReceipts()
		fan := receive.FanoutHistogram(res.Window, res.LastReceipts)
		rep.FanoutMs = report.Summarize(fan)
		rep.Histograms.Fanout, _ = report.EncodeHistogram(fan)
	}

	maxLag := time.Duration(r.maxLag.Load())
	limit := cfg.MaxSendLag
	rep.Generator = report.Generator{
		Overloaded:        limit > 0 && maxLag > limit,
		MaxSendLagMs:      float64(maxLag) / 1e6,
		SendLagMs:         lag,
		MaxSendLateMs:     float64(r.maxLate.Load()) / 1e6,
		MaxSendLagLimitMs: float64(limit) / 1e6,
		SendErrors:        r.sendErrs.Load(),
		RSSPerClientKB:    rssPerClient,
		FDLimit:           fdLimit,
		GoMaxProcs:        runtime.GOMAXPROCS(0),
		CPUSeconds:        cpuSeconds(),
		Warnings:          warnings,
	}
	if rep.Generator.Overloaded {
		rep.Generator.Warnings = append(rep.Generator.Warnings, fmt.Sprintf(
			"generator overloaded: a broadcast went out %.1f ms after its intended time (limit --max-send-lag %v); latencies still count from the intended time, but the offered rate was not held",
			rep.Generator.MaxSendLagMs, limit))
	}
	if dropped > 0 {
		rep.Generator.Warnings = append(rep.Generator.Warnings, fmt.Sprintf(
			"%d connections were dropped before the close phase (%v); they are not in expected/lost but are in expected_all/lost_all — see connections.dropped", dropped, reasons))
	}
	if r.sendErrs.Load() > 0 {
		rep.Generator.Warnings = append(rep.Generator.Warnings, fmt.Sprintf("%d senders stopped on a write error (their remaining broadcasts were not sent)", r.sendErrs.Load()))
	}
	r.worldReport(rep)
	r.rxClock(rep)
	return rep
}

// rssBytes returns this process's resident set size, or 0 if unknown.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// cpuSeconds returns this process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
