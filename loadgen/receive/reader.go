package receive

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/payload"
)

// ErrServerClosed is returned by Reader.Run when the server closed the
// connection before the loadgen started its closing handshake.
var ErrServerClosed = errors.New("receive: server closed the connection")

// ErrProtocol is returned for frames a server must not send.
var ErrProtocol = errors.New("receive: protocol error")

// Reader reads one connection. Its counters may be read after Run returned.
type Reader struct {
	conn  *client.Conn
	stats *Stats
	sh    *shard

	// Tracker holds this receiver's measured counts.
	Tracker Tracker
	// Foreign counts messages that are not from this run.
	Foreign int64
	// CloseCode is the code of the server's close frame, if one came.
	CloseCode ws.StatusCode

	hdr  [ws.MaxHeaderSize - 2]byte
	ctrl [125]byte
	msg  [payload.HeaderLen]byte // first bytes of the current data message
	have int                     // bytes of msg filled
	size int64                   // bytes of the current message so far
	cont bool                    // inside a fragmented message
}

// NewReader returns the Reader for conn, recording into stats; id picks the
// histogram shard.
func NewReader(conn *client.Conn, stats *Stats, id int) *Reader {
	return &Reader{conn: conn, stats: stats, sh: stats.shard(id)}
}

// Run reads frames until the connection ends. It returns nil after a
// closing handshake the loadgen started, ErrServerClosed when the server
// closed first, or the read error.
func (r *Reader) Run() error {
	for {
		if err := r.ReadFrame(); err != nil {
			if errors.Is(err, io.EOF) && r.conn.CloseFrameWritten() {
				return nil
			}
			return err
		}
	}
}

// ReadFrame reads and handles one frame. It returns io.EOF after a close
// frame (having answered it if needed).
func (r *Reader) ReadFrame() error {
	br := r.conn.Reader
	h, err := ws.ReadHeaderBuffer(br, r.hdr[:])
	if err != nil {
		return err
	}
	if h.Masked {
		return fmt.Errorf("%w: masked frame from the server", ErrProtocol)
	}
	if h.OpCode.IsControl() {
		if h.Length > int64(len(r.ctrl)) || !h.Fin {
			return fmt.Errorf("%w: control frame of %d bytes", ErrProtocol, h.Length)
		}
		p := r.ctrl[:h.Length]
		if _, err := io.ReadFull(br, p); err != nil {
			return err
		}
		return r.control(h.OpCode, p)
	}
	switch {
	case h.OpCode == ws.OpContinuation && !r.cont:
		return fmt.Errorf("%w: continuation without a message", ErrProtocol)
	case h.OpCode != ws.OpContinuation && r.cont:
		return fmt.Errorf("%w: new message inside a fragmented one", ErrProtocol)
	case h.OpCode != ws.OpContinuation:
		r.have, r.size = 0, 0
	}
	rest := h.Length
	if want := int64(len(r.msg) - r.have); want > 0 {
		n := min(want, rest)
		if _, err := io.ReadFull(br, r.msg[r.have:r.have+int(n)]); err != nil {
			return err
		}
		r.have += int(n)
		rest -= n
	}
	for rest > 0 {
		n, err := br.Discard(int(min(rest, 1<<30)))
		rest -= int64(n)
		if err != nil {
			return err
		}
	}
	r.size += h.Length
	r.cont = !h.Fin
	if h.Fin {
		r.message(r.msg[:r.have])
	}
	return nil
}

func (r *Reader) control(op ws.OpCode, p []byte) error {
	switch op {
	case ws.OpPing:
		if err := r.conn.WriteFrame(ws.OpPong, p); err != nil && !r.conn.CloseFrameWritten() {
			return err
		}
	case ws.OpClose:
		code := ws.StatusNoStatusRcvd
		if len(p) >= 2 {
			code = ws.StatusCode(uint16(p[0])<<8 | uint16(p[1]))
		}
		r.CloseCode = code
		if r.conn.CloseFrameWritten() {
			return io.EOF
		}
		echo := code
		if len(p) < 2 {
			echo = ws.StatusNormalClosure
		}
		_ = r.conn.WriteClose(echo)
		return ErrServerClosed
	}
	return nil
}

// message handles one complete data message whose first bytes are b.
func (r *Reader) message(b []byte) {
	now := time.Now().UnixNano()
	w := r.stats.window.Load()
	h, err := payload.Decode(b)
	senders := uint64(0)
	if w != nil {
		senders = uint64(w.Table.Senders)
	}
	if err != nil || w == nil || h.RunID != w.RunID || uint64(h.Sender) >= senders {
		r.Foreign++
		r.sh.mu.Lock()
		r.sh.foreign++
		r.sh.mu.Unlock()
		return
	}
	us := clampMicros((now - h.Intended) / 1000)
	slot := w.Table.Slot(int(h.Sender), h.Seq)
	measured := slot >= w.Lo && slot < w.Hi
	dup := false
	if measured {
		rel := slot - w.Lo
		dup, _ = r.Tracker.Observe(rel, senders, w.Len())
		if !dup {
			last := &r.stats.last[rel]
			for {
				old := last.Load()
				if old >= now || last.CompareAndSwap(old, now) {
					break
				}
			}
		}
	}
	sh := r.sh
	sh.mu.Lock()
	_ = sh.interval.RecordValue(us)
	sh.recent++
	if measured {
		sh.delivered++
		if !dup {
			_ = sh.total.RecordValue(us)
		}
	}
	sh.mu.Unlock()
}
