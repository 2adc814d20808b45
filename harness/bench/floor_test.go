package bench

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// drain accepts connections on a loopback listener and discards what they
// send, as FloorDrainMain does in its own process.
func drain(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drainConns(ln, 0))
	return ln.Addr().String()
}

func TestWriteFloorCountsEveryWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fds, closeAll, err := dialFDs(ctx, drain(t), 20)
	defer closeAll()
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 66)
	// 2000 writes/s over 20 sockets: a burst every 10 ms; 300 ms measured
	// after 50 ms of warmup is 30 bursts of 20.
	res, err := writeFloor(ctx, fds, frame, 2000, 50*time.Millisecond, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Writes != 600 {
		t.Errorf("Writes = %d; want 600 (30 bursts × 20 sockets)", res.Writes)
	}
	if res.Short != 0 {
		t.Errorf("Short = %d; want 0 with a drain reading everything", res.Short)
	}
	if res.CPUSeconds <= 0 || res.CPUUsPerWrite <= 0 || res.Sockets != 20 || res.FrameBytes != 66 {
		t.Errorf("result %+v: want CPU time, CPU per write, 20 sockets and 66-byte frames", res)
	}
}

func TestWriteFloorRefusesUnpaceable(t *testing.T) {
	t.Parallel()
	if _, err := writeFloor(context.Background(), make([]int, 10), make([]byte, 66), 1e300, 0, time.Millisecond); err == nil || !strings.Contains(err.Error(), "too fast") {
		t.Fatalf("writeFloor at 1e300/s = %v; want a too-fast error", err)
	}
}

func TestFloorAt(t *testing.T) {
	t.Parallel()
	floor := []FloorResult{{Rate: 25000, CPUUsPerWrite: 10}, {Rate: 100000, CPUUsPerWrite: 8}, {Rate: 400000}}
	for _, tc := range []struct {
		perS float64
		want float64 // the rate of the floor chosen; 0 = none
	}{
		{25000, 25000},
		{5000, 25000},
		{49000, 25000},
		{51000, 100000},
		{1e6, 100000}, // 400k measured nothing
		{0, 0},
	} {
		got := FloorAt(floor, tc.perS)
		switch {
		case tc.want == 0 && got != nil:
			t.Errorf("FloorAt(%g) = %+v; want nil", tc.perS, *got)
		case tc.want != 0 && (got == nil || got.Rate != tc.want):
			t.Errorf("FloorAt(%g) = %+v; want the floor at %g", tc.perS, got, tc.want)
		}
	}
	if FloorAt(nil, 1000) != nil {
		t.Error("FloorAt(nil) != nil")
	}
}

func TestSummaryFloorTable(t *testing.T) {
	t.Parallel()
	res := Results{
		Floor: []FloorResult{{Sockets: 1000, FrameBytes: 66, Rate: 25000, Writes: 100000, CPUUsPerWrite: 10}, {Sockets: 1000, FrameBytes: 66, Rate: 100000, Writes: 400000, CPUUsPerWrite: 8}},
		Runs: []RunRecord{
			{Kind: "matrix", Server: "ours", Clients: 1000, Rate: 25, Size: 64, OfferedPerS: 25000, ServerUsage: ServerUsage{CPUUsPerDelivery: 15}},
			{Kind: "matrix", Server: "ours", Clients: 1000, Rate: 25, Size: 64, OfferedPerS: 25000, ServerUsage: ServerUsage{CPUUsPerDelivery: 13}},
			{Kind: "matrix", Server: "ours", Clients: 1000, Rate: 25, Size: 64, OfferedPerS: 25000, ServerUsage: ServerUsage{CPUUsPerDelivery: 99}},
			{Kind: "matrix", Server: "gws", Clients: 1000, Rate: 100, Size: 64, OfferedPerS: 100000, ServerUsage: ServerUsage{CPUUsPerDelivery: 12}},
			{Kind: "matrix", Server: "gws", Clients: 1000, Rate: 100, Size: 1024, OfferedPerS: 100000, ServerUsage: ServerUsage{CPUUsPerDelivery: 20}},
		},
	}
	md := Summary(res, Default(), nil)
	for _, want := range []string{
		"## Server CPU per delivery against the floor",
		"**10.00 µs** per write at 25k writes/s",
		"| ours | 1000 × 25 | 64 B | 25k | 15 (3) | **1.5×** |",  // median of 13, 15, 99 over the 25k floor
		"| gws | 1000 × 100 | 64 B | 100k | 12 (1) | **1.5×** |", // over the 100k floor
		"| gws | 1000 × 100 | 1024 B | 100k | 20 (1) | – |",      // not the floor's frame size
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}
