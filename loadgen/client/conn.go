package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// ReadBufferSize is the size of each connection's read buffer. Small,
// because idle connections must stay cheap; a frame larger than the buffer
// is still read correctly, in several reads.
const ReadBufferSize = 2048

// KeepFrameBuffer is the largest frame buffer a Conn keeps between writes;
// larger frames use a pooled buffer.
const KeepFrameBuffer = 4096

var buffers sync.Pool // of *[]byte

// GetBuffer returns a pooled buffer of at least n bytes; give it back with
// PutBuffer.
func GetBuffer(n int) *[]byte {
	if bp, ok := buffers.Get().(*[]byte); ok && cap(*bp) >= n {
		return bp
	}
	b := make([]byte, n)
	return &b
}

// PutBuffer returns a buffer obtained from GetBuffer.
func PutBuffer(bp *[]byte) { buffers.Put(bp) }

// Conn is one client WebSocket connection.
type Conn struct {
	net.Conn
	// Reader buffers the socket; only the connection's reader uses it.
	Reader *bufio.Reader
	// Handshake is how long the TCP connect plus WebSocket upgrade took.
	Handshake time.Duration
	// Deflate: permessage-deflate was negotiated (without context
	// takeover in either direction); Extension is the server's answer.
	Deflate   bool
	Extension string
	// Protocol is the subprotocol the server selected, if any.
	Protocol string

	mu      sync.Mutex
	scratch []byte // frame being written; guarded by mu
	closed  bool   // a close frame was written; guarded by mu
}

// Dialer opens connections.
type Dialer struct {
	Timeout time.Duration // connect + handshake bound; 0 = none
	Local   net.IP        // local address to bind, nil = any
	// Addr is the "ip:port" to connect to instead of resolving the URL's
	// host on every dial (see Resolve); the URL still names the host for
	// the Host header and TLS. Empty = resolve per dial.
	Addr string
	// Handshake adds headers, subprotocols, TLS settings and the
	// permessage-deflate offer; nil = a plain upgrade.
	Handshake *Handshake
}

// Dial connects to url (ws:// or wss://) and completes the opening
// handshake.
func (d Dialer) Dial(ctx context.Context, url string) (*Conn, error) {
	nd := net.Dialer{}
	if d.Local != nil {
		nd.LocalAddr = &net.TCPAddr{IP: d.Local}
		// Let the kernel pick the port at connect time, per destination,
		// instead of reserving it for every destination at bind time.
		nd.Control = bindNoPort
	}
	wd := ws.Dialer{
		Timeout:         d.Timeout,
		ReadBufferSize:  ReadBufferSize,
		WriteBufferSize: 512,
		NetDial:         nd.DialContext,
	}
	if d.Addr != "" {
		wd.NetDial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return nd.DialContext(ctx, network, d.Addr)
		}
	}
	if err := d.Handshake.apply(&wd); err != nil {
		return nil, err
	}
	start := time.Now()
	c, br, hs, err := wd.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	deflate, ext, err := negotiated(hs.Extensions)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	if br == nil {
		br = bufio.NewReaderSize(c, ReadBufferSize)
	}
	return &Conn{Conn: c, Reader: br, Handshake: time.Since(start), Deflate: deflate, Extension: ext, Protocol: hs.Protocol}, nil
}

// WriteFrame writes one unfragmented, masked frame with the given opcode and
// payload. It is safe for concurrent use and does not allocate once the
// connection's scratch buffer has grown to the largest frame. After a close
// frame has been written further frames are refused with net.ErrClosed.
func (c *Conn) WriteFrame(op ws.OpCode, payload []byte) error {
	return c.writeFrame(0x80|byte(op), op, payload)
}

// WriteMessage writes a data message: compressed (RSV1 set) when
// permessage-deflate was negotiated, otherwise as WriteFrame does.
func (c *Conn) WriteMessage(op ws.OpCode, payload []byte) error {
	if !c.Deflate {
		return c.WriteFrame(op, payload)
	}
	z := getDeflater()
	defer putDeflater(z)
	p, err := z.compress(payload)
	if err != nil {
		return err
	}
	return c.writeFrame(0x80|0x40|byte(op), op, p)
}

func (c *Conn) writeFrame(b0 byte, op ws.OpCode, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if op == ws.OpClose {
		c.closed = true
	}
	n := len(payload)
	need := n + 14
	var b []byte
	if need <= KeepFrameBuffer {
		if cap(c.scratch) < need {
			c.scratch = make([]byte, need)
		}
		b = c.scratch[:need]
	} else {
		// Large frames borrow a pooled buffer, so that thousands of
		// sending connections do not each keep one.
		bp := GetBuffer(need)
		defer PutBuffer(bp)
		b = (*bp)[:need]
	}
	b[0] = b0
	h := 2
	switch {
	case n < 126:
		b[1] = 0x80 | byte(n)
	case n <= 0xffff:
		b[1] = 0x80 | 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
		h = 4
	default:
		b[1] = 0x80 | 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
		h = 10
	}
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	copy(b[h:], mask[:])
	h += 4
	copy(b[h:], payload)
	ws.Cipher(b[h:h+n], mask, 0)
	_, err := c.Conn.Write(b[:h+n])
	return err
}

// CloseFrameWritten reports whether a close frame has been written.
func (c *Conn) CloseFrameWritten() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// WriteClose writes a close frame with code and no reason.
func (c *Conn) WriteClose(code ws.StatusCode) error {
	var body [2]byte
	binary.BigEndian.PutUint16(body[:], uint16(code))
	return c.WriteFrame(ws.OpClose, body[:])
}
