// Package natstest runs loadgen agents (loadgen/shard/nats) inside a test,
// for the tests of the transport and of the command line that drives it.
package natstest

import (
	"context"
	"sync"
	"testing"

	"github.com/wsbench/wsbench/loadgen/shard/nats"
)

// StartAgents serves n agents on the NATS server at natsURL until t ends;
// the cleanup stops them and waits for them (a run in progress is
// interrupted and still reports).
func StartAgents(t testing.TB, natsURL string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		a := &nats.Agent{NATS: natsURL}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Serve(ctx); err != nil {
				t.Errorf("agent: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}
