package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	ok := func() *report.Report {
		return &report.Report{
			Valid:       true,
			Connections: report.Connections{Established: 100},
			Messages:    report.Messages{Expected: 1000, Delivered: 1000},
			LatencyMs:   report.Summary{P99: 10},
		}
	}
	rec := RunRecord{Clients: 100}
	for _, tc := range []struct {
		name   string
		change func(*report.Report) *report.Report
		want   string // "" = pass
	}{
		{"pass", func(r *report.Report) *report.Report { return r }, ""},
		{"no report", func(*report.Report) *report.Report { return nil }, "no report"},
		{"slow", func(r *report.Report) *report.Report { r.LatencyMs.P99 = 50; return r }, "SLO"},
		{"loss", func(r *report.Report) *report.Report { r.Messages.Lost = 1; return r }, "lost"},
		{"missing clients", func(r *report.Report) *report.Report { r.Connections.Established = 90; return r }, "90 of 100"},
		{"dropped", func(r *report.Report) *report.Report { r.Connections.Dropped = 2; return r }, "dropped"},
		{"lagging generator still passes", func(r *report.Report) *report.Report { r.Generator.Overloaded = true; return r }, ""},
		{"nothing measured", func(r *report.Report) *report.Report { r.Messages.Expected = 0; return r }, "nothing expected"},
		{"invalid run fails with its reasons", func(r *report.Report) *report.Report {
			r.Valid, r.InvalidReasons = false, []string{"20000 foreign messages outnumber 0 deliveries"}
			return r
		}, "run invalid: 20000 foreign"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pass, why := judge(rec, tc.change(ok()), 50*time.Millisecond, "")
			if pass != (tc.want == "") || !strings.Contains(why, tc.want) {
				t.Errorf("judge = %v, %q; want pass=%v and a reason containing %q", pass, why, tc.want == "", tc.want)
			}
		})
	}
}

func TestSummaryRatios(t *testing.T) {
	t.Parallel()
	res := Results{
		SLOMs: 50,
		Capacity: []CapacityRecord{
			{Server: Ours, Clients: 1000, Size: 64, BestRate: 600, DeliveriesPerS: 600000, P99Ms: 20, Limit: "converged"},
			{Server: Node, Clients: 1000, Size: 64, BestRate: 100, DeliveriesPerS: 100000, P99Ms: 30, Limit: "converged"},
		},
		Idle: []IdleResult{{Server: Ours, Conns: 10000, KiBPerConn: 4}, {Server: Node, Conns: 10000, KiBPerConn: 14}},
		Runs: []RunRecord{{Kind: "matrix", Server: Ours, Clients: 100, Rate: 10, Size: 64, Pass: true}},
	}
	md := Summary(res, Default(), []Chart{{Path: "plots/x.png", Caption: "x"}})
	for _, want := range []string{"ours / node capacity: **6.0×**", "**3.5×** less for ours", "| ours | 100 | 10 | 64 |", "![x](plots/x.png)", "## Capacity search steps"} {
		if want == "## Capacity search steps" {
			if strings.Contains(md, want) {
				t.Errorf("summary has %q without capacity runs", want)
			}
			continue
		}
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

func TestSummaryCapacityRangeAndCPU(t *testing.T) {
	t.Parallel()
	cr := Capacity(Ours, 1000, 64, []CapacitySearch{
		{Repeat: 1, BestRate: 500, DeliveriesPerS: 500000, CPUUsPerDelivery: 1.3, Limit: "converged"},
		{Repeat: 2, BestRate: 400, DeliveriesPerS: 400000, CPUUsPerDelivery: 1.4, Limit: "converged"},
		{Repeat: 3, BestRate: 610, DeliveriesPerS: 610000, CPUUsPerDelivery: 1.2, Limit: "steps"},
	})
	if cr.DeliveriesPerS != 500000 || cr.MinDeliveriesPerS != 400000 || cr.MaxDeliveriesPerS != 610000 || cr.BestRate != 500 || cr.CPUUsPerDelivery != 1.3 {
		t.Errorf("Capacity = %+v; want median 500k (search 1's numbers), range 400k–610k", cr)
	}
	if even := Capacity(Ours, 1000, 64, cr.Searches[:2]); even.DeliveriesPerS != 400000 || even.BestRate != 400 || even.MaxDeliveriesPerS != 500000 {
		t.Errorf("Capacity of 2 searches = %+v; want the lower middle one, 400k, range up to 500k", even)
	}
	res := Results{
		SLOMs:    50,
		Capacity: []CapacityRecord{cr},
		Runs: []RunRecord{
			{Kind: "matrix", Server: Ours, Clients: 100, Rate: 10, Size: 64, Pass: true, ServerUsage: ServerUsage{CPUUsPerDelivery: 2.5}},
			{Kind: "matrix", Server: Ours, Clients: 100, Rate: 20, Size: 64, Pass: true, ServerUsage: ServerUsage{CPUUsPerDelivery: 2.1}},
		},
	}
	md := Summary(res, Default(), nil)
	for _, want := range []string{"**500k** | 400k–610k (3) |", "| 1.3 |", "ours **2.1** (2.1–2.5, 2 runs)", "| 2.5 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}
