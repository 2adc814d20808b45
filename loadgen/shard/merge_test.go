package shard

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
)

// part is a part's report under --expect all: each of its receivers is
// owed each of its own sends.
func part(sent, receivers, delivered int64) *report.Report {
	return &report.Report{Tool: report.Tool, URL: "ws://x/", Config: report.Config{Size: 64, Clients: int(receivers)},
		Messages: report.Messages{Sent: sent, Receivers: receivers, Delivered: delivered, Expected: sent * receivers, ExpectedAll: sent * receivers}}
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

// TestMergeExpectOthers: under --expect others a sender is not owed its own
// copies; the merge owes every receiver every part's broadcasts less what
// it sent itself.
func TestMergeExpectOthers(t *testing.T) {
	t.Parallel()
	// Part a: 3 receivers, two of them sending 4 and 2 of its 6
	// broadcasts; part b: 2 receivers, one sending all 3 of its own.
	a := part(6, 3, 0)
	a.Messages.Expected = 6*3 - (4 + 2)
	a.Messages.ExpectedAll = a.Messages.Expected
	b := part(3, 2, 0)
	b.Messages.Expected = 3*2 - 3
	b.Messages.ExpectedAll = b.Messages.Expected
	// Every receiver got every broadcast but its own: 9×5 − 9.
	a.Messages.Delivered, b.Messages.Delivered = 21, 15
	rep, err := merge(&Result{Report: a}, &Result{Report: b})
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Messages; m.Sent != 9 || m.Expected != 36 || m.ExpectedAll != 36 || m.Lost != 0 || m.LostAll != 0 {
		t.Errorf("messages = %+v; want 9 sent, 36 expected (9 × 5 receivers less 9 own copies), none lost", m)
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
