package run

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/payload"
	"github.com/wsbench/wsbench/loadgen/relaytest"
)

func startRelay(t *testing.T, r *relaytest.Relay) string {
	t.Helper()
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r.URL()
}

func smallConfig(url string) Config {
	return Config{
		URL: url, Clients: 5, Senders: 2, Rate: 100, Size: 64,
		Duration: time.Second, Warmup: 200 * time.Millisecond, Drain: 5 * time.Second,
		Ramp: 0, ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
	}
}

// TestFaultsAreCountedExactly runs against a relay that delays every
// message by 20 ms and drops, duplicates and swaps one measured message
// each; every receiver must see exactly those faults.
func TestFaultsAreCountedExactly(t *testing.T) {
	const delay = 20 * time.Millisecond
	relay := &relaytest.Relay{Delay: delay, Fault: func(h payload.Header) relaytest.Action {
		// 2 senders at 100/s: slot = sender + 2·seq; warmup is slots 0–19,
		// the window slots 20–119 (seq 10–59).
		switch {
		case h.Sender == 0 && h.Seq == 20:
			return relaytest.Drop
		case h.Sender == 1 && h.Seq == 25:
			return relaytest.Duplicate
		case h.Sender == 0 && h.Seq == 30:
			return relaytest.Hold // delivered after seq 31
		}
		return relaytest.Deliver
	}}
	cfg := smallConfig(startRelay(t, relay))
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	m := rep.Messages
	const receivers = 5
	want := struct{ sent, receivers, expected, delivered, lost, dup, reord int64 }{
		100, receivers, 100 * receivers, 100 * receivers, receivers, receivers, receivers,
	}
	got := struct{ sent, receivers, expected, delivered, lost, dup, reord int64 }{
		m.Sent, m.Receivers, m.Expected, m.Delivered, m.Lost, m.Duplicated, m.Reordered,
	}
	if got != want {
		t.Errorf("messages sent/receivers/expected/delivered/lost/dup/reordered = %+v; want %+v", got, want)
	}
	if min := rep.LatencyMs.Min; min < float64(delay)/1e6 {
		t.Errorf("latency min %.3f ms; want ≥ the relay's %v delay", min, delay)
	}
	if rep.LatencyMs.Count != 99*receivers {
		t.Errorf("latency count %d; want %d (first deliveries)", rep.LatencyMs.Count, 99*receivers)
	}
	if rep.FanoutMs.Count != 99 || rep.FanoutMs.Min < float64(delay)/1e6 {
		t.Errorf("fanout = %+v; want 99 broadcasts, each ≥ %v", rep.FanoutMs, delay)
	}
	if c := rep.Connections; c.Attempted != 5 || c.Established != 5 || c.Failed != 0 || c.Dropped != 0 || c.ConnectMs.Count != 5 {
		t.Errorf("connections = %+v; want 5 attempted and established", c)
	}
	if rep.Histograms.Latency == "" || rep.Histograms.Fanout == "" || rep.Histograms.Connect == "" {
		t.Error("report lacks an encoded histogram")
	}
}

func TestNoServerIsErrNoConnection(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := smallConfig("ws://" + addr + "/")
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrNoConnection) {
		t.Fatalf("Run(no server) error = %v; want ErrNoConnection", err)
	}
	if rep == nil || rep.Connections.Failed != 5 || rep.Connections.Established != 0 {
		t.Errorf("report connections = %+v; want 5 failed", rep.Connections)
	}
}

func TestCancelStillReports(t *testing.T) {
	t.Parallel()
	cfg := smallConfig(startRelay(t, &relaytest.Relay{}))
	cfg.Duration = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt once a second of the measured window has been logged.
	cfg.IntervalLog = writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte(`"phase":"measure"`)) && !bytes.Contains(p, []byte(`"sent":0,`)) {
			cancel()
		}
		return len(p), nil
	})
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Messages.Sent == 0 || rep.MeasuredS <= 0 || rep.MeasuredS >= 60 {
		t.Errorf("interrupted run: sent %d, measured %.1fs; want some sends and a shortened window", rep.Messages.Sent, rep.MeasuredS)
	}
	if !strings.Contains(strings.Join(rep.Generator.Warnings, "\n"), "interrupted") {
		t.Errorf("warnings %q; want one saying the run was interrupted", rep.Generator.Warnings)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := smallConfig("ws://127.0.0.1:1/")
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"good", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.URL = "" }, "--url is required"},
		{"http url", func(c *Config) { c.URL = "http://x/" }, "not a WebSocket URL"},
		{"zero clients", func(c *Config) { c.Clients = 0 }, "--clients 0"},
		{"senders above clients", func(c *Config) { c.Senders = 6 }, "--senders 6"},
		{"zero rate", func(c *Config) { c.Rate = 0 }, "--rate 0"},
		{"small size", func(c *Config) { c.Size = 8 }, "--size 8"},
		{"zero duration", func(c *Config) { c.Duration = 0 }, "--duration"},
		{"negative warmup", func(c *Config) { c.Warmup = -1 }, "--warmup"},
		{"empty window", func(c *Config) { c.Rate = 0.5; c.Duration = time.Second }, "no broadcast"},
		{"huge bitmaps", func(c *Config) { c.Clients = 20000; c.Rate = 1e6; c.Duration = time.Hour }, "GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("Validate() = %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v; want ErrUsage mentioning %q", err, tc.want)
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestDroppedReceiverIsExcluded kicks one client mid-window with 1008: it
// must be reported as dropped with its close code and left out of expected.
func TestDroppedReceiverIsExcluded(t *testing.T) {
	t.Parallel()
	relay := &relaytest.Relay{}
	cfg := smallConfig(startRelay(t, relay))
	cfg.Duration = 2 * time.Second
	kicked := false
	cfg.IntervalLog = writerFunc(func(p []byte) (int, error) {
		if !kicked && bytes.Contains(p, []byte(`"phase":"measure"`)) {
			kicked = relay.Kick(1008)
		}
		return len(p), nil
	})
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !kicked {
		t.Fatal("the measured phase was never logged, nobody was kicked")
	}
	c, m := rep.Connections, rep.Messages
	if c.Dropped != 1 || c.DropReasons["close 1008"] != 1 {
		t.Errorf("connections = %+v; want 1 dropped with close 1008", c)
	}
	if m.Receivers != 4 || m.Expected != 4*m.Sent || m.Lost != 0 {
		t.Errorf("messages = %+v; want 4 receivers, expected 4×sent, none lost", m)
	}
	if !strings.Contains(strings.Join(rep.Generator.Warnings, "\n"), "dropped") {
		t.Errorf("warnings %q; want one about the dropped connection", rep.Generator.Warnings)
	}
}

// TestLargeMessages sends 70,000-byte messages (64-bit frame lengths,
// pooled send buffers) and expects every one delivered.
func TestLargeMessages(t *testing.T) {
	t.Parallel()
	cfg := smallConfig(startRelay(t, &relaytest.Relay{}))
	cfg.Size = 70_000
	cfg.Rate = 20
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m := rep.Messages; m.Sent != 20 || m.Expected != 100 || m.Delivered != 100 || m.Lost != 0 || m.Foreign != 0 {
		t.Errorf("messages = %+v; want 20 sent, 100 delivered, none lost or foreign", m)
	}
}
