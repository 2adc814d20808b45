package chatserver

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// drain reads and discards c's frames until the test ends, so the member
// never becomes a slow consumer itself.
func drain(t *testing.T, c *client) {
	done := make(chan struct{})
	t.Cleanup(func() { c.nc.Close(); <-done })
	go func() {
		defer close(done)
		for {
			if _, err := c.read(time.Minute); err != nil {
				return
			}
		}
	}()
}

// TestInlinePartialWriteKeepsOrder: a frame larger than the receiver's
// socket buffers is written partly inline and finished by the writer; the
// frames after it wait behind its rest, and the receiver gets every frame
// whole and in order.
func TestInlinePartialWriteKeepsOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxMessage = 8 << 20; c.SocketBuffer = 4096 })
	recv := dial(t, s, "/order")
	sender := dial(t, s, "/order")
	waitMembers(t, s, "/order", 2)
	drain(t, sender)

	sizes := []int{4 << 20, 10, 300 << 10, 1, 2 << 20, 64}
	for i, n := range sizes {
		sender.write(masked(true, 0, ws.OpBinary, bytes.Repeat([]byte{byte(i + 1)}, n)))
	}
	// Read only once the server has had to stop part-way through a frame.
	eventually.True(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := metric(t, s, "wsbench_inline_partial_writes_total"); got == 0 {
			return fmt.Errorf("no partial inline write yet")
		}
		return nil
	})
	for i, n := range sizes {
		f, err := recv.readData(10 * time.Second)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if want := bytes.Repeat([]byte{byte(i + 1)}, n); f.Header.OpCode != ws.OpBinary || !bytes.Equal(f.Payload, want) {
			t.Fatalf("frame %d: op %v, %d bytes starting %v; want %d bytes of %d", i, f.Header.OpCode, len(f.Payload), f.Payload[:min(4, len(f.Payload))], n, i+1)
		}
	}
}

// TestInlinePartialWriteThenSlowConsumer: when the queue overflows behind
// a frame that is already partly on the wire, the backlog is dropped but
// that frame is finished before the 1008 close frame, so the receiver
// still reads a well-formed stream.
func TestInlinePartialWriteThenSlowConsumer(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxMessage = 8 << 20; c.SocketBuffer = 4096; c.SendQueue = 2 })
	slow := dial(t, s, "/drop")
	sender := dial(t, s, "/drop")
	waitMembers(t, s, "/drop", 2)
	drain(t, sender)

	big := bytes.Repeat([]byte{7}, 4<<20)
	sender.write(masked(true, 0, ws.OpBinary, big))
	eventually.True(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := metric(t, s, "wsbench_inline_partial_writes_total"); got == 0 {
			return fmt.Errorf("no partial inline write yet")
		}
		return nil
	})
	for n := 0; metric(t, s, `wsbench_slow_consumer_closes_total{reason="queue"}`) == 0; n++ {
		if n == 100 {
			t.Fatal("no slow consumer close after 100 more messages")
		}
		sender.send(ws.OpBinary, "after")
		time.Sleep(time.Millisecond)
	}
	f, err := slow.readData(10 * time.Second)
	if err != nil {
		t.Fatalf("the partly written frame: %v", err)
	}
	if f.Header.OpCode != ws.OpBinary || !bytes.Equal(f.Payload, big) {
		t.Fatalf("the partly written frame arrived as op %v with %d bytes; want the whole %d-byte message", f.Header.OpCode, len(f.Payload), len(big))
	}
	if code, reason := slow.expectClose(10 * time.Second); code != 1008 || reason != "slow consumer" {
		t.Fatalf("close after the frame = %d %q; want 1008 \"slow consumer\"", code, reason)
	}
}

// TestOverflowKeepsPartlyWrittenFrame: the backlog dropped at a queue
// overflow keeps the rest of a frame an inline write began, ahead of the
// close frame. (Usually the writer has already taken that rest; this is
// the window before it does, set up directly.)
func TestOverflowKeepsPartlyWrittenFrame(t *testing.T) {
	cfg := testConfig()
	cfg.SendQueue = 3
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{s: s} // not attached: nothing is written, frames stay queued
	rest := []byte("rest of a frame")
	c.mu.Lock()
	defer c.mu.Unlock()
	push(&c.queue, rest)
	c.headPartial = true
	for range cfg.SendQueue - 1 {
		if !c.enqueueLocked([]byte("queued")) {
			t.Fatal("enqueue refused below the bound")
		}
	}
	if c.enqueueLocked([]byte("overflow")) {
		t.Fatal("enqueue past the bound accepted")
	}
	if c.force != nil {
		c.force.Stop()
	}
	q := c.queue.s
	if len(q) != 2 || !bytes.Equal(q[0], rest) {
		t.Fatalf("queue after overflow = %q; want the partly written frame, then the close frame", q)
	}
	if op := ws.OpCode(q[1][0] & 0x0f); op != ws.OpClose {
		t.Fatalf("last queued frame has opcode %v; want close", op)
	}
}

// TestWriteDelayCoalesces: frames that come within --write-delay of a
// connection's previous write go out together in one writev, in order;
// with no window each goes out inline by itself.
func TestWriteDelayCoalesces(t *testing.T) {
	t.Parallel()
	const msgs = 10
	for _, tc := range []struct {
		name      string
		delay     time.Duration
		minWrites float64
		maxWrites float64
	}{
		// Two members each get every message.
		{"no window: one inline write per frame", 0, 2 * msgs, 2 * msgs},
		{"200ms window: the first inline, the rest in one batch", 200 * time.Millisecond, 4, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, func(c *Config) { c.WriteDelay = tc.delay; c.InlineAfter = 0 })
			recv := dial(t, s, "/w")
			sender := dial(t, s, "/w")
			waitMembers(t, s, "/w", 2)
			waitAttachedIdle(t, s, "/w")
			var burst []byte
			for i := range msgs {
				burst = append(burst, masked(true, 0, ws.OpText, []byte{'a' + byte(i)})...)
			}
			sender.write(burst) // one TCP write: all within the window
			for _, c := range []*client{recv, sender} {
				for i := range msgs {
					f, err := c.readData(5 * time.Second)
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if string(f.Payload) != string(rune('a'+i)) {
						t.Fatalf("message %d = %q; want %q", i, f.Payload, string(rune('a'+i)))
					}
				}
			}
			writes := metric(t, s, `wsbench_socket_writes_total{path="inline"}`) + metric(t, s, `wsbench_socket_writes_total{path="writer"}`)
			if writes < tc.minWrites || writes > tc.maxWrites {
				t.Fatalf("%v socket writes for %d deliveries; want %v to %v", writes, 2*msgs, tc.minWrites, tc.maxWrites)
			}
		})
	}
}

// TestInlineOnlyWhenNotBusy: a fan-out that follows the previous one
// within --inline-after goes to the writer goroutines instead of being
// written inline, so that closely following broadcasts are batched.
func TestInlineOnlyWhenNotBusy(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.InlineAfter = time.Hour })
	recv := dial(t, s, "/busy")
	sender := dial(t, s, "/busy")
	waitMembers(t, s, "/busy", 2)
	for i := range 3 {
		sender.send(ws.OpText, "m")
		for _, c := range []*client{recv, sender} {
			if _, err := c.readData(5 * time.Second); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	}
	// The first fan-out may go inline (nothing published for an hour
	// before it: the server has just started), the next two must not.
	if got := metric(t, s, `wsbench_socket_writes_total{path="inline"}`); got > 2 {
		t.Errorf("%v inline writes; want at most the first fan-out's 2", got)
	}
	if got := metric(t, s, `wsbench_socket_writes_total{path="writer"}`); got < 4 {
		t.Errorf("%v writer writes; want at least 4 (two fan-outs to two members)", got)
	}
}

// waitAttachedIdle waits until every member of room has its socket (a
// member joins before its upgrade ends, and frames for it wait in the
// queue until then) and no writer running, so that the next frame can go
// inline.
func waitAttachedIdle(t *testing.T, s *Server, room string) {
	t.Helper()
	eventually.True(t, 5*time.Second, time.Millisecond, func() error {
		for _, c := range s.hub.snapshot(room, nil) {
			c.mu.Lock()
			idle := c.nc != nil && !c.writing
			c.mu.Unlock()
			if !idle {
				return fmt.Errorf("a member of %q is not attached and idle yet", room)
			}
		}
		return nil
	})
}

// TestInlineWaitsForRoomToFit checks the second half of the inline rule: a
// fan-out goes inline only when the idle gap before it is at least as long
// as the last inline fan-out took, so a large room's inline fan-out (which
// holds its publisher for every member's write) cannot run into the next
// broadcast; a queued fan-out does not change the estimate.
func TestInlineWaitsForRoomToFit(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.InlineAfter = time.Millisecond })
	publish := func() bool {
		inline, start := s.beginPublish()
		s.endPublish(inline, start)
		return inline
	}
	quietFor := func(d time.Duration) { s.lastPublishEnd.Store(time.Now().Add(-d).UnixNano()) }

	quietFor(time.Second)
	s.lastInlineTook.Store(int64(time.Hour))
	if publish() {
		t.Fatal("inline after a 1 s gap although the last inline fan-out took an hour")
	}
	if got := time.Duration(s.lastInlineTook.Load()); got != time.Hour {
		t.Fatalf("a queued fan-out changed the inline estimate to %v", got)
	}

	quietFor(time.Second)
	s.lastInlineTook.Store(int64(time.Millisecond))
	if !publish() {
		t.Fatal("queued after a 1 s gap although the last inline fan-out took 1 ms")
	}
	if got := time.Duration(s.lastInlineTook.Load()); got <= 0 || got >= time.Second {
		t.Fatalf("inline fan-out recorded as taking %v", got)
	}

	quietFor(0)
	s.lastInlineTook.Store(0)
	if publish() {
		t.Fatal("inline with no gap since the last fan-out (below --inline-after)")
	}
}
