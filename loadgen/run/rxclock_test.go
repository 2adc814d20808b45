package run

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/relaytest"
)

// TestKernelClockKeepsInjectedDelay runs against a relay that delays every
// message by 20 ms: timed by kernel receive stamps the delay must still be
// there in full (no latency below it), and the report must say which clock
// it used; with --rx-timestamps=false it says user space.
func TestKernelClockKeepsInjectedDelay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive timestamps are Linux only")
	}
	const delay = 20 * time.Millisecond
	cfg := smallConfig(startRelay(t, &relaytest.Relay{Delay: delay}))
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Generator
	if g.Clock != client.RxClockKernel || g.KernelStamped < rep.LatencyMs.Count {
		t.Errorf("clock %q, %d kernel-stamped of %d latencies; want all from the kernel clock (warnings %q)", g.Clock, g.KernelStamped, rep.LatencyMs.Count, g.Warnings)
	}
	if min := rep.LatencyMs.Min; min < float64(delay)/1e6 {
		t.Errorf("latency min %.3f ms with the kernel clock; want ≥ the relay's %v delay", min, delay)
	}
	t.Logf("kernel clock, %v injected: p50 %.3f ms, p99 %.3f ms", delay, rep.LatencyMs.P50, rep.LatencyMs.P99)

	cfg.UserClock = true
	rep, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if g := rep.Generator; g.Clock != client.RxClockUser || g.KernelStamped != 0 {
		t.Errorf("UserClock: clock %q, %d kernel-stamped; want user space, none", g.Clock, g.KernelStamped)
	}
	if min := rep.LatencyMs.Min; min < float64(delay)/1e6 {
		t.Errorf("latency min %.3f ms with the user clock; want ≥ %v", min, delay)
	}
}
