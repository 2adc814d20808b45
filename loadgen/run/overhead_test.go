package run

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/relaytest"
)

// BenchmarkOverhead measures what the generator (plus the in-process
// relaytest relay, which adds no delay, and loopback TCP) contributes to
// latency, each case for 3 s: 100 clients (10 senders) at 50 and 200
// broadcasts/s (5,000 and 20,000 deliveries/s), and 1,000 clients (100
// senders) at 25/s, where reading 1,000 sockets per broadcast in turn
// dominates. Each case runs with receipt times from the kernel's receive
// stamps (clock=kernel, the default) and from the user-space clock as the
// reader parses each message (clock=user): the difference is the
// generator's own read-out. It reports the delivery latency p50/p99/p99.9
// in ms, how long the relay took to write one broadcast to every client
// (relay-fanout p50/p99: what a kernel stamp still sees, since the k-th
// client's copy is stamped when the relay writes it), how late the
// generator's sends left against their intended time (p50, p99, max: the
// send side's own contribution) and the CPU time of the whole test process
// (generator and relay). Run it with
//
//	go test -run '^$' -bench Overhead -benchtime 1x ./loadgen/run
func BenchmarkOverhead(b *testing.B) {
	for _, tc := range []struct {
		clients, senders int
		rate             float64
		user             bool
	}{
		{100, 10, 50, false}, {100, 10, 50, true}, {100, 10, 200, false}, {100, 10, 200, true},
		{1000, 100, 25, false}, {1000, 100, 25, true},
	} {
		clock := "kernel"
		if tc.user {
			clock = "user"
		}
		b.Run(fmt.Sprintf("clients=%d/rate=%g/clock=%s", tc.clients, tc.rate, clock), func(b *testing.B) {
			relay := &relaytest.Relay{}
			if err := relay.Start(); err != nil {
				b.Fatal(err)
			}
			defer relay.Close()
			for b.Loop() {
				cfg := Config{
					URL: relay.URL(), Clients: tc.clients, Senders: tc.senders, Rate: tc.rate, Size: 64,
					Duration: 3 * time.Second, Warmup: time.Second, Drain: 2 * time.Second,
					ConnectTimeout: 5 * time.Second, MaxSendLag: DefaultMaxSendLag, UserClock: tc.user,
				}
				relay.ResetFanouts()
				rep, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Messages.Lost != 0 {
					b.Errorf("lost %d of %d", rep.Messages.Lost, rep.Messages.Expected)
				}
				b.ReportMetric(rep.LatencyMs.P50, "p50-ms")
				b.ReportMetric(rep.LatencyMs.P99, "p99-ms")
				b.ReportMetric(rep.LatencyMs.P999, "p99.9-ms")
				f50, f99 := relay.FanoutTimes()
				b.ReportMetric(float64(f50)/1e6, "relay-fanout-p50-ms")
				b.ReportMetric(float64(f99)/1e6, "relay-fanout-p99-ms")
				if !tc.user && rep.Generator.Clock != "kernel" {
					b.Errorf("clock %q; want kernel (warnings %q)", rep.Generator.Clock, rep.Generator.Warnings)
				}
				b.ReportMetric(rep.Generator.SendLagMs.P50, "send-lag-p50-ms")
				b.ReportMetric(rep.Generator.SendLagMs.P99, "send-lag-p99-ms")
				b.ReportMetric(rep.Generator.MaxSendLagMs, "max-send-lag-ms")
				b.ReportMetric(rep.Generator.CPUSeconds, "process-cpu-s")
			}
		})
	}
}
