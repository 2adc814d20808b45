package shard

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/loadgen/receive"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/timetable"
)

// ErrNoResults is returned by Merge when no part returned a report.
var ErrNoResults = errors.New("no part of the run returned a report")

// Merge merges the results of the parts of cfg (one run id, one
// timetable) into one report, with the whole run's ramp and duration in
// its config. results[i] is nil for a part that sent none.
func Merge(cfg run.Config, results []*Result, offsets []time.Duration, name func(int) string) (*report.Report, error) {
	senders := cfg.Senders
	if senders == 0 {
		senders = cfg.Clients
	}
	rep, err := mergeParts(results, offsets, name, cfg.Rate, senders)
	if err != nil {
		return nil, err
	}
	rep.Config.Ramp = cfg.Ramp
	rep.Config.DurationS = cfg.Duration.Seconds()
	return rep, nil
}

// mergeParts merges the parts' results into one report. report.Merge sums
// the counters and merges the histograms; then, since every receiver was
// owed every sender's broadcasts, Expected = Sent × Receivers and Lost are
// recomputed over the whole run, and the fan-out histogram is rebuilt from
// the latest receipt of each slot over all parts. offsets[i], if given,
// shifts part i's clock onto the merging one (agents on other machines);
// name(i) names part i in warnings. rate and senders are the whole run's.
// A part whose fan-out data does not match the run's window is left out of
// the fan-out histogram, with a warning. Validity is judged over the whole
// run, not per part.
func mergeParts(results []*Result, offsets []time.Duration, name func(int) string, rate float64, senders int) (*report.Report, error) {
	var reps []*report.Report
	var warnings []string
	var win *receive.Window
	var last []int64
	for i, res := range results {
		if res == nil || res.Report == nil {
			continue
		}
		reps = append(reps, res.Report)
		if res.LastReceipts == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(res.LastReceipts)
		if err != nil {
			return nil, fmt.Errorf("%s fan-out data: %w", name(i), err)
		}
		var off int64
		if i < len(offsets) {
			off = int64(offsets[i])
		}
		// One receipt per measured slot, and the same window everywhere.
		if res.Hi < res.Lo || res.Hi-res.Lo != uint64(len(b)/8) || (win != nil && (res.Lo != win.Lo || res.Hi != win.Hi)) {
			warnings = append(warnings, fmt.Sprintf("%s: fan-out data does not match the run's window; left out of fan-out", name(i)))
			continue
		}
		if win == nil {
			win = &receive.Window{Table: timetable.Timetable{Start: time.Unix(0, res.StartNs-off), Rate: rate, Senders: senders}, Lo: res.Lo, Hi: res.Hi}
			last = make([]int64, res.Hi-res.Lo)
		}
		for k := 0; k+8 <= len(b) && k/8 < len(last); k += 8 {
			if t := int64(binary.LittleEndian.Uint64(b[k:])); t != 0 {
				last[k/8] = max(last[k/8], t-off)
			}
		}
	}
	if len(reps) == 0 {
		return nil, ErrNoResults
	}
	out, err := report.Merge(reps)
	if err != nil {
		return nil, err
	}
	out.Generator.Warnings = append(out.Generator.Warnings, warnings...)
	// Every receiver is owed every part's broadcasts, less its own copies
	// under --expect others. A part owes each receiver its own sends less
	// that receiver's own (run's owed), so what it left out is
	// sent × receivers − expected, zero with --expect all.
	var own, ownAll int64
	for _, r := range reps {
		pm := r.Messages
		own += pm.Sent*pm.Receivers - pm.Expected
		ownAll += pm.Sent*(pm.Receivers+r.Connections.Dropped) - pm.ExpectedAll
	}
	m := &out.Messages
	m.Expected = max(0, m.Sent*m.Receivers-own)
	m.Lost = max(0, m.Expected-(m.Delivered-m.Duplicated))
	m.ExpectedAll = max(0, m.Sent*(m.Receivers+out.Connections.Dropped)-ownAll)
	m.LostAll = max(0, m.ExpectedAll-(m.Delivered-m.Duplicated)-m.DeliveredDropped)
	fan := report.NewLatencyHistogram()
	if win != nil {
		fan = receive.FanoutHistogram(win, last)
	}
	out.Recompute(decodeOrEmpty(out.Histograms.Latency), decodeOrEmpty(out.Histograms.Connect), fan)
	// The parts are one run: judged together (a part owning no sender
	// sent nothing itself, which is no fault of the run).
	out.Judge()
	return out, nil
}

// decodeOrEmpty decodes a merged histogram; a missing or unreadable one
// counts as empty (report.Merge has already refused corrupt inputs).
func decodeOrEmpty(s string) *hdrhistogram.Histogram {
	if s != "" {
		if h, err := report.DecodeHistogram(s); err == nil {
			return h
		}
	}
	return report.NewLatencyHistogram()
}
