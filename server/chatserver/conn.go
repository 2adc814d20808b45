package chatserver

import (
	"fmt"
	"net"
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
	idx    int         // position in the room's member list, guarded by room.mu
	zip    atomic.Bool // permessage-deflate agreed (set once the upgrade is written; frames queued before go uncompressed)

	// Idle parking (see poller), guarded by mu.
	pollID   uint64       // id in the poller, 0 before the first park
	polled   bool         // the socket is in the poller's epoll set
	lastRead atomic.Int64 // UnixNano of the last inbound bytes, for the silence sweep

	// Inbound rate limit (Config.MaxRate), reader goroutine only: a token
	// bucket holding up to one second's worth of messages.
	tokens     float64
	tokensTime int64 // UnixNano of the last refill

	mu sync.Mutex // guards the fields below

	// Write side (write.go, inline.go).
	queue    *qbuf // frames waiting for the writer (nil: none)
	spare    *qbuf // the writer's previous batch, reused while busy
	pongs    int   // pongs in queue (not yet taken by the writer)
	lastPong int   // index in queue.s of the newest of them
	writing  bool  // a writer goroutine is running
	// headPartial: queue.s[0] is the rest of a frame an inline write
	// began, so it must be written even if the backlog is dropped: a close
	// frame cannot follow half a frame.
	headPartial bool
	lastWrite   int64           // UnixNano when the last write began: the coalescing window's start (Config.WriteDelay)
	raw         syscall.RawConn // for inline writes, made at the first one
	noRaw       bool            // the socket has no RawConn (TLS): no inline writes

	// Read side (read.go): waiting in the poller without a reader goroutine.
	parked bool

	// Close sequence (close.go).
	close        closeStage    // how far our close frame has got
	closeWritten chan struct{} // closed when close reaches closeDone
	sock         sockState     // the socket's life: open, cut, dead
	force        *time.Timer   // cuts the socket if the close handshake does not end in time

	// How the connection ended, for the log line finish writes.
	sentCode   ws.StatusCode // close code we sent (0 none)
	sentReason string
	recvCode   ws.StatusCode // close code the peer sent (0 none or empty)
	recvReason string
	gotClose   bool
	endReason  string // why the connection ended

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
	if c.close != closeNone { // closed (shutdown, overflow) while upgrading: time the close from now
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
	c.sock = sockDead
	if c.force != nil {
		c.force.Stop()
	}
	putQ(c.queue)
	c.queue = nil
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
	c.sock = sockDead
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
