package plot

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

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

const usage = `usage: loadgen plot [flags] REPORT.json… -o FILE.png

Draws the latency percentile curve of each report on the HdrHistogram log
scale (x: 50%, 90%, 99%, 99.9% …; y: delivery latency in ms), one line per
report, labelled with its file name or --label. Every report is listed in
the legend: one without latency samples is marked "(no samples)" (and has
no curve), an invalid run "(INVALID)"; stderr warns about both.

Examples:
  loadgen plot results/baseline/matrix/ours/*.json -o ours.png
  loadgen plot --label old --label new old.json new.json -o change.png --log-y

Flags:
`

// Main runs `loadgen plot` with args (without the subcommand name).
func Main(args []string, stdout, stderr io.Writer) int {
	var c Config
	fs := pflag.NewFlagSet("loadgen plot", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVarP(&c.Out, "out", "o", "", "image file to write (.png, .svg, .pdf)")
	fs.StringArrayVar(&c.Labels, "label", nil, "legend label, once per report in order (default: the file name)")
	fs.StringVar(&c.Title, "title", "delivery latency by percentile", "chart title")
	fs.BoolVar(&c.Rooms, "rooms", false, "also draw one curve per room of reports made with loadgen --rooms (labelled 'NAME room K')")
	fs.BoolVar(&c.LogY, "log-y", false, "logarithmic latency axis (for curves that differ by orders of magnitude)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage+fs.FlagUsages())
			return 0
		}
		fmt.Fprintf(stderr, "loadgen plot: %v\n%s%s", err, usage, fs.FlagUsages())
		return 2
	}
	c.Reports = fs.Args()
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "loadgen plot: %v\n%s%s", err, usage, fs.FlagUsages())
		return 2
	}
	warn := func(format string, a ...any) { fmt.Fprintf(stderr, "loadgen plot: warning: "+format+"\n", a...) }
	if err := Run(c, warn); err != nil {
		fmt.Fprintf(stderr, "loadgen plot: %v\n", err)
		if errors.Is(err, ErrNoData) {
			return 1
		}
		return 2
	}
	fmt.Fprintf(stdout, "wrote %s\n", c.Out)
	return 0
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
