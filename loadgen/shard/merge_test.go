package shard

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
)

func part(sent, receivers, delivered int64) *report.Report {
	return &report.Report{Tool: report.Tool, URL: "ws://x/", Config: report.Config{Size: 64, Clients: int(receivers)},
		Messages: report.Messages{Sent: sent, Receivers: receivers, Delivered: delivered}}
}

// merge merges parts of a run of one sender at rate 10/s.
func merge(parts ...*Result) (*report.Report, error) {
	cfg := run.Config{Clients: 5, Senders: 1, Rate: 10}
	return Merge(cfg, parts, nil, func(i int) string { return fmt.Sprintf("part %d", i) })
}

func TestMerge(t *testing.T) {
	t.Parallel()
	start := time.Unix(100, 0)
	// Two slots at rate 10/s with one sender: due at +0 and +100 ms.
	a := &Result{Report: part(2, 3, 6), StartNs: start.UnixNano(), Lo: 0, Hi: 2,
		LastReceipts: EncodeReceipts([]int64{start.Add(5 * time.Millisecond).UnixNano(), start.Add(120 * time.Millisecond).UnixNano()})}
	b := &Result{Report: part(0, 2, 3), StartNs: start.UnixNano(), Lo: 0, Hi: 2,
		LastReceipts: EncodeReceipts([]int64{start.Add(9 * time.Millisecond).UnixNano(), 0})}
	rep, err := merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Messages
	if m.Sent != 2 || m.Receivers != 5 || m.Expected != 10 || m.Delivered != 9 || m.Lost != 1 {
		t.Errorf("messages = %+v; want sent 2, receivers 5, expected 10, delivered 9, lost 1", m)
	}
	if rep.FanoutMs.Count != 2 || rep.FanoutMs.Min < 8.9 || rep.FanoutMs.Min > 9.1 || rep.FanoutMs.Max < 19.9 || rep.FanoutMs.Max > 20.1 {
		t.Errorf("fan-out = %+v; want 2 slots, 9 ms and 20 ms", rep.FanoutMs)
	}
	// A mismatched window is left out, not trusted.
	bad := &Result{Report: part(0, 1, 2), Lo: 0, Hi: 1 << 40, LastReceipts: EncodeReceipts([]int64{1})}
	rep, err = merge(a, bad)
	if err != nil || len(rep.Generator.Warnings) == 0 {
		t.Errorf("Merge with a bad window = %v, warnings %q; want a warning", err, rep.Generator.Warnings)
	}
	if _, err := merge(); !errors.Is(err, ErrNoResults) {
		t.Errorf("Merge of no part = %v; want ErrNoResults", err)
	}
}

// FuzzMerge feeds arbitrary fan-out data from a part (an agent on another
// machine): no panic, and no allocation beyond what the data carries.
func FuzzMerge(f *testing.F) {
	f.Add(uint64(0), uint64(2), EncodeReceipts([]int64{1, 2}))
	f.Add(uint64(5), uint64(1), "!!")
	f.Add(uint64(0), uint64(1)<<50, EncodeReceipts([]int64{1}))
	f.Fuzz(func(t *testing.T, lo, hi uint64, receipts string) {
		r := &Result{Report: part(1, 1, 1), StartNs: 1, Lo: lo, Hi: hi, LastReceipts: receipts}
		_, _ = merge(r)
	})
}
