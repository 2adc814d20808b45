package run

import (
	"context"
	"os"
	"testing"

	"github.com/wsbench/wsbench/loadgen/relaytest"
)

// TestServerCPUPerDelivery points --server-pid at this process, which runs
// the relay (and the generator): the report must carry its CPU time over
// the window and a positive cost per delivery.
func TestServerCPUPerDelivery(t *testing.T) {
	cfg := smallConfig(startRelay(t, &relaytest.Relay{}))
	cfg.ServerPID = os.Getpid()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Server
	if s == nil || s.PID != os.Getpid() || s.CPUSeconds <= 0 || s.CPUUsPerDelivery <= 0 {
		t.Fatalf("report server = %+v; want this process's CPU time over the window and µs per delivery", s)
	}
	if want := s.CPUSeconds * 1e6 / float64(rep.Messages.Delivered); s.CPUUsPerDelivery != want {
		t.Errorf("cpu_us_per_delivery %v; want cpu_s·1e6/delivered = %v", s.CPUUsPerDelivery, want)
	}
	cfg.ServerPID = 0
	if rep, err := Run(context.Background(), cfg); err != nil || rep.Server != nil {
		t.Errorf("without a pid: server = %+v, %v; want none", rep.Server, err)
	}
}
