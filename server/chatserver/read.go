package chatserver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/server/frame"
)

// The read side of a connection: one reader goroutine per message being
// read (parked in the poller between messages, see poller), frame
// validation in package frame, and the hand-over of each message to the
// Fanout. Inbound silence and read errors end here too.

// startReading begins reading an attached connection: parked at once when
// it can be, else with a reader goroutine.
func (c *conn) startReading() {
	if !c.park() {
		go c.readLoop()
	}
}

// readLoop reads messages until the connection ends, then cleans up; with
// a poller it returns early instead, whenever the connection goes idle
// between messages (park), and the poller starts it again.
func (c *conn) readLoop() {
	if c.fr == nil {
		c.fr = takeReader(&c.in, c.s.cfg.MaxMessage)
		c.fr.SetCompression(c.zip.Load())
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
			if c.fr.Compressed() {
				if p, err = frame.Inflate(p, c.s.cfg.MaxMessage, op == ws.OpText); err != nil {
					c.readFailed(err)
					return
				}
			}
			c.s.m.messagesIn.Inc()
			c.s.m.bytesIn.Add(float64(len(p)))
			if op == ws.OpText && c.s.cfg.AppHeartbeat && string(p) == AppPing {
				c.enqueue(c.s.appPong, true)
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
	if c.sock != sockOpen {
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
	if c.endReason == "" && c.close == closeNone {
		c.endReason = fmt.Sprintf("silent for %v (pong timeout)", c.s.cfg.PongTimeout)
		c.s.m.dropped.WithLabelValues("pong_timeout").Inc()
	}
	c.mu.Unlock()
	c.cut()
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
	case c.close != closeNone:
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
