package run

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

// integrationConfig is the small load of the integration tests: 50
// clients, 100 broadcasts/s, 2 s measured.
func integrationConfig(url string) Config {
	return Config{
		URL: url, Clients: 50, Senders: 10, Rate: 100, Size: 64,
		Duration: 2 * time.Second, Warmup: 500 * time.Millisecond, Drain: 5 * time.Second,
		Ramp: 0, ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
	}
}

// checkSane asserts zero loss and the counts a 50-client run must have.
func checkSane(t *testing.T, rep *report.Report) {
	t.Helper()
	m := rep.Messages
	if m.Sent != 200 || m.Receivers != 50 || m.Expected != 200*50 || m.Delivered != m.Expected || m.Lost != 0 || m.Duplicated != 0 || m.Reordered != 0 {
		t.Errorf("messages = %+v; want 200 sent to 50 receivers, all delivered once and in order", m)
	}
	if rep.LatencyMs.Count != m.Expected || rep.LatencyMs.Min <= 0 || rep.FanoutMs.Count != 200 {
		t.Errorf("latency %+v fanout %+v; want %d latencies and 200 fan-outs", rep.LatencyMs, rep.FanoutMs, m.Expected)
	}
	if c := rep.Connections; c.Established != 50 || c.Dropped != 0 {
		t.Errorf("connections = %+v; want 50 established, none dropped", c)
	}
}

func TestAgainstChatServer(t *testing.T) {
	cfg := chatserver.DefaultConfig()
	cfg.PushInterval = 200 * time.Millisecond // foreign messages must be ignored
	addr := chattest.Start(t, cfg, t.Logf)
	rep, err := Run(context.Background(), integrationConfig("ws://"+addr+"/room"))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkSane(t, rep)
	if rep.Messages.Foreign == 0 {
		t.Error("foreign = 0; want the server's pushes counted as foreign")
	}
}

var listening = regexp.MustCompile(`listening on (\S+:\d+)`)

func TestAgainstNodeWS(t *testing.T) {
	node, dir := testenv.NodeWS(t)
	cmd := exec.Command(node, filepath.Join(dir, "server.js"), "--port", "0", "--host", "127.0.0.1", "--push-interval-ms", "300")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("node server did not print its address within 20 s")
	}
	rep, err := Run(context.Background(), integrationConfig("ws://"+a+"/"))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkSane(t, rep)
	if rep.Messages.Foreign == 0 {
		t.Error("foreign = 0; want node's push-timer texts counted as foreign")
	}
}
