package pipe

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard"
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

// TestProcsWorld: the real-world-server options travel to the workers and
// merge exactly, against chat servers written as tutorials write them
// (scripts/peers/node-chat): lost 0 with the flags that fit each, and the
// counts that only hold when every part applied them.
func TestProcsWorld(t *testing.T) {
	small := func(url string) run.Config {
		return run.Config{
			URL: url, Clients: 20, Senders: 10, Rate: 100, Size: 64,
			Duration: 1500 * time.Millisecond, Warmup: 300 * time.Millisecond, Drain: 5 * time.Second,
			ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
		}
	}
	for _, tc := range []struct {
		name, style string
		args        []string
		world       run.World
		unexpected  bool // every own copy arrives, unexpected under --expect others
	}{
		{"except-sender, --expect others, text", "except-sender", nil,
			run.World{Expect: run.ExpectOthers, Payload: run.PayloadText, Header: []string{"X-User: u{{client}}"}}, false},
		{"JSON envelope, --template", "json", nil,
			run.World{Template: `{"type":"msg","text":"{{token}}"}`}, false},
		{"echoing server, --expect others", "keepalive", []string{"--keepalive-ms", "60000"},
			run.World{Expect: run.ExpectOthers}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := small("ws://" + testenv.NodeChat(t, tc.style, tc.args...) + "/")
			cfg.World = tc.world
			rep, err := Run(context.Background(), cfg, 3, selfWorker)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			m := rep.Messages
			owed := m.Sent * int64(cfg.Clients)
			if tc.world.Expect == run.ExpectOthers {
				owed -= m.Sent // no sender is owed its own copy
			}
			if m.Sent != 150 || m.Expected != owed || m.Delivered != owed || m.Lost != 0 || m.Duplicated != 0 || m.Foreign != 0 || rep.LatencyMs.Count != owed {
				t.Errorf("messages = %+v, latency count %d; want 150 sent, %d expected and delivered once, none lost or foreign", m, rep.LatencyMs.Count, owed)
			}
			if want := map[bool]int64{true: m.Sent, false: 0}[tc.unexpected]; m.Unexpected != want {
				t.Errorf("unexpected = %d; want %d", m.Unexpected, want)
			}
			if rep.Config.Procs != 3 || rep.Config.Expect != tc.world.Expect || (tc.world.Template != "") != (rep.Config.Template != "") || !rep.Valid {
				t.Errorf("config %+v, valid %v; want 3 procs and the world options recorded", rep.Config, rep.Valid)
			}
		})
	}
	t.Run("rooms are refused", func(t *testing.T) {
		cfg := small("ws://127.0.0.1:1/{{room}}")
		cfg.Rooms = 2
		if _, err := Run(context.Background(), cfg, 2, selfWorker); !errors.Is(err, run.ErrUsage) || !errors.Is(err, shard.ErrRooms) {
			t.Errorf("Run with --rooms 2 = %v; want a usage error saying rooms are not carried", err)
		}
	})
}
