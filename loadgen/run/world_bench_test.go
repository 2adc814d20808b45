package run

import (
	"context"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
)

// BenchmarkWorldServers loads the tutorial-style Node `ws` chat servers of
// scripts/peers/node-chat with 1,000 clients (all senders) at 50
// broadcasts/s, 5 s measured after 1 s warmup, each with the flags that
// fit it: except-sender (--expect others), JSON envelope (--payload
// text), join-then-chat in one room and in 20 rooms (--on-open, --await,
// --template). Every case must lose nothing; it reports the latency
// percentiles and the deliveries per second. The server and the generator
// share the machine, so read the latencies as the pair's, not the
// server's alone. Run it with
//
//	go test -run '^$' -bench WorldServers -benchtime 1x ./loadgen/run
func BenchmarkWorldServers(b *testing.B) {
	join := func(rooms int) func(*Config) {
		return func(c *Config) {
			c.Template = `{"type":"msg","text":"{{token}}"}`
			c.OnOpen = []string{`{"type":"join","room":"r{{room}}"}`}
			c.Await = `"type":"joined"`
			c.Rooms = rooms
		}
	}
	for _, tc := range []struct {
		name, style string
		set         func(*Config)
	}{
		{"except-sender", "except-sender", func(c *Config) { c.Expect = ExpectOthers }},
		{"json", "json", func(c *Config) { c.Payload = PayloadText }},
		{"join", "join", join(1)},
		{"join-20-rooms", "join", join(20)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			addr := testenv.NodeChat(b, tc.style)
			for b.Loop() {
				cfg := Config{
					URL: "ws://" + addr + "/", Clients: 1000, Rate: 50, Size: 64,
					Duration: 5 * time.Second, Warmup: time.Second, Drain: 5 * time.Second,
					ConnectTimeout: 10 * time.Second, MaxSendLag: DefaultMaxSendLag,
				}
				tc.set(&cfg)
				rep, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if m := rep.Messages; m.Lost != 0 || m.Expected == 0 || rep.Connections.Dropped != 0 {
					b.Errorf("messages %+v, connections %+v; want nothing lost or dropped", m, rep.Connections)
				}
				b.ReportMetric(rep.LatencyMs.P50, "p50-ms")
				b.ReportMetric(rep.LatencyMs.P99, "p99-ms")
				b.ReportMetric(rep.LatencyMs.Max, "max-ms")
				b.ReportMetric(rep.Throughput.DeliveredPerS, "delivered/s")
				b.ReportMetric(float64(rep.Messages.Lost), "lost")
				b.ReportMetric(rep.Generator.MaxSendLagMs, "max-send-lag-ms")
			}
		})
	}
}
