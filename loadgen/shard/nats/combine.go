package nats

import (
	"errors"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/shard/pipe"
)

// Combine merges the agents' results of one run into one report (see
// pipe.MergeResults); offsets[i] shifts agent i's receipts onto the
// controller's clock (zero when not corrected).
func Combine(results []*Result, offsets []time.Duration, rate float64, senders int) (*report.Report, error) {
	parts := make([]*pipe.WorkerResult, len(results))
	for i, r := range results {
		if r != nil {
			parts[i] = &r.WorkerResult
		}
	}
	name := func(i int) string { return "agent " + results[i].ID }
	rep, err := pipe.MergeResults(parts, offsets, name, rate, senders)
	if errors.Is(err, pipe.ErrNoResults) {
		return nil, errors.New("no agent returned a report")
	}
	return rep, err
}
