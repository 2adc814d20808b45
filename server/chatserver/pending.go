package chatserver

import (
	"container/list"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pendingSet holds the TCP connections the HTTP server has accepted and not
// handed over to a WebSocket: page views, scrapes, handshakes in progress,
// idle keep-alives. It bounds them to Config.MaxPending, so that a
// connection flood cannot use up file descriptors, without letting the
// flood lock everyone else out (a slowloris):
//
//   - A full set makes room by closing the connection that has waited
//     longest for request bytes (a new connection that has not sent its
//     headers, or an idle keep-alive), never by refusing the newcomer. An
//     attacker holding every slot thus only shortens how long each of its
//     connections lives; a client that sends its request at once is
//     reading its answer long before MaxPending newer arrivals push it out.
//     Among the oldest, a connection the server has already tried to read
//     (and found its request unfinished) goes before one whose goroutine
//     has not run yet: on a busy CPU, accepts can run ahead of the reads,
//     and a client whose complete request sits unread has not stalled.
//     Only when every held connection is being served (its request read,
//     a handler running) is the newcomer closed instead.
//   - A new connection must have sent its request headers within
//     Config.HandshakeTimeout of its accept, however it trickles them:
//     a deadline from the accept, not from when net/http got round to
//     reading, nor renewed by bytes. Later requests on a keep-alive
//     connection get net/http's ReadHeaderTimeout from their first byte.
//
// Its methods are called from net/http's ConnState hook, by the accept loop
// (StateNew) and the connections' goroutines; mu guards everything.
type pendingSet struct {
	s       *Server
	mu      sync.Mutex
	conns   map[net.Conn]*pendingConn
	waiting list.List // *pendingConn waiting for request bytes, longest waiting first
}

// pendingConn is one held connection.
type pendingConn struct {
	nc     net.Conn
	tc     *trackedConn  // nc as accepted through a trackingListener; nil otherwise
	elem   *list.Element // in pendingSet.waiting; nil while a request is served
	timer  *time.Timer   // the handshake deadline; nil once the first request has arrived
	served bool          // its first request has been read
}

// closeReason labels of wsbench_pending_closed_total.
const (
	pendingEvicted = "evicted"
	pendingTimeout = "handshake_timeout"
)

// connState is the http.Server's ConnState hook.
func (p *pendingSet) connState(nc net.Conn, st http.ConnState) {
	var closeNC net.Conn
	p.mu.Lock()
	switch st {
	case http.StateNew:
		if len(p.conns) >= p.s.cfg.MaxPending {
			front := p.waiting.Front()
			if front == nil {
				// Every held connection is being served: nothing
				// has stalled, so refuse the newcomer.
				p.mu.Unlock()
				p.s.m.refused.WithLabelValues("max_pending").Inc()
				nc.Close()
				return
			}
			old := p.victimLocked(front)
			p.removeLocked(old)
			closeNC = old.nc
			p.s.m.pendingClosed.WithLabelValues(pendingEvicted).Inc()
		}
		pc := &pendingConn{nc: nc}
		pc.tc, _ = nc.(*trackedConn)
		pc.elem = p.waiting.PushBack(pc)
		pc.timer = time.AfterFunc(p.s.cfg.HandshakeTimeout, func() { p.expire(pc) })
		if p.conns == nil {
			p.conns = make(map[net.Conn]*pendingConn)
		}
		p.conns[nc] = pc
	case http.StateActive:
		if pc := p.conns[nc]; pc != nil {
			pc.served = true
			p.stopWaitingLocked(pc)
		}
	case http.StateIdle:
		if pc := p.conns[nc]; pc != nil && pc.elem == nil {
			pc.elem = p.waiting.PushBack(pc) // waiting again, from now
		}
	case http.StateHijacked, http.StateClosed:
		if pc := p.conns[nc]; pc != nil {
			p.removeLocked(pc)
		}
	}
	p.s.pending.Store(int64(len(p.conns)))
	p.mu.Unlock()
	if closeNC != nil {
		closeNC.Close()
	}
}

// expire closes pc if its first request has still not arrived.
func (p *pendingSet) expire(pc *pendingConn) {
	p.mu.Lock()
	if p.conns[pc.nc] != pc || pc.served {
		p.mu.Unlock()
		return
	}
	p.removeLocked(pc)
	p.s.pending.Store(int64(len(p.conns)))
	p.mu.Unlock()
	p.s.m.pendingClosed.WithLabelValues(pendingTimeout).Inc()
	pc.nc.Close()
}

// stopWaitingLocked takes pc off the waiting list and stops its deadline.
func (p *pendingSet) stopWaitingLocked(pc *pendingConn) {
	if pc.elem != nil {
		p.waiting.Remove(pc.elem)
		pc.elem = nil
	}
	if pc.timer != nil {
		pc.timer.Stop()
		pc.timer = nil
	}
}

// removeLocked forgets pc; the caller closes it if it must.
func (p *pendingSet) removeLocked(pc *pendingConn) {
	p.stopWaitingLocked(pc)
	delete(p.conns, pc.nc)
}

// victimScan is how many of the longest-waiting connections victimLocked
// looks at for one that has been read.
const victimScan = 64

// victimLocked picks the connection to close for a newcomer: of the
// victimScan longest waiting, the longest waiting that the server has
// tried to read; if none has been, the longest waiting.
func (p *pendingSet) victimLocked(front *list.Element) *pendingConn {
	e := front
	for range victimScan {
		if e == nil {
			break
		}
		pc := e.Value.(*pendingConn)
		if pc.tc == nil || pc.tc.read.Load() {
			return pc
		}
		e = e.Next()
	}
	return front.Value.(*pendingConn)
}

// trackingListener wraps accepted connections in trackedConn.
type trackingListener struct{ net.Listener }

func (l trackingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &trackedConn{Conn: nc}, nil
}

// trackedConn records that the HTTP server has tried to read from the
// connection. upgrade unwraps it (untracked) once the connection is
// hijacked, so the WebSocket path sees the socket itself.
type trackedConn struct {
	net.Conn
	read atomic.Bool
}

func (c *trackedConn) Read(b []byte) (int, error) {
	c.read.Store(true)
	return c.Conn.Read(b)
}

// untracked returns the socket under a trackedConn, or nc.
func untracked(nc net.Conn) net.Conn {
	if tc, ok := nc.(*trackedConn); ok {
		return tc.Conn
	}
	return nc
}
