package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/wsbench/wsbench/loadgen/plot"
)

const plotUsage = `usage: loadgen plot [flags] REPORT.json… -o FILE.png

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

// plotCmd is `loadgen plot [flags] REPORT.json… -o FILE.png`.
func plotCmd() *command {
	var p plot.Config
	fs := newFlags("loadgen plot")
	fs.StringVarP(&p.Out, "out", "o", "", "image file to write (.png, .svg, .pdf)")
	fs.StringArrayVar(&p.Labels, "label", nil, "legend label, once per report in order (default: the file name)")
	fs.StringVar(&p.Title, "title", "delivery latency by percentile", "chart title")
	fs.BoolVar(&p.Rooms, "rooms", false, "also draw one curve per room of reports made with loadgen --rooms (labelled 'NAME room K')")
	fs.BoolVar(&p.LogY, "log-y", false, "logarithmic latency axis (for curves that differ by orders of magnitude)")
	c := &command{flags: fs, usage: plotUsage}
	c.run = func(_ context.Context, reports []string, io stdio) int {
		p.Reports = reports
		if err := p.Validate(); err != nil {
			c.usageError(io, err)
			return ExitUsage
		}
		warn := func(format string, a ...any) { fmt.Fprintf(io.err, "loadgen plot: warning: "+format+"\n", a...) }
		if err := plot.Run(p, warn); err != nil {
			fmt.Fprintf(io.err, "loadgen plot: %v\n", err)
			if errors.Is(err, plot.ErrNoData) {
				return 1 // nothing to draw
			}
			return ExitUsage
		}
		fmt.Fprintf(io.out, "wrote %s\n", p.Out)
		return ExitOK
	}
	return c
}
