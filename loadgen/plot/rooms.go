package plot

import (
	"fmt"

	"github.com/wsbench/wsbench/loadgen/report"
)

// roomSeries returns one curve per room row of r (loadgen --rooms),
// labelled "label room K".
func roomSeries(label string, r *report.Report) ([]Series, error) {
	var out []Series
	for _, row := range r.Rooms {
		if row.Histogram == "" {
			continue
		}
		h, err := report.DecodeHistogram(row.Histogram)
		if err != nil {
			return nil, fmt.Errorf("room %d: %w", row.Room, err)
		}
		out = append(out, Series{Label: fmt.Sprintf("%s room %d", label, row.Room), Hist: h})
	}
	return out, nil
}
