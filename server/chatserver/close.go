package chatserver

import (
	"io"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/server/frame"
)

// The close sequence of a connection, one explicit state per side:
//
//	our close frame (conn.close):  none → queued → taken → done
//	the socket      (conn.sock):   open → cut → dead
//
// A close frame is queued last (beginCloseLocked); nothing is queued after
// it. The writer takes it with the batch it ends (taken) and signals
// closeWritten once it is on the wire or writing failed (done). The reader
// that started or answered a close waits for that signal before finish
// closes TCP, so the server closes TCP first (RFC 6455 §7.1.1). cut closes
// the socket from any goroutine (timers, the writer on error); finish, run
// once by the reader, removes the connection and makes it dead.

// closeStage is how far our own close frame has got; guarded by conn.mu.
type closeStage uint8

const (
	closeNone   closeStage = iota // no close frame of ours: data is accepted
	closeQueued                   // our close frame is queued, last in the queue
	closeTaken                    // the writer is writing the batch that ends with it
	closeDone                     // written, or writing failed: closeWritten is closed
)

// sockState is the life of the socket; guarded by conn.mu.
type sockState uint8

const (
	sockOpen sockState = iota // reading and writing
	sockCut                   // cut closed it: never park again; the reader finishes
	sockDead                  // finished or a write failed: nothing more is queued
)

// open reports whether data may still be queued: no close frame of ours
// and a live socket. c.mu held.
func (c *conn) open() bool { return c.close == closeNone && c.sock != sockDead }

// beginCloseLocked queues our close frame as the last frame of the queue.
func (c *conn) beginCloseLocked(code ws.StatusCode, reason string) {
	c.close = closeQueued
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
	if !c.open() {
		return
	}
	c.beginCloseLocked(code, reason)
	c.armForceLocked()
}

func (c *conn) signalCloseLocked() {
	if c.close != closeNone && c.close != closeDone {
		c.close = closeDone
		close(c.closeWritten)
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.close != closeNone
}

// closeFromReader queues our close frame (unless one is queued already) and
// waits until it is written, so that finish closes TCP right after it: the
// server closes the TCP connection first.
func (c *conn) closeFromReader(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.open() {
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

// cut closes the socket, if there is one yet. A parked connection gets its
// reader goroutine back, which fails on the closed socket and finishes.
func (c *conn) cut() {
	c.mu.Lock()
	nc := c.nc
	c.sock = max(c.sock, sockCut)
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
