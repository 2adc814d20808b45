package frame

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/gobwas/ws"
)

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// pooledCap is the largest message buffer returned to the pool; bigger ones
// are left to the garbage collector so the pool never pins large memory.
const pooledCap = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Reader reads client frames from a byte stream and assembles them into
// messages, validating everything RFC 6455 requires of a server.
//
// ReadMessage returns either a complete data message (text or binary; the
// fragments joined) or a single control frame (ping, pong or close), which
// may arrive between the fragments of a data message. The returned payload is
// valid only until the next call to ReadMessage. Between messages the Reader
// holds no payload buffer, so an idle connection costs only the Reader
// itself. A Reader is not safe for concurrent use.
type Reader struct {
	r   io.Reader
	max int64 // message size limit in bytes; <= 0 means no limit

	hdr  [14]byte
	ctrl [MaxControlPayload]byte

	inMsg bool      // a fragmented data message is being assembled
	op    ws.OpCode // opcode of the message being assembled
	buf   *[]byte   // pooled payload buffer of the message being assembled
	utf8  UTF8

	deflate    bool // permessage-deflate agreed: RSV1 allowed on a message's first frame
	compressed bool // the message being (or last) read had RSV1 set
}

// SetCompression allows RSV1 (RFC 7692 "Per-Message Compressed") on the
// first frame of a data message, for a connection that agreed on
// permessage-deflate. Reset clears it.
func (r *Reader) SetCompression(on bool) { r.deflate = on }

// Compressed reports whether the message ReadMessage last returned is
// compressed: its payload is then deflate data, not yet checked for
// UTF-8, and the caller inflates and checks it.
func (r *Reader) Compressed() bool { return r.compressed }

// NewReader returns a Reader of r that refuses messages longer than max
// bytes (max <= 0: no limit).
func NewReader(r io.Reader, max int64) *Reader {
	return &Reader{r: r, max: max}
}

// InMessage reports whether a fragmented data message is partly read (a
// control frame came between its fragments).
func (r *Reader) InMessage() bool { return r.inMsg }

// Reset makes the Reader read a new stream r with limit max, forgetting all
// state, so that Readers can be pooled between messages. It releases the
// payload buffer of a message in progress.
func (r *Reader) Reset(src io.Reader, max int64) {
	r.inMsg = false
	r.Release()
	*r = Reader{r: src, max: max}
}

// Release returns the buffer of the last message to the pool. ReadMessage
// calls it itself; call it when the connection is done.
func (r *Reader) Release() {
	if r.buf != nil && !r.inMsg {
		if cap(*r.buf) <= pooledCap {
			*r.buf = (*r.buf)[:0]
			bufPool.Put(r.buf)
		}
		r.buf = nil
	}
}

// ReadMessage reads frames until it has a complete data message or a control
// frame. A protocol violation is returned as *Error; I/O errors are returned
// unchanged (io.EOF, io.ErrUnexpectedEOF, timeouts).
func (r *Reader) ReadMessage() (ws.OpCode, []byte, error) {
	r.Release()
	for {
		h, err := r.readHeader()
		if err != nil {
			return 0, nil, err
		}
		if h.Rsv != 0 && (h.OpCode.IsControl() || h.OpCode == ws.OpContinuation) {
			return 0, nil, errRsv // RSV1 only marks a message's first frame (RFC 7692 §6.1)
		}
		if h.OpCode.IsControl() {
			p := r.ctrl[:h.Length]
			if err := r.readPayload(p, h.Mask); err != nil {
				return 0, nil, err
			}
			return h.OpCode, p, nil
		}
		switch {
		case h.OpCode == ws.OpContinuation && !r.inMsg:
			return 0, nil, errNoContinuation
		case h.OpCode != ws.OpContinuation && r.inMsg:
			return 0, nil, errNewMidMessage
		case h.OpCode != ws.OpContinuation:
			r.inMsg, r.op, r.compressed = true, h.OpCode, h.Rsv != 0
			r.utf8.Reset()
			r.buf = bufPool.Get().(*[]byte)
		}
		if r.max > 0 && h.Length > r.max-int64(len(*r.buf)) {
			r.inMsg = false
			return 0, nil, errTooBig
		}
		var v *UTF8
		if r.op == ws.OpText && !r.compressed {
			v = &r.utf8
		}
		if err := r.readData(h, v); err != nil {
			r.inMsg = false
			return 0, nil, err
		}
		if h.Fin {
			r.inMsg = false
			if v != nil && !v.Complete() {
				return 0, nil, errBadUTF8
			}
			return r.op, *r.buf, nil
		}
	}
}

// readHeader reads and validates one frame header.
func (r *Reader) readHeader() (ws.Header, error) {
	b := r.hdr[:]
	if _, err := io.ReadFull(r.r, b[:2]); err != nil {
		return ws.Header{}, err
	}
	h := ws.Header{
		Fin:    b[0]&0x80 != 0,
		Rsv:    (b[0] & 0x70) >> 4,
		OpCode: ws.OpCode(b[0] & 0x0f),
		Masked: b[1]&0x80 != 0,
	}
	switch {
	case h.Rsv != 0 && !(h.Rsv == 4 && r.deflate):
		return h, errRsv
	case h.OpCode.IsReserved():
		return h, errReservedOp
	case !h.Masked:
		return h, errUnmasked
	}
	extra := 4
	switch b[1] & 0x7f {
	case 126:
		extra += 2
	case 127:
		extra += 8
	}
	if _, err := io.ReadFull(r.r, b[2:2+extra]); err != nil {
		return h, unexpected(err)
	}
	switch l := b[1] & 0x7f; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, errLength64
		}
		h.Length = int64(u)
	default:
		h.Length = int64(l)
	}
	copy(h.Mask[:], b[2+extra-4:2+extra])
	if h.OpCode.IsControl() {
		if !h.Fin {
			return h, errFragControl
		}
		if h.Length > MaxControlPayload {
			return h, errBigControl
		}
	}
	return h, nil
}

// readData appends the payload of data frame h to the message buffer. The
// buffer grows with the bytes that actually arrive (at most doubling), not
// with the length the header claims, so a peer cannot make the server
// allocate memory it has not sent.
func (r *Reader) readData(h ws.Header, v *UTF8) error {
	for off := int64(0); off < h.Length; {
		b := *r.buf
		if len(b) == cap(b) {
			// Double (at least 4 KiB), but not past the end of a final
			// frame nor past the limit: a message in many small
			// fragments then costs O(log n) copies, not one per
			// fragment.
			grow := int64(max(cap(b), 4096))
			if h.Fin {
				grow = min(grow, h.Length-off)
			}
			if r.max > 0 {
				grow = min(grow, max(r.max-int64(len(b)), h.Length-off))
			}
			nb := make([]byte, len(b), int64(len(b))+grow)
			copy(nb, b)
			b = nb
		}
		end := int64(len(b)) + min(h.Length-off, int64(cap(b)-len(b)))
		n, err := r.r.Read(b[len(b):end])
		if n > 0 {
			seg := b[len(b) : len(b)+n]
			ws.Cipher(seg, h.Mask, int(off))
			b = b[:len(b)+n]
			off += int64(n)
			if v != nil && !v.Write(seg) {
				*r.buf = b
				return errBadUTF8
			}
		}
		*r.buf = b
		if err != nil {
			if off == h.Length {
				break
			}
			return unexpected(err)
		}
	}
	return nil
}

// readPayload fills the control frame payload p from the stream, unmasking
// it.
func (r *Reader) readPayload(p []byte, mask [4]byte) error {
	off := 0
	for off < len(p) {
		n, err := r.r.Read(p[off:])
		if n > 0 {
			ws.Cipher(p[off:off+n], mask, off)
			off += n
		}
		if err != nil {
			if off == len(p) {
				break
			}
			return unexpected(err)
		}
	}
	return nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
