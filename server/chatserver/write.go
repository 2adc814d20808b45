package chatserver

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/server/frame"
)

// The write side of a connection: a frame for an idle connection is written
// inline by the publisher (inline.go); otherwise it waits in the bounded
// send queue for the writer goroutine, which exists only while the queue is
// non-empty and writes everything queued in one writev. A full queue or a
// missed write deadline closes the connection as a slow consumer.

// enqueue sends data frame f: written at once when the connection is idle
// and the kernel takes it (inline.go), else queued for the writer. It
// returns false when the connection is closing or closed. A full queue
// closes the connection as a slow consumer (1008) instead of waiting.
func (c *conn) enqueue(f []byte, inline bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open() {
		return false
	}
	if inline && !c.writing && c.nc != nil && c.s.cfg.InlineWrite && (c.queue == nil || len(c.queue.s) == 0) && c.windowOverLocked() {
		n := c.writeInlineLocked(f)
		c.s.m.writesInline.Inc()
		if n > 0 {
			c.s.m.bytesOut.Add(float64(n))
		}
		if n == len(f) {
			return true
		}
		if n > 0 {
			f = f[n:] // the rest of a partly written frame goes first
			c.headPartial = true
			c.s.m.inlinePartial.Inc()
		}
	}
	return c.enqueueLocked(f)
}

func (c *conn) enqueueLocked(f []byte) bool {
	if !c.open() {
		return false
	}
	if c.queue != nil && len(c.queue.s) >= c.s.cfg.SendQueue {
		c.dropBacklogLocked()
		c.beginCloseLocked(ws.StatusPolicyViolation, "slow consumer")
		c.endReason = "slow consumer: send queue full"
		c.armForceLocked()
		c.s.m.slowConsumer.WithLabelValues("queue").Inc()
		return false
	}
	push(&c.queue, f)
	c.startWriterLocked()
	return true
}

// windowOverLocked reports whether the coalescing window (Config.WriteDelay)
// of the previous write has passed, and if so opens a new one from now: a
// frame within the window goes to the writer, which waits for the window's
// end (writeLoop).
func (c *conn) windowOverLocked() bool {
	d := c.s.cfg.WriteDelay
	if d <= 0 {
		return true
	}
	now := time.Now().UnixNano()
	if now-c.lastWrite < int64(d) {
		return false
	}
	c.lastWrite = now
	return true
}

// dropBacklogLocked empties the send queue, keeping only the rest of a
// frame that is already partly on the wire.
func (c *conn) dropBacklogLocked() {
	var head []byte
	if c.headPartial {
		head = c.queue.s[0]
	}
	putQ(c.queue)
	c.queue = nil
	c.pongs = 0
	if head != nil {
		push(&c.queue, head)
	}
}

// maxPendingPongs bounds the pongs waiting in one send queue: past it, or
// when the queue is full, a new ping's pong replaces the newest waiting one
// (RFC 6455 §5.5.3 allows answering only the most recent ping), so a ping
// flood costs at most this many queue slots and cannot get a client that
// reads closed as a slow consumer.
const maxPendingPongs = 16

// enqueuePong queues the pong answering a ping with payload p.
func (c *conn) enqueuePong(p []byte) {
	f := frame.Encode(ws.OpPong, p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open() {
		return
	}
	if c.pongs > 0 && (c.pongs >= maxPendingPongs || len(c.queue.s) >= c.s.cfg.SendQueue) && c.lastPong < len(c.queue.s) {
		c.queue.s[c.lastPong] = f
		return
	}
	if c.enqueueLocked(f) {
		c.pongs++
		c.lastPong = len(c.queue.s) - 1
	}
}

func (c *conn) startWriterLocked() {
	if !c.writing && c.nc != nil { // before attach, frames wait in the queue
		c.writing = true
		c.s.wg.Add(1)
		if c.writeFn == nil {
			c.writeFn = c.writeLoop
		}
		go c.writeFn()
	}
}

// writeLoop writes queued frames in batches until the queue is empty.
func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	for {
		c.mu.Lock()
		if c.queue == nil || len(c.queue.s) == 0 || c.sock == sockDead {
			c.writing = false
			putQ(c.queue) // idle connections hold no queue
			putQ(c.spare)
			c.queue, c.spare = nil, nil
			c.mu.Unlock()
			return
		}
		if d := c.s.cfg.WriteDelay; d > 0 && c.close == closeNone {
			// Wait out the window of the previous write, so that the
			// frames arriving meanwhile go in this write too.
			now := time.Now().UnixNano()
			if wait := c.lastWrite + int64(d) - now; wait > 0 {
				c.mu.Unlock()
				time.Sleep(time.Duration(wait))
				continue
			}
			c.lastWrite = now
		}
		batch := c.queue
		c.queue, c.spare = c.spare, nil
		c.pongs = 0
		c.headPartial = false
		withClose := c.close == closeQueued // the close frame is last: this batch ends with it
		if withClose {
			c.close = closeTaken
		}
		c.mu.Unlock()

		c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
		c.s.m.writesWriter.Inc()
		var n int64
		var err error
		if len(batch.s) == 1 {
			var m int
			m, err = c.nc.Write(batch.s[0])
			n = int64(m)
		} else {
			batch.bufs = batch.s
			n, err = batch.bufs.WriteTo(c.nc)
			batch.bufs = nil
		}
		c.s.m.bytesOut.Add(float64(n))
		c.mu.Lock()
		if c.spare == nil {
			clear(batch.s)
			batch.s = batch.s[:0]
			c.spare = batch
		} else {
			putQ(batch)
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && c.sock != sockDead {
				c.endReason = "slow consumer: write deadline missed"
				c.sentCode, c.sentReason = 0, ""
				c.s.m.slowConsumer.WithLabelValues("deadline").Inc()
				// Reset instead of FIN: a peer that does not read would
				// otherwise pin the socket's unsent bytes (up to the send
				// buffer) in the kernel until TCP gives up, for minutes.
				if tc, ok := c.nc.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
			c.sock = sockDead
			putQ(c.queue)
			putQ(c.spare)
			c.queue, c.spare = nil, nil
			c.signalCloseLocked()
			c.writing = false
			c.mu.Unlock()
			c.cut() // a frame may be cut: nothing more can be sent; a parked reader finishes
			return
		}
		if withClose {
			c.signalCloseLocked()
		}
		c.mu.Unlock()
	}
}
