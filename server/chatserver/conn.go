package chatserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/server/frame"
)

// conn is one upgraded WebSocket connection. Its reader goroutine (readLoop)
// owns the socket's read side and its final Close, and with Config.ParkIdle
// exists only while a message is being read (see poller); a writer goroutine
// (writeLoop) runs only while the send queue is non-empty. enqueue and
// closeWith may be called from any goroutine.
type conn struct {
	s      *Server
	nc     net.Conn
	in     inbound
	fr     *frame.Reader
	room   string
	ip     string
	opened time.Time
	idx    int // position in the room's member list, guarded by room.mu

	// Idle parking (see poller), guarded by mu.
	pollID   uint64       // id in the poller, 0 before the first park
	polled   bool         // the socket is in the poller's epoll set
	lastRead atomic.Int64 // UnixNano of the last inbound bytes, for the silence sweep

	// Inbound rate limit (Config.MaxRate), reader goroutine only: a token
	// bucket holding up to one second's worth of messages.
	tokens     float64
	tokensTime int64 // UnixNano of the last refill

	mu           sync.Mutex
	queue        *qbuf         // frames waiting for the writer (nil: none)
	spare        *qbuf         // the writer's previous batch, reused while busy
	pongs        int           // pongs in queue (not yet taken by the writer)
	lastPong     int           // index in queue.s of the newest of them
	writing      bool          // a writer goroutine is running
	closing      bool          // our close frame is queued (last in queue)
	closeTaken   bool          // the writer has taken the close frame
	closeWritten chan struct{} // closed once the close frame is written or writing failed
	closeSig     bool          // closeWritten is closed
	dead         bool          // the socket is closed; nothing more is queued
	sentCode     ws.StatusCode // close code we sent (0 none)
	sentReason   string
	recvCode     ws.StatusCode // close code the peer sent (0 none or empty)
	recvReason   string
	gotClose     bool
	endReason    string // why the connection ended, for the log
	force        *time.Timer
	parked       bool // waiting in the poller without a reader goroutine
	sockClosed   bool // cut closed the socket: never park again

	// Inline writes (inline.go), guarded by mu: the socket's RawConn, made
	// at the first inline write; noRaw when the socket has none (TLS).
	raw   syscall.RawConn
	noRaw bool
	// headPartial: queue.s[0] is the rest of a frame an inline write
	// began, so it must be written even if the backlog is dropped: a close
	// frame cannot follow half a frame.
	headPartial bool
	// lastWrite is when the last write to the socket began (UnixNano),
	// guarded by mu: the start of the coalescing window (Config.WriteDelay).
	lastWrite int64

	// c.readLoop and c.writeLoop as func values, made on first use (under
	// mu): "go c.writeLoop()" allocates a 16-byte closure at every start,
	// "go c.writeFn()" does not, so restarting the goroutines per message
	// costs no allocation. A connection that never sends or never receives
	// never pays for them.
	readFn, writeFn func()
}

// inbound reads the socket, first serving bytes the HTTP server had already
// buffered past the request, and extends the read deadline on every read:
// any inbound byte proves the peer alive.
type inbound struct {
	nc      net.Conn
	pending []byte
	idle    time.Duration // 0: no read deadline
	last    *atomic.Int64 // set to the time of every read that returned bytes
}

func (r *inbound) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		if len(r.pending) == 0 {
			r.pending = nil
		}
		return n, nil
	}
	if r.idle > 0 {
		r.nc.SetReadDeadline(time.Now().Add(r.idle))
	}
	n, err := r.nc.Read(p)
	if n > 0 && r.last != nil {
		r.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// attach gives a room member its upgraded socket and starts writing what
// was queued to it during the upgrade.
func (c *conn) attach(nc net.Conn, pending []byte) {
	c.in = inbound{nc: nc, pending: pending, idle: c.s.cfg.PongTimeout, last: &c.lastRead}
	c.lastRead.Store(time.Now().UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nc = nc
	if c.closing { // closed (shutdown, overflow) while upgrading: time the close from now
		if c.force != nil {
			c.force.Stop()
			c.force = nil
		}
		c.armForceLocked()
	}
	if c.queue != nil && len(c.queue.s) > 0 {
		c.startWriterLocked()
	}
}

// abandon removes a member whose upgrade failed.
func (c *conn) abandon() {
	c.s.hub.leave(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	if c.force != nil {
		c.force.Stop()
	}
	putQ(c.queue)
	c.queue = nil
}

// cut closes the socket, if there is one yet. A parked connection gets its
// reader goroutine back, which fails on the closed socket and finishes.
func (c *conn) cut() {
	c.mu.Lock()
	nc := c.nc
	c.sockClosed = true
	wasParked := c.parked
	c.parked = false
	var restart func()
	if wasParked {
		restart = c.readFnLocked()
	}
	c.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
	if restart != nil {
		go restart()
	}
}

// readFnLocked returns c.readLoop as a func value (see readFn); c.mu held.
func (c *conn) readFnLocked() func() {
	if c.readFn == nil {
		c.readFn = c.readLoop
	}
	return c.readFn
}

// park hands the idle connection to the poller and reports whether it did:
// the caller's goroutine must then return without touching c, since the
// poller may already have started the next reader. Parking happens only
// between messages, so a partly received message keeps its frame reader
// (and its read deadline); a parked connection holds no frame reader.
func (c *conn) park() bool {
	if c.s.poll == nil || len(c.in.pending) > 0 || (c.fr != nil && c.fr.InMessage()) {
		return false
	}
	c.mu.Lock()
	if c.sockClosed || c.dead {
		c.mu.Unlock()
		return false
	}
	c.parked = true // before arming: a readiness event may come at once
	fr := c.fr      // no frame reader held while idle: the next reader takes one
	c.fr = nil
	op := c.s.poll.prepare(c)
	c.mu.Unlock()
	if err := c.s.poll.arm(c, op); err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if addOp(op) {
			c.polled = false // not registered
		}
		if !c.parked {
			putReader(fr)
			return true // cut took over already
		}
		c.parked = false
		c.fr = fr
		return false // keep reading here; the read will fail if the socket is gone
	}
	putReader(fr)
	return true
}

// readerPool holds frame readers between messages: a parked connection
// needs none, which saves their size (~200 B) per idle connection.
var readerPool = sync.Pool{New: func() any { return new(frame.Reader) }}

func takeReader(src io.Reader, max int64) *frame.Reader {
	fr := readerPool.Get().(*frame.Reader)
	fr.Reset(src, max)
	return fr
}

func putReader(fr *frame.Reader) {
	if fr != nil {
		fr.Reset(nil, 0) // drop the reference to the connection
		readerPool.Put(fr)
	}
}

// startReading begins reading an attached connection: parked at once when
// it can be, else with a reader goroutine.
func (c *conn) startReading() {
	if !c.park() {
		go c.readLoop()
	}
}

// wake is the poller's: the parked connection is readable (data, EOF or an
// error), so it gets a reader goroutine again.
func (c *conn) wake() {
	c.mu.Lock()
	if !c.parked {
		c.mu.Unlock()
		return
	}
	c.parked = false
	restart := c.readFnLocked()
	c.mu.Unlock()
	go restart()
}

// dropIfSilent closes a parked connection whose peer has sent nothing for
// the pong timeout; connections with a reader goroutine have a read
// deadline for that instead.
func (c *conn) dropIfSilent(now int64) {
	c.mu.Lock()
	if !c.parked || now-c.lastRead.Load() < int64(c.s.cfg.PongTimeout) {
		c.mu.Unlock()
		return
	}
	if c.endReason == "" && !c.closing {
		c.endReason = fmt.Sprintf("silent for %v (pong timeout)", c.s.cfg.PongTimeout)
		c.s.m.dropped.WithLabelValues("pong_timeout").Inc()
	}
	c.mu.Unlock()
	c.cut()
}

// enqueue sends data frame f: written at once when the connection is idle
// and the kernel takes it (inline.go), else queued for the writer. It
// returns false when the connection is closing or closed. A full queue
// closes the connection as a slow consumer (1008) instead of waiting.
func (c *conn) enqueue(f []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.dead {
		return false
	}
	if !c.writing && c.nc != nil && c.s.cfg.InlineWrite && (c.queue == nil || len(c.queue.s) == 0) && c.windowOverLocked() {
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
	if c.closing || c.dead {
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

// windowOverLocked reports whether the coalescing window of the previous
// write has passed, and if so opens a new one from now: a frame within the
// window goes to the writer, which waits for the window's end (writeLoop).
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
	if c.closing || c.dead {
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

// beginCloseLocked queues our close frame as the last frame of the queue.
func (c *conn) beginCloseLocked(code ws.StatusCode, reason string) {
	c.closing = true
	c.closeWritten = make(chan struct{})
	c.sentCode, c.sentReason = code, reason
	push(&c.queue, frame.EncodeClose(code, reason))
	c.s.m.closeSent.WithLabelValues(codeLabel(uint16(code))).Inc()
	c.startWriterLocked()
}

// armForceLocked closes the socket if the peer has not completed the close
// handshake in time after a close we started.
func (c *conn) armForceLocked() {
	if c.force == nil {
		c.force = time.AfterFunc(c.s.cfg.WriteTimeout+c.s.cfg.CloseTimeout, c.cut)
	}
}

// closeWith starts a server-initiated close handshake (shutdown, ...). The
// close frame is written after the frames already queued, never in the
// middle of one.
func (c *conn) closeWith(code ws.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.dead {
		return
	}
	c.beginCloseLocked(code, reason)
	c.armForceLocked()
}

func (c *conn) signalCloseLocked() {
	if c.closeWritten != nil && !c.closeSig {
		c.closeSig = true
		close(c.closeWritten)
	}
}

// writeLoop writes queued frames in batches until the queue is empty.
func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	for {
		c.mu.Lock()
		if c.queue == nil || len(c.queue.s) == 0 || c.dead {
			c.writing = false
			putQ(c.queue) // idle connections hold no queue
			putQ(c.spare)
			c.queue, c.spare = nil, nil
			c.mu.Unlock()
			return
		}
		if d := c.s.cfg.WriteDelay; d > 0 && !c.closing {
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
		withClose := c.closing && !c.closeTaken
		if withClose {
			c.closeTaken = true
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
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.dead {
				c.endReason = "slow consumer: write deadline missed"
				c.sentCode, c.sentReason = 0, ""
				c.s.m.slowConsumer.WithLabelValues("deadline").Inc()
			}
			c.dead = true
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

// readLoop reads messages until the connection ends, then cleans up; with
// a poller it returns early instead, whenever the connection goes idle
// between messages (park), and the poller starts it again.
func (c *conn) readLoop() {
	if c.fr == nil {
		c.fr = takeReader(&c.in, c.s.cfg.MaxMessage)
	}
	parked := false
	defer func() {
		if !parked {
			c.finish()
		}
	}()
	for first := true; ; first = false {
		// Park between messages, never before the first read of a
		// goroutine: the poller started it because data is waiting.
		if !first {
			if parked = c.park(); parked {
				return
			}
		}
		op, p, err := c.fr.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		switch op {
		case ws.OpText, ws.OpBinary:
			if c.isClosing() {
				continue // after our close frame, data is discarded
			}
			if !c.allowMessage() {
				c.s.m.rateLimited.Inc()
				c.failClose(&frame.Error{Code: ws.StatusPolicyViolation, Reason: "message rate limit exceeded"})
				return
			}
			c.s.m.messagesIn.Inc()
			c.s.m.bytesIn.Add(float64(len(p)))
			if op == ws.OpText && c.s.cfg.AppHeartbeat && string(p) == AppPing {
				c.enqueue(c.s.appPong)
				continue
			}
			c.s.fanout.Publish(c.room, op, p)
		case ws.OpPing:
			if !c.isClosing() {
				c.enqueuePong(p)
			}
		case ws.OpClose:
			code, reason, perr := frame.ParseClose(p)
			c.mu.Lock()
			c.gotClose, c.recvCode, c.recvReason = true, code, reason
			c.mu.Unlock()
			if perr != nil {
				c.failClose(perr)
				return
			}
			// Echo the peer's code (an empty body gets an empty body),
			// or, when we started the close, this is the answer.
			c.closeFromReader(code, "")
			return
		}
	}
}

// allowMessage takes a token for one inbound data message, or reports
// that the connection sends faster than Config.MaxRate allows.
func (c *conn) allowMessage() bool {
	limit := c.s.cfg.MaxRate
	if limit <= 0 {
		return true
	}
	now := time.Now().UnixNano()
	if c.tokensTime == 0 {
		c.tokens = limit // a full bucket at the first message
	} else {
		c.tokens = min(limit, c.tokens+limit*float64(now-c.tokensTime)/1e9)
	}
	c.tokensTime = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// closeFromReader queues our close frame (unless one is queued already) and
// waits until it is written, so that finish closes TCP right after it: the
// server closes the TCP connection first.
func (c *conn) closeFromReader(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if !c.closing && !c.dead {
		c.beginCloseLocked(code, reason)
	}
	ch := c.closeWritten
	c.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(c.s.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// failClose answers a protocol violation: our close frame, a half-close,
// then discarding whatever the peer still sends until it closes or the
// close timeout passes, so that the peer reads our close code instead of a
// TCP reset.
func (c *conn) failClose(e *frame.Error) {
	c.mu.Lock()
	if c.endReason == "" {
		c.endReason = e.Reason
	}
	c.mu.Unlock()
	c.closeFromReader(e.Code, e.Reason)
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
	io.Copy(io.Discard, io.LimitReader(c.nc, 16<<20))
}

func (c *conn) readFailed(err error) {
	var fe *frame.Error
	if errors.As(err, &fe) {
		c.failClose(fe)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endReason != "" {
		return
	}
	reason := "read: " + err.Error()
	switch {
	case c.closing:
		reason = "peer did not answer our close in time"
		c.s.m.dropped.WithLabelValues("close_timeout").Inc()
	case errors.Is(err, os.ErrDeadlineExceeded):
		reason = fmt.Sprintf("silent for %v (pong timeout)", c.s.cfg.PongTimeout)
		c.s.m.dropped.WithLabelValues("pong_timeout").Inc()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		reason = "peer closed TCP without a close frame"
		c.s.m.dropped.WithLabelValues("eof").Inc()
	default:
		c.s.m.dropped.WithLabelValues("error").Inc()
	}
	c.endReason = reason
}

// finish removes the connection from its room and closes the socket.
func (c *conn) finish() {
	c.s.hub.leave(c)
	if c.s.poll != nil {
		c.s.poll.forget(c)
	}
	putReader(c.fr)
	c.fr = nil
	// The slot is free before the socket closes, so a client that has seen
	// our close can connect again at once, even at --max-conns.
	c.s.releaseIP(c.ip)
	c.s.nconns.Add(-1)
	c.nc.Close()
	c.mu.Lock()
	c.dead = true
	if !c.writing {
		putQ(c.queue)
		putQ(c.spare)
		c.queue, c.spare = nil, nil
	}
	if c.force != nil {
		c.force.Stop()
	}
	sent, sentReason, got, recv, recvReason, why := c.sentCode, c.sentReason, c.gotClose, c.recvCode, c.recvReason, c.endReason
	c.mu.Unlock()
	c.s.m.open.Dec()
	if why == "" {
		why = "close handshake"
	}
	recvS := "none"
	if got {
		recvS = fmt.Sprintf("%s %q", codeLabel(uint16(recv)), recvReason)
	}
	sentS := "none"
	if sent != 0 {
		sentS = fmt.Sprintf("%d %q", sent, sentReason)
	} else if got {
		sentS = "empty"
	}
	c.s.logf("ws close ip=%q room=%q sent=%s recv=%s why=%q dur=%s", c.ip, c.room, sentS, recvS, why, time.Since(c.opened).Round(time.Millisecond))
	c.s.wg.Done()
}
