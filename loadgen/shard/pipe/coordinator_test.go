package pipe

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/run"
)

const workerEnv = "WSBENCH_PROCS_TEST_WORKER"

// TestMain lets the test binary act as a worker process.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(WorkerMain(context.Background(), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func selfWorker() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	return cmd
}

// TestProcsMergeAcrossWorkers runs 3 workers against one relay: every
// receiver in every worker must get every broadcast of every worker.
func TestProcsMergeAcrossWorkers(t *testing.T) {
	relay := &relaytest.Relay{}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	cfg := run.Config{
		URL: relay.URL(), Clients: 7, Senders: 2, Rate: 50, Size: 48,
		Duration: time.Second, Warmup: 100 * time.Millisecond, Drain: 2 * time.Second,
		ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
	}
	rep, err := Run(context.Background(), cfg, 3, selfWorker)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	m := rep.Messages
	if m.Sent != 50 || m.Receivers != 7 || m.Expected != 350 || m.Delivered != 350 || m.Lost != 0 || m.Duplicated != 0 {
		t.Errorf("messages = %+v; want 50 sent, 7 receivers, 350 expected and delivered, none lost", m)
	}
	if rep.Config.Procs != 3 || rep.Config.Clients != 7 || rep.Config.Senders != 2 || rep.Config.Rate != 50 {
		t.Errorf("config = %+v; want 3 procs, 7 clients, 2 senders, rate 50", rep.Config)
	}
	if rep.LatencyMs.Count != 350 || rep.FanoutMs.Count != 50 {
		t.Errorf("latency count %d, fanout count %d; want 350 and 50", rep.LatencyMs.Count, rep.FanoutMs.Count)
	}
}

func TestProcsNoServer(t *testing.T) {
	cfg := run.Config{
		URL: "ws://127.0.0.1:1/", Clients: 2, Rate: 10, Size: 48,
		Duration: time.Second, ConnectTimeout: time.Second,
	}
	_, err := Run(context.Background(), cfg, 2, selfWorker)
	if err == nil {
		t.Fatal("Run against no server succeeded")
	}
}
