package cluster

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsbench/wsbench/internal/eventually"
)

// TestBroadcastAcrossNodes: clients spread over 3 nodes get every broadcast
// of every sender exactly once, in per-sender order, the sender included.
func TestBroadcastAcrossNodes(t *testing.T) {
	bus := startNATS(t, "127.0.0.1:0")
	nodes := []*testNode{startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL())}
	const perNode, msgs = 3, 50
	var clients []*wsClient
	for i := 0; i < perNode*len(nodes); i++ {
		clients = append(clients, dial(t, i, nodes[i%len(nodes)].url))
	}
	syncProbes(t, clients[0], clients)

	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < msgs; k++ {
				if err := c.send(msg(c.id, k)); err != nil {
					t.Errorf("client %d send: %v", c.id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		var errs []error
		for _, r := range clients {
			for _, s := range clients {
				errs = append(errs, checkRange(r, s.id, 0, msgs))
			}
		}
		return errors.Join(errs...)
	})
	for i, n := range nodes {
		st := n.node.Status()
		if !st.Connected || st.Published < perNode*msgs || st.Received < int64(perNode*msgs*(len(nodes)-1)) || st.Malformed != 0 {
			t.Errorf("node %d status %+v: want connected, ≥%d published, ≥%d received, 0 malformed", i, st, perNode*msgs, perNode*msgs*(len(nodes)-1))
		}
	}
}

// TestNodeKilled: the clients of a killed node reconnect to the others;
// clients of the surviving nodes lose nothing meanwhile, and after the
// reconnect everybody shares the room again.
func TestNodeKilled(t *testing.T) {
	bus := startNATS(t, "127.0.0.1:0")
	nodes := []*testNode{startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL())}
	var clients []*wsClient
	for i := 0; i < 6; i++ {
		clients = append(clients, dial(t, i, nodes[i%3].url))
	}
	survivors := []*wsClient{clients[0], clients[1], clients[3], clients[4]}
	victims := []*wsClient{clients[2], clients[5]}
	syncProbes(t, clients[0], clients)

	// Survivors send 0…199 while node 2 goes away.
	const during, after = 200, 20
	var wg sync.WaitGroup
	for _, c := range survivors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < during; k++ {
				if err := c.send(msg(c.id, k)); err != nil {
					t.Errorf("survivor %d send: %v", c.id, err)
					return
				}
				if k%20 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	nodes[2].stop()
	wg.Wait()
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		var errs []error
		for _, r := range survivors {
			for _, s := range survivors {
				errs = append(errs, checkRange(r, s.id, 0, during))
			}
		}
		return errors.Join(errs...)
	})

	// The victims were closed by the shutdown (1001) and reconnect to
	// the surviving nodes, as a client does.
	for i, v := range victims {
		eventually.True(t, 10*time.Second, 10*time.Millisecond, func() error {
			if !v.isClosed() {
				return fmt.Errorf("client %d still connected to the stopped node", v.id)
			}
			return nil
		})
		v.close()
		v.connect(nodes[i].url)
	}
	syncProbes(t, clients[0], victims)

	for _, c := range clients {
		for k := during; k < during+after; k++ {
			if err := c.send(msg(c.id, k)); err != nil {
				t.Fatalf("client %d send: %v", c.id, err)
			}
		}
	}
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		var errs []error
		for _, r := range clients {
			for _, s := range clients {
				errs = append(errs, checkRange(r, s.id, during, during+after))
			}
		}
		return errors.Join(errs...)
	})
}

// TestNATSLost: a node that loses NATS keeps serving its local members and
// says so in Status; when NATS is back the nodes share rooms again.
func TestNATSLost(t *testing.T) {
	// A port below the ephemeral range, so that no outgoing connection of
	// another process takes it while NATS is down.
	var bus *NATS
	var addr string
	eventually.True(t, 10*time.Second, time.Millisecond, func() error {
		addr = fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		var err error
		bus, err = StartNATS(addr, nil)
		return err
	})
	a, b := startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL())
	a1, a2, b1 := dial(t, 0, a.url), dial(t, 1, a.url), dial(t, 2, b.url)
	syncProbes(t, a1, []*wsClient{a1, a2, b1})

	reg := prometheus.NewRegistry()
	reg.MustRegister(a.node.Collector())
	if v := gauge(t, reg, "wsbench_cluster_nats_connected"); v != 1 {
		t.Errorf("wsbench_cluster_nats_connected = %v while connected; want 1", v)
	}
	bus.Shutdown()
	eventually.True(t, 10*time.Second, 10*time.Millisecond, func() error {
		if st := a.node.Status(); st.Connected || st.Health() != "nats: disconnected" {
			return fmt.Errorf("node a after NATS stopped: %+v (%s)", st, st.Health())
		}
		return nil
	})
	if v := gauge(t, reg, "wsbench_cluster_nats_connected"); v != 0 {
		t.Errorf("wsbench_cluster_nats_connected = %v after NATS stopped; want 0", v)
	}
	for k := 0; k < 10; k++ {
		if err := a1.send(msg(a1.id, k)); err != nil {
			t.Fatal(err)
		}
	}
	eventually.True(t, 10*time.Second, 10*time.Millisecond, func() error {
		return errors.Join(checkRange(a1, a1.id, 0, 10), checkRange(a2, a1.id, 0, 10))
	})

	bus2 := startNATS(t, addr)
	_ = bus2
	eventually.True(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, n := range []*testNode{a, b} {
			if st := n.node.Status(); !st.Connected || st.Health() != "nats: connected" {
				return fmt.Errorf("node not reconnected: %+v", st)
			}
		}
		return nil
	})
	// The subscription is restored on reconnect; probe until b1 hears a1.
	before := b1.probeCount()
	k := 100
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		k++
		if err := a1.send(msg(a1.id, -k)); err != nil {
			return err
		}
		if b1.probeCount() == before {
			return errors.New("b1 hears nothing from a1 after NATS came back")
		}
		return nil
	})
	for k := 10; k < 20; k++ {
		if err := a1.send(msg(a1.id, k)); err != nil {
			t.Fatal(err)
		}
	}
	eventually.True(t, 10*time.Second, 10*time.Millisecond, func() error {
		return errors.Join(checkRange(b1, a1.id, 10, 20), checkRange(a2, a1.id, 10, 20))
	})
}

// gauge returns the value of the metric name gathered from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not gathered", name)
	return 0
}
