package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// WriteTable writes the human summary of r: configuration, connections,
// message counts, throughput and the latency summaries.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c, m := r.Config, r.Messages
	fmt.Fprintf(tw, "target\t%s\n", r.URL)
	fmt.Fprintf(tw, "load\t%d clients, %d senders, %g broadcasts/s of %d B, %.2fs measured after %gs warmup\n",
		c.Clients, c.Senders, c.Rate, c.Size, r.MeasuredS, c.WarmupS)
	fmt.Fprintf(tw, "connections\t%d established, %d failed, %d dropped of %d attempted\n",
		r.Connections.Established, r.Connections.Failed, r.Connections.Dropped, r.Connections.Attempted)
	loss := 0.0
	if m.Expected > 0 {
		loss = 100 * float64(m.Lost) / float64(m.Expected)
	}
	fmt.Fprintf(tw, "messages\t%d sent, %d expected, %d delivered, %d lost (%.4f%%), %d duplicated, %d reordered, %d foreign\n",
		m.Sent, m.Expected, m.Delivered, m.Lost, loss, m.Duplicated, m.Reordered, m.Foreign)
	if m.Unexpected > 0 || m.Ignored > 0 {
		fmt.Fprintf(tw, "\t%d unexpected (not owed: own copies under --expect others, other rooms), %d ignored (--ignore, --await)\n", m.Unexpected, m.Ignored)
	}
	if z := r.Compression; z != nil {
		fmt.Fprintf(tw, "deflate\t%d of %d connections negotiated %q\n", z.Negotiated, r.Connections.Established, z.Params)
	}
	fmt.Fprintf(tw, "throughput\t%.1f sent/s, %.1f delivered/s\n", r.Throughput.SentPerS, r.Throughput.DeliveredPerS)
	fmt.Fprintf(tw, "\n\tcount\tmin\tmean\tp50\tp90\tp99\tp99.9\tmax (ms)\n")
	row := func(name string, s Summary) {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", name, s.Count, s.Min, s.Mean, s.P50, s.P90, s.P99, s.P999, s.Max)
	}
	row("latency", r.LatencyMs)
	row("fan-out", r.FanoutMs)
	row("connect", r.Connections.ConnectMs)
	row("send lag", r.Generator.SendLagMs)
	r.writeRooms(tw)
	fmt.Fprintln(tw)
	g := r.Generator
	switch {
	case m.Sent == 0 && g.SendLagMs.Count == 0:
		// Nothing was sent: there is no timetable to have kept.
		fmt.Fprintf(tw, "generator\tsent nothing in the measured window; %.1f KiB RSS per connection; %.1f CPU s\n", g.RSSPerClientKB, g.CPUSeconds)
	default:
		state := "kept the timetable"
		if g.Overloaded {
			state = "OVERLOADED (fell behind its timetable)"
		}
		fmt.Fprintf(tw, "generator\t%s; own send lag max %.2f ms (limit %.2f ms), sends late by up to %.2f ms incl. server backpressure; %.1f KiB RSS per connection; %.1f CPU s\n",
			state, g.MaxSendLagMs, g.MaxSendLagLimitMs, g.MaxSendLateMs, g.RSSPerClientKB, g.CPUSeconds)
	}
	if g.Clock != "" {
		fmt.Fprintf(tw, "clock\treceipt times from the %s clock (%d messages kernel-stamped)\n", g.Clock, g.KernelStamped)
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(tw, "server\tpid %d: %.2f CPU s in the window, %.2f µs per delivery\n", s.PID, s.CPUSeconds, s.CPUUsPerDelivery)
	}
	for _, warn := range g.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", warn)
	}
	if r.Interrupted {
		fmt.Fprintf(tw, "INTERRUPTED\tthe run was ended early; these numbers cover only what was measured before\n")
	}
	for _, why := range r.InvalidReasons {
		fmt.Fprintf(tw, "INVALID\t%s\n", why)
	}
	return tw.Flush()
}

// WriteHgrm writes h (microseconds) in the HdrHistogram percentile
// distribution text format with values in milliseconds, as
// HistogramLogProcessor and the plotting tools expect.
func WriteHgrm(w io.Writer, h *hdrhistogram.Histogram) error {
	_, err := h.PercentilesPrint(w, 5, 1000)
	return err
}
