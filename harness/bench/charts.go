package bench

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/wsbench/wsbench/loadgen/plot"
	"github.com/wsbench/wsbench/loadgen/report"
)

// Chart is one written plot: its path relative to the results directory
// and a caption.
type Chart struct {
	Path, Caption string
}

// Charts draws the plots of res into out/plots and returns them; a chart
// without data is left out.
func Charts(out string, res Results) ([]Chart, error) {
	var charts []Chart
	var errs []error
	save := func(name, caption string, build func() (*gplot.Plot, error)) {
		p, err := build()
		if errors.Is(err, plot.ErrNoData) {
			return
		}
		if err == nil {
			err = plot.Save(p, filepath.Join(out, "plots", name))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("plot %s: %w", name, err))
			return
		}
		charts = append(charts, Chart{Path: "plots/" + name, Caption: caption})
	}
	save("capacity-p99.png", "p99 delivery latency against offered load (capacity search steps; SLO line dashed)", func() (*gplot.Plot, error) {
		return p99Chart(res)
	})
	save("latency-capacity.png", "latency percentiles of each server at its capacity (highest passing step)", func() (*gplot.Plot, error) {
		var series []plot.Series
		for _, c := range res.Capacity {
			for _, r := range res.Runs {
				if r.Kind == "capacity" && r.Server == c.Server && r.Pass && r.Rate == c.BestRate {
					if h := hist(out, r); h != nil {
						series = append(series, plot.Series{Label: fmt.Sprintf("%s at %s deliveries/s", r.Server, si(r.OfferedPerS)), Hist: h})
					}
				}
			}
		}
		return plot.Percentiles("delivery latency at capacity", series, true)
	})
	save("memory-per-conn.png", "server RSS per idle connection", func() (*gplot.Plot, error) {
		var bars []plot.Bar
		for _, i := range res.Idle {
			if i.Conns > 0 {
				bars = append(bars, plot.Bar{Label: fmt.Sprintf("%s, %d conns", i.Server, i.Conns), Value: i.KiBPerConn})
			}
		}
		return plot.Bars("server memory per idle connection", "KiB per connection (RSS delta / N)", bars)
	})
	for _, cell := range matrixCells(res) {
		name := fmt.Sprintf("latency-c%d-r%s-s%d.png", cell.Clients, fmtRate(cell.Rate), cell.Size)
		save(name, fmt.Sprintf("latency percentiles, %d clients, %s broadcasts/s, %d B", cell.Clients, fmtRate(cell.Rate), cell.Size), func() (*gplot.Plot, error) {
			var series []plot.Series
			var empty []string
			for _, r := range res.Runs {
				if r.Kind == "matrix" && r.Repeat == 1 && r.Clients == cell.Clients && r.Rate == cell.Rate && r.Size == cell.Size {
					if h := hist(out, r); h != nil && h.TotalCount() > 0 {
						series = append(series, plot.Series{Label: r.Server, Hist: h})
					} else {
						empty = append(empty, r.Server)
					}
				}
			}
			title := fmt.Sprintf("%d clients, %s broadcasts/s (%s deliveries/s), %d B", cell.Clients, fmtRate(cell.Rate), si(float64(cell.Clients)*cell.Rate), cell.Size)
			if len(empty) > 0 {
				title += fmt.Sprintf(" — no deliveries measured: %s", strings.Join(empty, ", "))
			}
			return plot.Percentiles(title, series, true)
		})
	}
	return charts, errors.Join(errs...)
}

type cellKey struct {
	Clients int
	Rate    float64
	Size    int
}

func matrixCells(res Results) []cellKey {
	seen := map[cellKey]bool{}
	var cells []cellKey
	for _, r := range res.Runs {
		k := cellKey{r.Clients, r.Rate, r.Size}
		if r.Kind == "matrix" && !seen[k] {
			seen[k] = true
			cells = append(cells, k)
		}
	}
	return cells
}

func hist(out string, r RunRecord) *hdrhistogram.Histogram {
	if r.Report == "" {
		return nil
	}
	rep, err := report.ReadFile(filepath.Join(out, r.Report))
	if err != nil || rep.Histograms.Latency == "" {
		return nil
	}
	h, err := report.DecodeHistogram(rep.Histograms.Latency)
	if err != nil {
		return nil
	}
	return h
}

func p99Chart(res Results) (*gplot.Plot, error) {
	var lines []plot.Line
	for _, s := range serversOf(res) {
		var xys plotter.XYs
		for _, r := range res.Runs {
			if r.Kind == "capacity" && r.Server == s && r.Latency.Count > 0 {
				xys = append(xys, plotter.XY{X: r.OfferedPerS, Y: r.Latency.P99})
			}
		}
		sort.Slice(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
		lines = append(lines, plot.Line{Label: s, XYs: xys})
	}
	return plot.Lines(plot.Axes{Title: "p99 against load", X: "offered deliveries per second (clients × broadcasts/s)", Y: "p99 latency (ms)",
		LogX: true, LogY: true, Ref: res.SLOMs, RefLabel: fmt.Sprintf("SLO %g ms", res.SLOMs)}, lines)
}

func serversOf(res Results) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range res.Runs {
		if !seen[r.Server] {
			seen[r.Server] = true
			out = append(out, r.Server)
		}
	}
	return out
}
