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
