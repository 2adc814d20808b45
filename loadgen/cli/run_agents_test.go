package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard/nats"
	"github.com/wsbench/wsbench/loadgen/shard/nats/natstest"
	"github.com/wsbench/wsbench/server/cluster"
)

func TestAgentUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, 0},
		{"no nats", nil, 2},
		{"bad url", []string{"--nats", "::"}, 2},
		{"bad id", []string{"--nats", "nats://127.0.0.1:1", "--id", "a.b"}, 2},
		{"extra", []string{"--nats", "nats://127.0.0.1:1", "x"}, 2},
		{"unknown flag", []string{"--bogus"}, 2},
		{"unreachable", []string{"--nats", "nats://127.0.0.1:1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if got := loadgen("agent", tc.args, &out, &errb); got != tc.want {
				t.Errorf("loadgen agent %q: = %d; want %d (stderr %q)", tc.args, got, tc.want, errb.String())
			}
		})
	}
}

func TestAgentFlagsValidate(t *testing.T) {
	t.Parallel()
	cfg := run.Config{Clients: 4}
	for _, tc := range []struct {
		name string
		f    agentFlags
		ok   bool
	}{
		{"off", agentFlags{}, true},
		{"on", agentFlags{Agents: 2, NATS: "nats://h:4222"}, true},
		{"nats without agents", agentFlags{NATS: "nats://h:4222"}, false},
		{"agents without nats", agentFlags{Agents: 2}, false},
		{"too many agents", agentFlags{Agents: 5, NATS: "nats://h:4222"}, false},
		{"sender agents", agentFlags{Agents: 2, NATS: "nats://h:4222", SenderAgents: 3}, false},
		{"bad url", agentFlags{Agents: 2, NATS: "nats://h:4222", URLs: []string{"http://x/"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.f.Validate(cfg)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, run.ErrUsage)) {
				t.Errorf("Validate(%+v) = %v; want ok=%v (usage error otherwise)", tc.f, err, tc.ok)
			}
		})
	}
}

// TestRunOnAgents: `loadgen --agents 2 --payload text` through the command
// line, against two agents on an embedded NATS server: one merged report
// of text messages, nothing lost, and the report file carries the agents'
// clocks (generator.agents) as loadgen/shard/nats documents.
func TestRunOnAgents(t *testing.T) {
	bus, err := cluster.StartNATS("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Shutdown)
	relay := &relaytest.Relay{}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.Close)
	natstest.StartAgents(t, bus.ClientURL(), 2)

	out := filepath.Join(t.TempDir(), "run.json")
	var stdout, stderr bytes.Buffer
	code := loadgen("run", []string{"--url", relay.URL(), "--clients", "6", "--senders", "2", "--rate", "20", "--duration", "1s",
		"--warmup", "0s", "--payload", "text", "--agents", "2", "--nats", bus.ClientURL(), "--out", out, "-q"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("loadgen --agents 2 = %d; want %d\nstderr:\n%s", code, ExitOK, stderr.String())
	}
	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Messages; m.Sent != 20 || m.Receivers != 6 || m.Delivered != 120 || m.Lost != 0 || m.Foreign != 0 || !rep.Valid {
		t.Errorf("merged report: messages %+v, valid %v; want 20 sent to 6 receivers, 120 delivered, none lost", m, rep.Valid)
	}
	if rep.Config.Payload != run.PayloadText {
		t.Errorf("payload %q; want the agents to have sent text (--payload text travels in the job)", rep.Config.Payload)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Generator struct {
			Agents []nats.Clock `json:"agents"`
		} `json:"generator"`
	}
	if err := json.Unmarshal(b, &back); err != nil || len(back.Generator.Agents) != 2 {
		t.Fatalf("--out generator.agents = %+v (%v); want both agents' clocks", back.Generator.Agents, err)
	}
	if c := back.Generator.Agents; c[0].Clients+c[1].Clients != 6 || c[0].Senders+c[1].Senders != 2 {
		t.Errorf("agents' shares %+v; want 6 clients and 2 senders in all", c)
	}
}
