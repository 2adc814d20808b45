package shard

import (
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/run"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	got := Split(10, 3)
	if len(got) != 3 || got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Errorf("Split(10, 3) = %v; want [4 3 3]", got)
	}
}

func TestPlanSpecs(t *testing.T) {
	t.Parallel()
	cfg := run.Config{
		URL: "ws://127.0.0.1:1/", Clients: 10, Senders: 4, Rate: 100, Size: 64, Ramp: 300,
		Duration: time.Second, SourceIPs: []net.IP{net.ParseIP("127.0.0.2")},
	}
	for _, tc := range []struct {
		name               string
		plan               Plan
		clients, senders   []int
		senderBase, urlEnd []int
	}{
		{"spread", Plan{Parts: 3}, []int{4, 3, 3}, []int{2, 1, 1}, []int{0, 2, 3}, nil},
		{"senders on the first part", Plan{Parts: 3, SenderParts: 1}, []int{4, 3, 3}, []int{4, -1, -1}, []int{0, 4, 4}, nil},
		{"one url each", Plan{Parts: 2, URLs: []string{"ws://a/", "ws://b/"}}, []int{5, 5}, []int{2, 2}, []int{0, 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			specs, senders, err := tc.plan.Specs(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if senders != 4 || len(specs) != tc.plan.Parts {
				t.Fatalf("Specs = %d specs, %d senders; want %d specs, 4 senders", len(specs), senders, tc.plan.Parts)
			}
			cb := 0
			for i, s := range specs {
				if s.Clients != tc.clients[i] || s.Senders != tc.senders[i] || s.SenderBase != tc.senderBase[i] || s.ClientBase != cb {
					t.Errorf("spec %d = %d clients (base %d), %d senders (base %d); want %d (%d), %d (%d)",
						i, s.Clients, s.ClientBase, s.Senders, s.SenderBase, tc.clients[i], cb, tc.senders[i], tc.senderBase[i])
				}
				if s.RunID == 0 || s.RunID != specs[0].RunID || s.TotalSenders != 4 || s.Ramp != 300/float64(len(specs)) || s.Rate != 100 {
					t.Errorf("spec %d: run id %x (first %x), total senders %d, ramp %g, rate %g; want one non-zero id, 4, %g, 100",
						i, s.RunID, specs[0].RunID, s.TotalSenders, s.Ramp, s.Rate, 300/float64(len(specs)))
				}
				if want := cfg.URL; len(tc.plan.URLs) > 0 && s.URL != tc.plan.URLs[i] || len(tc.plan.URLs) == 0 && s.URL != want {
					t.Errorf("spec %d loads %s", i, s.URL)
				}
				// The part's configuration is a valid run owning its ids.
				pc := s.Config()
				if err := pc.Validate(); err != nil {
					t.Errorf("spec %d: Config().Validate() = %v", i, err)
				}
				if pc.NoSenders != (s.Senders < 0) || !reflect.DeepEqual(pc.SourceIPs, cfg.SourceIPs) {
					t.Errorf("spec %d: Config() NoSenders %v, source IPs %v", i, pc.NoSenders, pc.SourceIPs)
				}
				cb += s.Clients
			}
		})
	}
	if a, _, _ := (Plan{Parts: 2}).Specs(cfg); a[0].RunID == func() uint64 { b, _, _ := (Plan{Parts: 2}).Specs(cfg); return b[0].RunID }() {
		t.Error("two plans share a run id; want a new one per run")
	}
	for _, p := range []Plan{{Parts: 0}, {Parts: 11}} {
		if _, _, err := p.Specs(cfg); !errors.Is(err, run.ErrUsage) {
			t.Errorf("Plan{Parts: %d}.Specs = %v; want a usage error", p.Parts, err)
		}
	}
	// 4 senders on one part of 2 clients do not fit.
	small := cfg
	small.Clients = 4
	if _, _, err := (Plan{Parts: 2, SenderParts: 1}).Specs(small); !errors.Is(err, run.ErrUsage) {
		t.Errorf("4 senders on one part of 2 clients: %v; want a usage error", err)
	}
}
