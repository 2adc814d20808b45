package abuse

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// dialer opens TCP connections to the target, optionally from a chosen
// loopback source address (127.0.0.x spreads ephemeral ports and TIME_WAIT
// across sources) and with a small receive buffer (so a client that does
// not read fills up quickly).
type dialer struct {
	target *Target
	source net.IP // nil: the kernel's choice
	rcvbuf int    // 0: default
}

func (d dialer) netDialer() *net.Dialer {
	nd := &net.Dialer{Timeout: 5 * time.Second}
	if d.source != nil {
		nd.LocalAddr = &net.TCPAddr{IP: d.source}
	}
	if d.rcvbuf > 0 {
		size := d.rcvbuf
		nd.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return nd
}

// tcp opens a plain TCP connection (no handshake).
func (d dialer) tcp(ctx context.Context) (net.Conn, error) {
	return d.netDialer().DialContext(ctx, "tcp", d.target.HostPort)
}

// errRefused is a handshake answered with an HTTP status instead of 101.
type errRefused struct{ status int }

func (e errRefused) Error() string { return fmt.Sprintf("handshake refused with HTTP %d", e.status) }

// ws dials and upgrades to room path p.
func (d dialer) ws(ctx context.Context, p string) (*rawConn, error) {
	var status int
	wd := ws.Dialer{
		Timeout: 10 * time.Second,
		NetDial: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.tcp(ctx) },
		OnStatusError: func(s int, _ []byte, _ io.Reader) {
			status = s
		},
	}
	nc, br, _, err := wd.Dial(ctx, d.target.RoomURL(p))
	if err != nil {
		if status != 0 {
			return nil, errRefused{status}
		}
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, 4096)
	}
	return &rawConn{nc: nc, br: br}, nil
}

// rawConn is a client connection that can write any frame, valid or not.
// Writes and reads may run in two goroutines; neither is safe for more.
type rawConn struct {
	nc net.Conn
	br *bufio.Reader
}

// header encodes a masked frame header by hand, so that lengths the RFC
// forbids (most significant bit set) can be sent too.
func header(fin bool, op ws.OpCode, length uint64, mask [4]byte) []byte {
	b := make([]byte, 0, 14)
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	switch {
	case length < 126:
		b = append(b, 0x80|byte(length))
	case length <= 0xffff:
		b = append(b, 0x80|126, byte(length>>8), byte(length))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, length)
	}
	return append(b, mask[:]...)
}

func newMask() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], rand.Uint32())
	return m
}

// writeFrame writes one complete masked frame.
func (c *rawConn) writeFrame(fin bool, op ws.OpCode, payload []byte) error {
	mask := newMask()
	buf := header(fin, op, uint64(len(payload)), mask)
	start := len(buf)
	buf = append(buf, payload...)
	ws.Cipher(buf[start:], mask, 0)
	_, err := c.nc.Write(buf)
	return err
}

// readClose reads frames until a close frame arrives and returns its code
// (1005 for an empty body), or -1 when the connection ended without one.
// Data frames are discarded. It gives up at the deadline.
func (c *rawConn) readClose(deadline time.Time) (int, error) {
	c.nc.SetReadDeadline(deadline)
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return -1, err
		}
		if h.OpCode != ws.OpClose {
			if _, err := io.CopyN(io.Discard, c.br, h.Length); err != nil {
				return -1, err
			}
			continue
		}
		if h.Length > 125 {
			return -1, fmt.Errorf("close frame of %d bytes", h.Length)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return -1, err
		}
		if len(p) < 2 {
			return 1005, nil
		}
		return int(binary.BigEndian.Uint16(p)), nil
	}
}

// closeHard closes the socket with a reset (SO_LINGER 0): no TIME_WAIT is
// left on this side, which keeps the ephemeral port range free.
func closeHard(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}

// isTimeout reports a deadline error.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// codeKey names a close outcome for the tables: a close code, or what
// happened instead of a close frame.
func codeKey(code int, err error) string {
	switch {
	case code >= 0:
		return fmt.Sprint(code)
	case err == nil:
		return "none"
	case isTimeout(err):
		return "open"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	}
	return "error"
}

// sourceIP returns the loopback source address for scenario k
// (127.0.1.k), so that each scenario's ephemeral ports and TIME_WAIT
// entries are separate; nil (kernel's choice) for an IPv6 target.
func sourceIP(t *Target, k int) net.IP {
	if t.IP.To4() == nil {
		return nil
	}
	return net.IPv4(127, 0, 1, byte(1+k%250))
}
