package soak

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
)

func TestThirds(t *testing.T) {
	for _, tc := range []struct {
		name        string
		v           []float64
		first, last float64
		change      float64
	}{
		{"flat", []float64{10, 10, 10, 10, 10, 10}, 10, 10, 0},
		{"rising", []float64{10, 10, 15, 15, 20, 20}, 10, 20, 1},
		{"middle ignored", []float64{10, 99, 10}, 10, 10, 0},
		{"uneven length", []float64{4, 4, 0, 0, 8, 8, 8}, 4, 8, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Thirds(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if d.First != tc.first || d.Last != tc.last || math.Abs(d.Change-tc.change) > 1e-9 {
				t.Errorf("Thirds(%v) = %+v; want first %v last %v change %v", tc.v, d, tc.first, tc.last, tc.change)
			}
		})
	}
	if _, err := Thirds([]float64{1, 2}); err == nil {
		t.Error("Thirds of 2 samples: want an error")
	}
}

func TestJudge(t *testing.T) {
	samples := func(rss ...float64) []Sample {
		var s []Sample
		for i, v := range rss {
			s = append(s, Sample{At: float64(10 + 10*i), RSSMiB: v, Goroutines: 100, Open: 10})
		}
		return s
	}
	for _, tc := range []struct {
		name string
		r    Result
		want string // substring of a failure; "" for a pass
	}{
		{"steady", Result{Samples: samples(20, 21, 20, 21, 20, 21), Load: &report.Report{Messages: report.Messages{Delivered: 10}}}, ""},
		{"leak", Result{Samples: samples(20, 20, 30, 30, 40, 40), Load: &report.Report{Messages: report.Messages{Delivered: 10}}}, "RSS drift"},
		{"loss", Result{Samples: samples(20, 20, 20), Load: &report.Report{Messages: report.Messages{Delivered: 10, Lost: 1, Expected: 11}}}, "lost 1"},
		{"too few samples", Result{Samples: samples(20)}, "need at least 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Config = DefaultConfig()
			tc.r.judge()
			got := strings.Join(tc.r.Failures, "; ")
			if tc.want == "" && !tc.r.Pass {
				t.Errorf("judge: failures %q; want a pass", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("judge: failures %q; want one containing %q", got, tc.want)
			}
			var b strings.Builder
			if err := tc.r.WriteMarkdown(&b); err != nil || !strings.Contains(b.String(), "| server RSS (MiB) |") {
				t.Errorf("WriteMarkdown = %v, %q", err, b.String())
			}
		})
	}
}

func TestValidate(t *testing.T) {
	c := DefaultConfig()
	c.URL, c.ServerPID, c.Loadgen = "ws://127.0.0.1:1/", 1, "loadgen"
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"remote url", func(c *Config) { c.URL = "ws://192.0.2.1:1/" }},
		{"no pid", func(c *Config) { c.ServerPID = 0 }},
		{"short", func(c *Config) { c.Duration = time.Second }},
		{"interval too long", func(c *Config) { c.Interval = c.Duration }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c
			tc.mut(&c)
			if c.Validate() == nil {
				t.Error("Validate() = nil; want an error")
			}
		})
	}
}
