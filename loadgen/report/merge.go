package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ErrNothingToMerge is returned by Merge without reports.
var ErrNothingToMerge = errors.New("report: nothing to merge")

// Merge combines reports of runs made at the same time (several machines,
// or several processes of one machine) into one: histograms are merged
// from their encodings, counters summed, summaries and throughput
// recomputed; overloaded is true if any input was. The inputs must share
// URL and size; differences are listed in Generator.Warnings.
//
// Merge treats the inputs as independent runs (each with its own run id),
// so Expected and Lost are sums. A multi-process run of one run id
// recomputes them afterwards (see the procs package). The result is judged
// again (Judge) over the summed counters with report 1's limits; the
// parts' own verdicts are the caller's to carry (see MergeParts).
func Merge(rs []*Report) (*Report, error) {
	if len(rs) == 0 {
		return nil, ErrNothingToMerge
	}
	first := rs[0]
	out := &Report{
		Tool:    Tool,
		Version: first.Version,
		Started: first.Started,
		URL:     first.URL,
		RunID:   first.RunID,
		Config: Config{
			Size:           first.Config.Size,
			WarmupS:        first.Config.WarmupS,
			MaxDrops:       first.Config.MaxDrops,
			MaxConnectFail: first.Config.MaxConnectFail,
		},
	}
	lat, con, fan, lag := NewLatencyHistogram(), NewLatencyHistogram(), NewLatencyHistogram(), NewLatencyHistogram()
	merge := func(dst *hdrhistogram.Histogram, enc, what string, i int) error {
		if enc == "" {
			return nil
		}
		h, err := DecodeHistogram(enc)
		if err != nil {
			return fmt.Errorf("report %d: %s histogram: %w", i+1, what, err)
		}
		if dropped := dst.Merge(h); dropped > 0 {
			return fmt.Errorf("report %d: %s histogram: %d values out of range", i+1, what, dropped)
		}
		return nil
	}
	var rssWeighted float64
	var lagMax float64
	for i, r := range rs {
		if r.URL != first.URL {
			out.Generator.Warnings = append(out.Generator.Warnings, fmt.Sprintf("report %d measured %s, report 1 %s", i+1, r.URL, first.URL))
		}
		if r.Config.Size != first.Config.Size {
			out.Generator.Warnings = append(out.Generator.Warnings, fmt.Sprintf("report %d used --size %d, report 1 --size %d", i+1, r.Config.Size, first.Config.Size))
		}
		if r.Started < out.Started {
			out.Started = r.Started
		}
		if r.RunID != out.RunID {
			out.RunID = "" // independent runs: no single id
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		if w := r.Window; w != nil {
			if out.Window == nil {
				out.Window = &Window{Start: w.Start, End: w.End}
			}
			out.Window.Start = min(out.Window.Start, w.Start)
			out.Window.End = max(out.Window.End, w.End)
		}
		c := &out.Config
		c.Clients += r.Config.Clients
		c.Senders += r.Config.Senders
		c.Rate += r.Config.Rate
		c.DurationS = math.Max(c.DurationS, r.Config.DurationS)
		c.WarmupS = math.Max(c.WarmupS, r.Config.WarmupS)
		c.Ramp += r.Config.Ramp
		c.Procs += max(r.Config.Procs, 1)
		c.SourceIPs = append(c.SourceIPs, r.Config.SourceIPs...)

		n := &out.Connections
		n.Attempted += r.Connections.Attempted
		n.Established += r.Connections.Established
		n.Failed += r.Connections.Failed
		n.Dropped += r.Connections.Dropped
		for k, v := range r.Connections.DropReasons {
			if n.DropReasons == nil {
				n.DropReasons = map[string]int64{}
			}
			n.DropReasons[k] += v
		}

		m := &out.Messages
		m.Sent += r.Messages.Sent
		m.Receivers += r.Messages.Receivers
		m.Expected += r.Messages.Expected
		m.Delivered += r.Messages.Delivered
		m.Lost += r.Messages.Lost
		m.Duplicated += r.Messages.Duplicated
		m.Reordered += r.Messages.Reordered
		m.Foreign += r.Messages.Foreign
		m.Unexpected += r.Messages.Unexpected
		m.Ignored += r.Messages.Ignored
		if z := r.Compression; z != nil {
			if out.Compression == nil {
				out.Compression = &Compression{Offered: z.Offered, Params: z.Params}
			}
			out.Compression.Negotiated += z.Negotiated
		}
		m.DeliveredDropped += r.Messages.DeliveredDropped
		m.ExpectedAll += r.Messages.ExpectedAll
		m.LostAll += r.Messages.LostAll
		out.MeasuredS = math.Max(out.MeasuredS, r.MeasuredS)

		g := &out.Generator
		g.Overloaded = g.Overloaded || r.Generator.Overloaded
		g.MaxSendLagMs = math.Max(g.MaxSendLagMs, r.Generator.MaxSendLagMs)
		g.MaxSendLateMs = math.Max(g.MaxSendLateMs, r.Generator.MaxSendLateMs)
		lagMax = math.Max(lagMax, r.Generator.SendLagMs.Max)
		g.MaxSendLagLimitMs = math.Max(g.MaxSendLagLimitMs, r.Generator.MaxSendLagLimitMs)
		g.SendErrors += r.Generator.SendErrors
		g.CPUSeconds += r.Generator.CPUSeconds
		g.KernelStamped += r.Generator.KernelStamped
		switch {
		case i == 0:
			g.Clock = r.Generator.Clock
		case g.Clock != r.Generator.Clock:
			g.Clock = "mixed"
		}
		g.FDLimit = max(g.FDLimit, r.Generator.FDLimit)
		g.GoMaxProcs = max(g.GoMaxProcs, r.Generator.GoMaxProcs)
		rssWeighted += r.Generator.RSSPerClientKB * float64(r.Connections.Established)
		for _, w := range r.Generator.Warnings {
			if !slices.Contains(g.Warnings, w) {
				g.Warnings = append(g.Warnings, w)
			}
		}

		if err := merge(lat, r.Histograms.Latency, "latency", i); err != nil {
			return nil, err
		}
		if err := merge(con, r.Histograms.Connect, "connect", i); err != nil {
			return nil, err
		}
		if err := merge(fan, r.Histograms.Fanout, "fanout", i); err != nil {
			return nil, err
		}
		if err := merge(lag, r.Histograms.SendLag, "send lag", i); err != nil {
			return nil, err
		}
	}
	if out.Connections.Established > 0 {
		out.Generator.RSSPerClientKB = rssWeighted / float64(out.Connections.Established)
	}
	out.Generator.SendLagMs = Summarize(lag)
	out.Histograms.SendLag, _ = EncodeHistogram(lag)
	if lag.TotalCount() == 0 {
		// Reports without the send-lag histogram: keep the worst lag.
		out.Generator.SendLagMs = Summary{Max: lagMax}
		out.Histograms.SendLag = ""
	}
	out.Recompute(lat, con, fan)
	rooms, err := MergeRooms(rs)
	if err != nil {
		return nil, err
	}
	out.Rooms = rooms
	if len(rooms) > 0 {
		out.Config.Rooms = len(rooms)
	}
	out.Config.Payload, out.Config.Template, out.Config.Expect = first.Config.Payload, first.Config.Template, first.Config.Expect
	out.Judge()
	return out, nil
}

// Recompute sets the summaries, encoded histograms and throughput from the
// given histograms and the report's counters.
func (r *Report) Recompute(lat, con, fan *hdrhistogram.Histogram) {
	r.LatencyMs = Summarize(lat)
	r.Connections.ConnectMs = Summarize(con)
	r.FanoutMs = Summarize(fan)
	r.Histograms.Latency, _ = EncodeHistogram(lat)
	r.Histograms.Connect, _ = EncodeHistogram(con)
	r.Histograms.Fanout, _ = EncodeHistogram(fan)
	s := r.MeasuredS
	if s == 0 {
		s = r.Config.DurationS
	}
	if s > 0 {
		r.Throughput = Throughput{SentPerS: float64(r.Messages.Sent) / s, DeliveredPerS: float64(r.Messages.Delivered) / s}
	}
}

// ErrSameRun is returned by MergeParts when two inputs are the same run.
var ErrSameRun = errors.New("report: the same run twice")

// MergeParts is Merge for reports of independent runs made at the same
// time (`loadgen merge`); names[i] names report i in messages. It refuses
// the same run twice (same run id, or for reports without one the same
// start and latency histogram), since that would double every count
// silently. It returns warnings, also recorded in Generator.Warnings, when
// the parts' measured windows do not all overlap (their sum is then not
// one load). The merged report is invalid when any part was, with that
// part's reasons.
func MergeParts(rs []*Report, names []string) (*Report, []string, error) {
	seen := map[string]int{}
	for i, r := range rs {
		key := "run " + r.RunID
		if r.RunID == "" {
			key = "started " + r.Started + " " + r.Histograms.Latency
		}
		if j, ok := seen[key]; ok {
			return nil, nil, fmt.Errorf("%w: %s and %s are the same run (run id %q); merge reports of different runs made at the same time", ErrSameRun, names[j], names[i], r.RunID)
		}
		seen[key] = i
	}
	out, err := Merge(rs)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if w := overlapWarning(rs[i], rs[j], names[i], names[j]); w != "" {
				warnings = append(warnings, w)
			}
		}
	}
	out.Generator.Warnings = append(out.Generator.Warnings, warnings...)
	for i, r := range rs {
		for _, why := range r.InvalidReasons {
			out.Invalidate(names[i] + ": " + why)
		}
		if !r.Valid && len(r.InvalidReasons) == 0 {
			out.Invalidate(names[i] + ": marked invalid")
		}
	}
	return out, warnings, nil
}

// overlapWarning says when the measured windows of a and b do not overlap,
// or cannot be told to.
func overlapWarning(a, b *Report, na, nb string) string {
	if a.Window == nil || b.Window == nil {
		return fmt.Sprintf("%s and %s: cannot tell whether the measured windows overlap (a report without window times)", na, nb)
	}
	as, ae, err1 := a.Window.times()
	bs, be, err2 := b.Window.times()
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("%s and %s: cannot tell whether the measured windows overlap (unreadable window times)", na, nb)
	}
	if as.Before(be) && bs.Before(ae) {
		return ""
	}
	gap := bs.Sub(ae)
	if ae.After(be) {
		gap = as.Sub(be)
	}
	return fmt.Sprintf("%s and %s: the measured windows do not overlap (%v apart); the merged report is not one simultaneous load", na, nb, gap.Round(time.Millisecond))
}

func (w *Window) times() (start, end time.Time, err error) {
	if start, err = time.Parse(time.RFC3339Nano, w.Start); err != nil {
		return
	}
	end, err = time.Parse(time.RFC3339Nano, w.End)
	return
}
