//go:build unix

package chatserver

import (
	"net"
	"sync"

	"golang.org/x/sys/unix"
)

// Inline writes: the fast path of a delivery. When a connection has
// nothing queued and no writer goroutine, the publishing goroutine writes
// the frame to the socket itself with one non-blocking write(2), as Node's
// libuv does with its try-write: no queue, no goroutine start, no write
// deadline (a timer). Only what the kernel does not take at once (a full
// send buffer: a slow or absent reader) goes to the queue and the writer
// goroutine, whose write deadline and the send-queue bound keep the
// slow-consumer policy exactly as before. The write never blocks, so doing
// it under conn.mu costs the other members nothing and keeps the order of
// frames: no other frame can be queued or written while it runs.

// inlineWriter holds one write(2) for RawConn.Write. Pooled, with its method
// value made once, so an inline write allocates nothing.
type inlineWriter struct {
	buf []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

var inlineWriters = sync.Pool{New: func() any {
	w := new(inlineWriter)
	w.fn = w.write
	return w
}}

// write is called by RawConn.Write with the socket's descriptor; returning
// true tells the runtime not to wait for writability: one attempt only.
func (w *inlineWriter) write(fd uintptr) bool {
	for {
		n, err := unix.Write(int(fd), w.buf)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		w.n, w.err = n, err
		return true
	}
}

// writeInlineLocked tries to write f to the socket at once and returns how
// many bytes the kernel took (0 when it took none or the socket cannot be
// written inline). The caller queues f[n:] for the writer goroutine, which
// also meets and handles any error. c.mu held, no writer running, queue
// empty.
func (c *conn) writeInlineLocked(f []byte) int {
	if c.raw == nil {
		if c.noRaw || c.nc == nil {
			return 0
		}
		tc, ok := c.nc.(*net.TCPConn) // TLS or wrapped sockets go through the writer
		if !ok {
			c.noRaw = true
			return 0
		}
		rc, err := tc.SyscallConn()
		if err != nil {
			c.noRaw = true
			return 0
		}
		c.raw = rc
	}
	w := inlineWriters.Get().(*inlineWriter)
	w.buf, w.n, w.err = f, 0, nil
	// On any failure (would block, closed, reset) n stays 0 and the
	// writer goroutine takes over the frame, meeting the error if there is
	// one, so failures are handled in one place.
	_ = c.raw.Write(w.fn)
	n := w.n
	w.buf, w.err = nil, nil
	inlineWriters.Put(w)
	return n
}
