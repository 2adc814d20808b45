package cluster

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/server/chatserver"
)

// TestRunSharedPort: two nodes started as the server command does (the
// first embeds NATS), sharing one port with SO_REUSEPORT; clients dialling
// that port share the room whichever node the kernel picks.
func TestRunSharedPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := chatserver.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.PingInterval, cfg.PongTimeout = 0, 0
	cfg.AppHeartbeat = false
	cfg.SendQueue = 1 << 12
	type started struct {
		addr net.Addr
		node *Node
	}
	start := func(o Options, cfg chatserver.Config) (started, chan error) {
		addrs, nodes := make(chan net.Addr, 1), make(chan *Node, 1)
		errc := make(chan error, 1)
		go func() {
			errc <- Run(ctx, cfg, o, t.Logf, func(a net.Addr) { addrs <- a }, func(n *Node) { nodes <- n })
		}()
		var s started
		for s.addr == nil || s.node == nil {
			select {
			case s.addr = <-addrs:
			case s.node = <-nodes:
			case err := <-errc:
				t.Fatalf("Run: %v", err)
			}
		}
		return s, errc
	}
	a, errA := start(Options{Embed: "127.0.0.1:0", ReusePort: true}, cfg)
	cfgB := cfg
	cfgB.Addr = a.addr.String()
	b, errB := start(Options{Cluster: a.node.Status().URL, ReusePort: true}, cfgB)
	if b.addr.String() != a.addr.String() {
		t.Errorf("node b listens on %v; want the shared %v", b.addr, a.addr)
	}
	// Run wires the bus state into the server's /healthz and /metrics.
	for path, want := range map[string]string{"/healthz": "nats: connected", "/metrics": "wsbench_cluster_nats_connected 1"} {
		resp, err := http.Get("http://" + a.addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%.400s", path, resp.StatusCode, want, body)
		}
	}
	var clients []*wsClient
	for i := 0; i < 6; i++ {
		clients = append(clients, dial(t, i, "ws://"+a.addr.String()))
	}
	syncProbes(t, clients[0], clients)
	for _, c := range clients {
		for k := 0; k < 10; k++ {
			if err := c.send(msg(c.id, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		var errs []error
		for _, r := range clients {
			for _, s := range clients {
				errs = append(errs, checkRange(r, s.id, 0, 10))
			}
		}
		return errors.Join(errs...)
	})
	t.Logf("node a relayed %d, node b relayed %d messages of the other node", a.node.Status().Received, b.node.Status().Received)
	for _, c := range clients {
		c.close()
	}
	cancel()
	for _, errc := range []chan error{errB, errA} {
		if err := <-errc; err != nil {
			t.Errorf("Run returned %v; want nil after cancel", err)
		}
	}
}
