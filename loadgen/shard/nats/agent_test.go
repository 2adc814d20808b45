package nats_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard/nats"
	"github.com/wsbench/wsbench/loadgen/shard/nats/natstest"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/cluster"
)

// startServer starts a chat server on loopback and returns its ws URL;
// with natsURL it is a cluster node on that bus (rooms shared over NATS).
func startServer(t *testing.T, natsURL string) string {
	t.Helper()
	cfg := chatserver.DefaultConfig()
	cfg.PingInterval, cfg.PongTimeout = 0, 0
	srv, err := chatserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var node *cluster.Node
	if natsURL != "" {
		if node, err = cluster.Join(cluster.Config{URL: natsURL}, srv, nil); err != nil {
			t.Fatal(err)
		}
		srv.SetFanout(node)
	}
	ln, err := cluster.ListenReusePort("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		if node != nil {
			_ = node.Close()
		}
	})
	return "ws://" + ln.Addr().String() + "/agents"
}

// TestTwoAgentsMerge: two agents and a controller produce one report whose
// counts are the sums of the agents' reports, with nothing lost.
func TestTwoAgentsMerge(t *testing.T) {
	bus, err := cluster.StartNATS("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Shutdown)
	url := startServer(t, "")
	natstest.StartAgents(t, bus.ClientURL(), 2)

	cfg := run.Config{
		URL: url, Clients: 20, Senders: 5, Rate: 100, Size: 64,
		Duration: 1 * time.Second, Warmup: 200 * time.Millisecond, Drain: 2 * time.Second,
		ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
	}
	c := &nats.Controller{NATS: bus.ClientURL(), Agents: 2, DiscoverWait: 10 * time.Second}
	out, err := c.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Report
	if len(out.Parts) != 2 || out.Parts[0] == nil || out.Parts[1] == nil {
		t.Fatalf("parts = %v; want 2 agent reports", out.Parts)
	}
	var sent, delivered, receivers, established, latCount int64
	var clients int
	for _, p := range out.Parts {
		sent += p.Messages.Sent
		delivered += p.Messages.Delivered
		receivers += p.Messages.Receivers
		established += p.Connections.Established
		latCount += p.LatencyMs.Count
		clients += p.Config.Clients
	}
	for _, tc := range []struct {
		name      string
		got, want int64
	}{
		{"sent", rep.Messages.Sent, sent},
		{"delivered", rep.Messages.Delivered, delivered},
		{"receivers", rep.Messages.Receivers, receivers},
		{"established", rep.Connections.Established, established},
		{"latency count", rep.LatencyMs.Count, latCount},
		{"clients", int64(rep.Config.Clients), int64(clients)},
		{"expected", rep.Messages.Expected, sent * receivers},
		{"lost", rep.Messages.Lost, 0},
		{"clients total", int64(clients), int64(cfg.Clients)},
		{"sent = rate × duration", sent, int64(cfg.Rate * cfg.Duration.Seconds())},
		{"delivered = sent × clients", delivered, sent * int64(cfg.Clients)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d; want %d", tc.name, tc.got, tc.want)
		}
	}
	if rep.FanoutMs.Count != sent {
		t.Errorf("fan-out count = %d; want one per broadcast (%d)", rep.FanoutMs.Count, sent)
	}
	// One machine, one clock: the true offset is 0, so every measured
	// offset lies within its bound and none is applied.
	for _, k := range out.Clocks {
		if math.Abs(k.OffsetMs) > k.BoundMs || k.Corrected {
			t.Errorf("agent %s: offset %.3f ms, bound %.3f ms, corrected %v; want |offset| ≤ bound, not corrected", k.ID, k.OffsetMs, k.BoundMs, k.Corrected)
		}
	}
	var buf bytes.Buffer
	if err := out.Write(&buf); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Generator struct {
			Agents []nats.Clock `json:"agents"`
		} `json:"generator"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Generator.Agents) != 2 {
		t.Errorf("written report: agents %v, %v; want 2", back.Generator.Agents, err)
	}
	if r, err := report.Read(bytes.NewReader(buf.Bytes())); err != nil || r.Messages.Sent != sent {
		t.Errorf("report.Read of the annotated report = %v, %v", r, err)
	}
}

func TestNoAgents(t *testing.T) {
	bus, err := cluster.StartNATS("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Shutdown)
	c := &nats.Controller{NATS: bus.ClientURL(), Agents: 1, DiscoverWait: 300 * time.Millisecond}
	cfg := run.Config{URL: "ws://127.0.0.1:1/", Clients: 1, Rate: 1, Size: 64, Duration: time.Second}
	if _, err := c.Run(context.Background(), cfg); err == nil || !errorsIs(err, nats.ErrNoAgents) {
		t.Errorf("Run without agents = %v; want nats.ErrNoAgents", err)
	}
}

func TestBestOffset(t *testing.T) {
	t.Parallel()
	// nats.Agent clock 5 ms ahead; the second sample has the smallest RTT.
	const ms = int64(time.Millisecond)
	samples := []nats.Sample{
		{T0: 0, T1: 9 * ms, T2: 9 * ms, T3: 8 * ms},              // rtt 8 ms, offset 5
		{T0: 100 * ms, T1: 106 * ms, T2: 106 * ms, T3: 102 * ms}, // rtt 2 ms, offset 5
		{T0: 200 * ms, T1: 210 * ms, T2: 210 * ms, T3: 204 * ms}, // rtt 4 ms, asymmetric: offset 8
	}
	off, bound, ok := nats.BestOffset(samples)
	if !ok || off != 5*time.Millisecond || bound != time.Millisecond {
		t.Errorf("BestOffset = %v ± %v, %v; want 5ms ± 1ms", off, bound, ok)
	}
	if _, _, ok := nats.BestOffset(nil); ok {
		t.Error("BestOffset(nil) ok; want false")
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// TestAgentsAcrossNodes: agent 0 sends and receives on node A, agent 1
// only receives on node B (every message crossing NATS): nothing is lost
// and each part's latency covers one path.
func TestAgentsAcrossNodes(t *testing.T) {
	bus, err := cluster.StartNATS("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Shutdown)
	a, b := startServer(t, bus.ClientURL()), startServer(t, bus.ClientURL())
	natstest.StartAgents(t, bus.ClientURL(), 2)
	c := &nats.Controller{NATS: bus.ClientURL(), Agents: 2, URLs: []string{a, b}, SenderAgents: 1}
	cfg := run.Config{
		URL: a, Clients: 10, Senders: 4, Rate: 50, Size: 64,
		Duration: 1 * time.Second, Warmup: 200 * time.Millisecond, Drain: 2 * time.Second,
		ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
	}
	out, err := c.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, parts := out.Report, out.Parts
	if parts[0].Config.Senders != 4 || parts[1].Config.Senders != 0 {
		t.Errorf("senders per agent = %d, %d; want 4, 0", parts[0].Config.Senders, parts[1].Config.Senders)
	}
	if rep.Messages.Sent != 50 || rep.Messages.Lost != 0 || rep.Messages.Delivered != 50*10 {
		t.Errorf("messages %+v; want 50 sent, 500 delivered, 0 lost", rep.Messages)
	}
	if parts[1].LatencyMs.Count != 50*5 {
		t.Errorf("agent on node B recorded %d latencies; want %d (all across NATS)", parts[1].LatencyMs.Count, 50*5)
	}
	t.Logf("local p50 %.3f ms p99 %.3f ms; across NATS p50 %.3f ms p99 %.3f ms",
		parts[0].LatencyMs.P50, parts[0].LatencyMs.P99, parts[1].LatencyMs.P50, parts[1].LatencyMs.P99)
}
