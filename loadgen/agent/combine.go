package agent

import (
	"errors"
	"time"

	"github.com/wsbench/wsbench/loadgen/procs"
	"github.com/wsbench/wsbench/loadgen/report"
)

// Combine merges the agents' results of one run into one report (see
// procs.MergeResults); offsets[i] shifts agent i's receipts onto the
// controller's clock (zero when not corrected).
func Combine(results []*Result, offsets []time.Duration, rate float64, senders int) (*report.Report, error) {
	parts := make([]*procs.WorkerResult, len(results))
	for i, r := range results {
		if r != nil {
			parts[i] = &r.WorkerResult
		}
	}
	name := func(i int) string { return "agent " + results[i].ID }
	rep, err := procs.MergeResults(parts, offsets, name, rate, senders)
	if errors.Is(err, procs.ErrNoResults) {
		return nil, errors.New("no agent returned a report")
	}
	return rep, err
}
