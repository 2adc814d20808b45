//go:build !race

package chatserver

import "testing"

// TestBroadcastAllocatesPerBroadcastNotPerDelivery: a broadcast to 20
// members, each written on its own (the writer goroutine restarted for every
// frame), allocates the encoded frame and nothing per receiver. A
// per-delivery allocation (a closure per writer start, a copy per receiver)
// would show as 20 or more. Counted over every goroutine of the process
// (runtime.MemStats), so the bound leaves room for pool refills after a GC.
// Not under -race, which allocates on its own.
func TestBroadcastAllocatesPerBroadcastNotPerDelivery(t *testing.T) {
	const members = 20
	r := newFanoutRig(t, members)
	broadcast := func() {
		r.broadcast(1)
		r.waitRead()
	}
	for range 50 { // warm the pools and the writers' queues
		broadcast()
	}
	allocs := testing.AllocsPerRun(300, broadcast)
	t.Logf("%.2f allocations per broadcast to %d members", allocs, members)
	if allocs > 3 {
		t.Fatalf("%.2f allocations per broadcast to %d members; want about 1 (the shared frame), not one per member", allocs, members)
	}
}
