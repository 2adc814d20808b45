package receive

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/payload"
)

// ErrServerClosed is returned by Reader.Run when the server closed the
// connection before the loadgen started its closing handshake.
var ErrServerClosed = errors.New("receive: server closed the connection")

// ErrProtocol is returned for frames a server must not send.
var ErrProtocol = errors.New("receive: protocol error")

// DefaultScanBytes is how far into a message a text token is looked for.
const DefaultScanBytes = 4096

// Options say how a Reader recognises its messages; the zero value is the
// binary payload of one room, every message owed to every receiver.
type Options struct {
	// Text: find the payload's text token anywhere in the first ScanBytes
	// bytes of a message (text or binary) instead of the binary header at
	// its start.
	Text      bool
	ScanBytes int // 0 = DefaultScanBytes
	// Ignore: messages without this run's payload that match are counted
	// as ignored (server chatter), not foreign.
	Ignore *regexp.Regexp
	// Await: the connection counts as joined once a message matches
	// (Joined is closed); until then nothing waits. nil = joined at once.
	Await *regexp.Regexp
	// Room is this receiver's room (slot n belongs to room n mod
	// Window.Rooms); Self is its global sender id, -1 if it sends nothing.
	Room int
	Self int
	// RxTimestamps: take receipt times from the kernel's receive stamps
	// (client.EnableRxTimestamps) where the socket has them.
	RxTimestamps bool
}

// Reader reads one connection. Its counters may be read after Run returned.
type Reader struct {
	conn  *client.Conn
	stats *Stats
	sh    *shard
	opt   Options

	// Tracker holds this receiver's measured counts.
	Tracker Tracker
	// Foreign counts messages that are not from this run.
	Foreign int64
	// Ignored counts messages matching Options.Ignore or Options.Await.
	Ignored int64
	// Unexpected counts measured messages of this run that this receiver
	// is not owed: its own copy under ExpectOthers, another room's.
	Unexpected int64
	// OwnUnique counts distinct measured messages of its own that came
	// back to this receiver (under either expectation).
	OwnUnique int64
	// CloseCode is the code of the server's close frame, if one came.
	CloseCode ws.StatusCode

	joined   chan struct{} // closed once Await matched; nil = no Await
	isJoined bool          // joined is closed

	// rx is the socket's kernel receive stamps (Options.RxTimestamps);
	// nil when off or unsupported (RxErr says why). RxStamped counts
	// messages timed by a kernel stamp.
	rx        *client.RxStamps
	RxErr     error
	RxStamped int64

	hdr  [ws.MaxHeaderSize - 2]byte
	ctrl [125]byte
	msg  [payload.HeaderLen]byte // first bytes of the current binary data message
	// scan holds the first ScanBytes of the current message when the
	// Reader looks at message text (Text, Ignore, Await); allocated once,
	// valid until the next message.
	scan []byte
	have int   // bytes of the message buffer filled
	size int64 // bytes of the current message so far
	cont bool  // inside a fragmented message

	// permessage-deflate (conn.Deflate): the compressed bytes of the
	// current message, up to what inflating the first bytes needs, and a
	// reusable inflater (each message stands alone: no context takeover).
	zmsg    bool
	zbuf    []byte
	zsrc    bytes.Reader
	inflate io.ReadCloser
}

// zTail ends every compressed message (RFC 7692 7.2.2).
var zTail = []byte{0, 0, 0xff, 0xff}

// NewReader returns the Reader for conn with zero Options, recording into
// stats; id picks the histogram shard.
func NewReader(conn *client.Conn, stats *Stats, id int) *Reader {
	return NewReaderWith(conn, stats, id, Options{Self: -1})
}

// NewReaderWith returns the Reader for conn with the given options.
func NewReaderWith(conn *client.Conn, stats *Stats, id int, opt Options) *Reader {
	if opt.ScanBytes <= 0 {
		opt.ScanBytes = DefaultScanBytes
	}
	r := &Reader{conn: conn, stats: stats, sh: stats.shard(id), opt: opt}
	if opt.RxTimestamps {
		r.enableRx()
	}
	if opt.Text || opt.Ignore != nil || opt.Await != nil {
		r.scan = make([]byte, opt.ScanBytes)
	}
	if opt.Await != nil {
		r.joined = make(chan struct{})
	}
	return r
}

// Joined is closed when a message matched Options.Await; nil without one.
func (r *Reader) Joined() <-chan struct{} { return r.joined }

// buf returns the message buffer: the scan buffer or the header bytes.
func (r *Reader) buf() []byte {
	if r.scan != nil {
		return r.scan
	}
	return r.msg[:]
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
	if h.Rsv&^ws.Rsv(true, false, false) != 0 || h.Rsv != 0 && (!r.conn.Deflate || h.OpCode.IsControl() || h.OpCode == ws.OpContinuation) {
		return fmt.Errorf("%w: reserved bits %03b without a negotiated extension", ErrProtocol, h.Rsv)
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
		r.zmsg = h.Rsv != 0
		r.zbuf = r.zbuf[:0]
	}
	rest := h.Length
	if r.zmsg {
		// Keep the compressed bytes that inflate to the first len(buf)
		// bytes: deflate never expands by more than a few bytes per
		// stored block, so len(buf)+1 KiB is enough.
		if want := int64(len(r.buf()) + 1024 - len(r.zbuf)); want > 0 {
			n := int(min(want, rest))
			if cap(r.zbuf) < len(r.buf())+1024+len(zTail) {
				r.zbuf = make([]byte, 0, len(r.buf())+1024+len(zTail))
			}
			at := len(r.zbuf)
			r.zbuf = r.zbuf[:at+n]
			if _, err := io.ReadFull(br, r.zbuf[at:]); err != nil {
				return err
			}
			rest -= int64(n)
		}
	} else if buf := r.buf(); int64(len(buf)-r.have) > 0 {
		n := min(int64(len(buf)-r.have), rest)
		if _, err := io.ReadFull(br, buf[r.have:r.have+int(n)]); err != nil {
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
		if r.zmsg {
			r.inflateMessage()
		}
		r.message(r.buf()[:r.have])
	}
	return nil
}

// inflateMessage inflates the start of the compressed message in zbuf
// into the message buffer. A message cut short by the zbuf bound simply
// yields fewer bytes; a corrupt one yields what decoded before the error.
func (r *Reader) inflateMessage() {
	r.zbuf = append(r.zbuf, zTail...)
	r.zsrc.Reset(r.zbuf)
	if r.inflate == nil {
		r.inflate = flate.NewReader(&r.zsrc)
	} else {
		_ = r.inflate.(flate.Resetter).Reset(&r.zsrc, nil)
	}
	n, _ := io.ReadFull(r.inflate, r.buf())
	r.have = n
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
	now := r.now()
	awaited := false
	if r.joined != nil && !r.isJoined && r.opt.Await.Match(b) {
		awaited, r.isJoined = true, true
		close(r.joined)
	}
	w := r.stats.window.Load()
	var h payload.Header
	var err error
	if r.opt.Text {
		h, err = payload.FindToken(b)
	} else {
		h, err = payload.Decode(b)
	}
	senders := uint64(0)
	if w != nil {
		senders = uint64(w.Table.Senders)
	}
	if err != nil || w == nil || h.RunID != w.RunID || uint64(h.Sender) >= senders {
		if awaited || r.joined != nil && r.opt.Await.Match(b) || r.opt.Ignore != nil && r.opt.Ignore.Match(b) {
			r.Ignored++
			return
		}
		r.Foreign++
		r.sh.mu.Lock()
		r.sh.foreign++
		r.sh.mu.Unlock()
		return
	}
	us := clampMicros((now - h.Intended) / 1000)
	slot := w.Table.Slot(int(h.Sender), h.Seq)
	measured := slot >= w.Lo && slot < w.Hi
	own := r.opt.Self >= 0 && int64(h.Sender) == int64(r.opt.Self)
	if w.Rooms > 1 && slot%uint64(w.Rooms) != uint64(r.opt.Room) || own && w.ExpectOthers {
		// Not owed to this receiver: another room's, or its own copy
		// when the server is expected not to echo it.
		if measured {
			r.Unexpected++
		}
		return
	}
	dup := false
	if measured {
		rel := slot - w.Lo
		dup, _ = r.Tracker.Observe(rel, senders, w.Len())
		if own && !dup {
			r.OwnUnique++
		}
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
	if measured && !dup && len(r.stats.rooms) > 0 {
		rm := &r.stats.rooms[r.opt.Room%len(r.stats.rooms)]
		rm.mu.Lock()
		_ = rm.latency.RecordValue(us)
		rm.mu.Unlock()
	}
}
