package cluster

import (
	"testing"
	"time"
)

func TestDbg(t *testing.T) {
	bus := startNATS(t, "127.0.0.1:0")
	ns := []*testNode{startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL()), startNode(t, bus.ClientURL())}
	var cs []*wsClient
	for i := 0; i < 9; i++ {
		cs = append(cs, dial(t, i, ns[i%3].url))
	}
	syncProbes(t, cs[0], cs)
	for _, c := range cs {
		go func() {
			for k := 0; k < 50; k++ {
				c.send(msg(c.id, k))
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	for _, c := range cs {
		t.Logf("%d: %v %v %v", c.id, c.seqs(0), c.seqs(1), c.seqs(2))
	}
}
