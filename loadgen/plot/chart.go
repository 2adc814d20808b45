package plot

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Default image size of Save.
const (
	Width  = 8 * vg.Inch
	Height = 5 * vg.Inch
)

// Line is one labelled curve of a Lines chart.
type Line struct {
	Label string
	XYs   plotter.XYs
}

// Axes sets the labels and scales of a Lines chart.
type Axes struct {
	Title, X, Y string
	LogX, LogY  bool
	// Ref, when RefLabel is set, draws a dashed grey horizontal line at
	// y = Ref across the data, such as an SLO.
	Ref      float64
	RefLabel string
}

// Lines draws each line with its points marked, e.g. p99 against offered
// load for each server.
func Lines(a Axes, lines []Line) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = a.Title
	p.X.Label.Text = a.X
	p.Y.Label.Text = a.Y
	if a.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = SITicks{}
	}
	if a.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = MsTicks{}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	drawn := 0
	for i, ln := range lines {
		if len(ln.XYs) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(ln.XYs)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", ln.Label, err)
		}
		style(l, i)
		s.GlyphStyle.Color = plotutil.Color(i)
		s.GlyphStyle.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(ln.Label, l, s)
		drawn++
	}
	if drawn == 0 {
		return nil, ErrNoData
	}
	if a.RefLabel != "" {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, ln := range lines {
			for _, xy := range ln.XYs {
				lo, hi = math.Min(lo, xy.X), math.Max(hi, xy.X)
			}
		}
		ref, err := plotter.NewLine(plotter.XYs{{X: lo, Y: a.Ref}, {X: hi, Y: a.Ref}})
		if err != nil {
			return nil, err
		}
		ref.LineStyle.Color = color.Gray{Y: 110}
		ref.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		ref.LineStyle.Width = vg.Points(1)
		p.Add(ref)
		p.Legend.Add(a.RefLabel, ref)
	}
	return p, nil
}

// SITicks labels a log-scale count axis at 1-2-5 steps with k and M
// suffixes (20k, 50k, 100k, 1M).
type SITicks struct{}

// Ticks implements plot.Ticker.
func (SITicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < min*0.999 || v > max*1.001 {
				continue
			}
			out = append(out, plot.Tick{Value: v, Label: siLabel(v)})
		}
	}
	return out
}

func siLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// Bar is one labelled value of a Bars chart.
type Bar struct {
	Label string
	Value float64
}

// Bars draws one bar per value, e.g. memory per connection per server.
func Bars(title, ylabel string, bars []Bar) (*plot.Plot, error) {
	if len(bars) == 0 {
		return nil, ErrNoData
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	vs := make(plotter.Values, len(bars))
	names := make([]string, len(bars))
	for i, b := range bars {
		vs[i] = b.Value
		names[i] = fmt.Sprintf("%s (%.3g)", b.Label, b.Value)
	}
	bc, err := plotter.NewBarChart(vs, vg.Points(60))
	if err != nil {
		return nil, fmt.Errorf("bars: %w", err)
	}
	bc.Color = plotutil.Color(0)
	p.Add(plotter.NewGrid(), bc)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.7, float64(len(bars))-0.3
	p.Y.Min = 0
	return p, nil
}

// Save writes p to path at the default size; the format follows the
// extension (.png, .svg, .pdf …).
func Save(p *plot.Plot, path string) error {
	ext := strings.TrimPrefix(filepath.Ext(path), ".")
	if ext == "" {
		return fmt.Errorf("plot: %s has no extension to choose a format by (use .png or .svg)", path)
	}
	wt, err := p.WriterTo(Width, Height, ext)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
