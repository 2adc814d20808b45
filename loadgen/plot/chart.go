package plot

import (
	"fmt"
	"os"
	"path/filepath"
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
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
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
	return p, nil
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
