package plot

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wsbench/wsbench/loadgen/report"
)

// Config is the command line of `loadgen plot`.
type Config struct {
	Reports []string // report files
	Labels  []string // legend labels, one per report; default the file name
	Out     string   // image path; the extension picks the format
	Title   string
	LogY    bool
	Rooms   bool // also one curve per room of --rooms reports
}

// Validate checks c.
func (c Config) Validate() error {
	switch {
	case len(c.Reports) == 0:
		return errors.New("need at least one REPORT.json")
	case c.Out == "":
		return errors.New("need -o FILE.png")
	case len(c.Labels) > 0 && len(c.Labels) != len(c.Reports):
		return fmt.Errorf("got %d --label values for %d reports; give one per report or none", len(c.Labels), len(c.Reports))
	}
	switch ext := strings.ToLower(filepath.Ext(c.Out)); ext {
	case ".png", ".svg", ".pdf", ".jpg", ".jpeg":
	default:
		return fmt.Errorf("-o %s: want a .png, .svg, .pdf or .jpg file", c.Out)
	}
	return nil
}

// Run reads the reports and writes the chart. Every report is in the
// legend: an invalid one marked "(INVALID)", one without samples "(no
// samples)"; warn (if not nil) is told about each.
func Run(c Config, warn func(format string, a ...any)) error {
	if warn == nil {
		warn = func(string, ...any) {}
	}
	series := make([]Series, 0, len(c.Reports))
	for i, path := range c.Reports {
		r, err := report.ReadFile(path)
		if err != nil {
			return err
		}
		if r.Histograms.Latency == "" {
			return fmt.Errorf("%s: report has no latency histogram", path)
		}
		h, err := report.DecodeHistogram(r.Histograms.Latency)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		label := strings.TrimSuffix(filepath.Base(path), ".json")
		if len(c.Labels) > 0 {
			label = c.Labels[i]
		}
		if !r.Valid {
			label += " (INVALID)"
			warn("%s: the run is invalid (%s); plotted and marked in the legend", path, strings.Join(r.InvalidReasons, "; "))
		}
		if h.TotalCount() == 0 {
			warn("%s: no latency samples; listed in the legend without a curve", path)
		}
		series = append(series, Series{Label: label, Hist: h})
		if c.Rooms {
			rooms, err := roomSeries(label, r)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if len(rooms) == 0 {
				warn("%s: --rooms, but the report has no per-room rows (made without loadgen --rooms)", path)
			}
			series = append(series, rooms...)
		}
	}
	p, err := Percentiles(c.Title, series, c.LogY)
	if err != nil {
		return err
	}
	return Save(p, c.Out)
}
