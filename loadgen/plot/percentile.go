package plot

import (
	"errors"
	"fmt"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Series is one latency histogram (microseconds, as loadgen records them)
// and its legend label.
type Series struct {
	Label string
	Hist  *hdrhistogram.Histogram
}

// pointsPerDecade is how finely the percentile axis is sampled.
const pointsPerDecade = 40

// PercentileXYs returns the percentile curve of h: x = 1/(1-q) for q the
// quantile (so 2 is the median, 100 is p99, 1000 is p99.9) and y the
// latency in milliseconds. The curve stops at x = count, the finest
// percentile that h's samples resolve, and ends on the maximum.
func PercentileXYs(h *hdrhistogram.Histogram) plotter.XYs {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	limit := math.Max(float64(n), 2)
	var xys plotter.XYs
	for i := 0; ; i++ {
		x := math.Pow(10, float64(i)/pointsPerDecade)
		if x >= limit {
			break
		}
		q := 100 * (1 - 1/x)
		xys = append(xys, plotter.XY{X: x, Y: float64(h.ValueAtQuantile(q)) / 1000})
	}
	xys = append(xys, plotter.XY{X: limit, Y: float64(h.Max()) / 1000})
	return xys
}

// PercentileTicks labels the x axis of a percentile plot: 0%, 50%, 90%,
// 99%, 99.9% … at 1, 2, 10, 100, 1000 ….
type PercentileTicks struct{}

// Ticks implements plot.Ticker.
func (PercentileTicks) Ticks(min, max float64) []plot.Tick {
	ticks := []plot.Tick{{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}}
	for e := 1; e <= 9; e++ {
		x := math.Pow(10, float64(e))
		ticks = append(ticks, plot.Tick{Value: x, Label: fmt.Sprintf("%.*f%%", max0(e-2), 100*(1-1/x))})
	}
	var out []plot.Tick
	for _, t := range ticks {
		if t.Value >= min && t.Value <= max*1.0001 {
			out = append(out, t)
		}
	}
	return out
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// MsTicks labels a log-scale milliseconds axis at 1-2-5 steps.
type MsTicks struct{}

// Ticks implements plot.Ticker.
func (MsTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || max/min < 100 {
				t.Label = fmt.Sprintf("%g", v)
			}
			out = append(out, t)
		}
	}
	return out
}

// ErrNoData is returned when every series is empty.
var ErrNoData = errors.New("plot: no latency samples to draw")

// Percentiles draws one percentile curve per series. With logY the latency
// axis is logarithmic too, which keeps a fast and a slow server readable on
// one chart. A series without samples has no curve but is still listed in
// the legend, marked "(no samples)", so no report silently drops out.
func Percentiles(title string, series []Series, logY bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = PercentileTicks{}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = MsTicks{}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	drawn := 0
	for i, s := range series {
		xys := PercentileXYs(s.Hist)
		if len(xys) == 0 {
			p.Legend.Add(s.Label + " (no samples)")
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("series %q: %w", s.Label, err)
		}
		style(l, i)
		p.Add(l)
		p.Legend.Add(s.Label, l)
		drawn++
	}
	if drawn == 0 {
		return nil, ErrNoData
	}
	p.X.Min = 1
	return p, nil
}

// style gives line i a distinct colour and dash pattern.
func style(l *plotter.Line, i int) {
	l.LineStyle.Color = plotutil.Color(i)
	l.LineStyle.Dashes = plotutil.Dashes(i / len(plotutil.SoftColors))
	l.LineStyle.Width = vg.Points(1.5)
}
