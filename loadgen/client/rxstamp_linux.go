//go:build linux

package client

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RxStamps reads a connection's socket with recvmsg and keeps the
// kernel's software receive timestamp (SO_TIMESTAMPING with
// SOF_TIMESTAMPING_RX_SOFTWARE: taken when the segment entered the
// receive path, on loopback when the server wrote it) of each read, so
// that latency can be taken from when a message reached this machine
// rather than when its reader got to it. At 1,000 receivers per core the
// second is mostly the generator reading the other 999 sockets first.
//
// For TCP the kernel reports the stamp of the last segment a recvmsg
// consumed, so a message is stamped no earlier than it arrived and at
// most one read buffer's worth of segments later.
//
// An RxStamps is used by the connection's one reader goroutine only.
// Reading allocates nothing: the msghdr, iovec, control buffer and the
// callback given to RawConn.Read live in the struct.
type RxStamps struct {
	pre  *bufio.Reader // bytes buffered during the handshake: read first, unstamped
	rc   syscall.RawConn
	hdr  unix.Msghdr
	iov  unix.Iovec
	oob  [128]byte // room for one scm_timestamping (3 timespecs) and more
	p    []byte    // destination of the read in progress
	n    int
	ns   int64
	err  error
	recv func(fd uintptr) bool // s.recvmsg, bound once

	total int64 // bytes read from the socket
	ring  [rxRing]rxChunk
	head  int
	// Stamped and Unstamped count reads with and without a kernel stamp.
	Stamped, Unstamped int64
}

// EnableRxTimestamps turns on kernel receive timestamps for c and puts a
// stamping reader under c.Reader (bytes already buffered from the
// handshake are read first, without stamps). Call it before anything
// reads c. It returns ErrRxUnsupported (wrapped) where there are none.
func EnableRxTimestamps(c *Conn) (*RxStamps, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%w: %T is not a plain socket", ErrRxUnsupported, c.Conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRxUnsupported, err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING,
			unix.SOF_TIMESTAMPING_RX_SOFTWARE|unix.SOF_TIMESTAMPING_SOFTWARE)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: setsockopt SO_TIMESTAMPING: %v", ErrRxUnsupported, err)
	}
	s := &RxStamps{rc: rc}
	if c.Reader != nil && c.Reader.Buffered() > 0 {
		s.pre = c.Reader
	}
	s.recv = s.recvmsg
	c.Reader = bufio.NewReaderSize(s, ReadBufferSize)
	return s, nil
}

// Read implements io.Reader for the bufio.Reader above it.
func (s *RxStamps) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.pre != nil {
		if b := s.pre.Buffered(); b > 0 {
			n, err := s.pre.Read(p[:min(len(p), b)])
			s.note(n, 0)
			return n, err
		}
		s.pre = nil
	}
	s.p, s.n, s.ns, s.err = p, 0, 0, nil
	err := s.rc.Read(s.recv)
	s.p = nil
	if err == nil {
		err = s.err
	}
	if err != nil {
		return 0, err
	}
	if s.n == 0 {
		return 0, io.EOF
	}
	s.note(s.n, s.ns)
	return s.n, nil
}

// recvmsg is the RawConn.Read callback: one recvmsg into s.p. It returns
// false to wait for readability.
func (s *RxStamps) recvmsg(fd uintptr) bool {
	s.iov.Base = &s.p[0]
	s.iov.SetLen(len(s.p))
	s.hdr.Iov = &s.iov
	s.hdr.SetIovlen(1)
	s.hdr.Control = &s.oob[0]
	s.hdr.SetControllen(len(s.oob))
	for {
		n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.hdr)), 0)
		switch errno {
		case 0:
			s.n = int(n)
			s.ns = parseStamp(s.oob[:s.hdr.Controllen])
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			s.err = errno
			return true
		}
	}
}

// note records a read of n bytes stamped ns (0 = none).
func (s *RxStamps) note(n int, ns int64) {
	if ns != 0 {
		s.Stamped++
	} else {
		s.Unstamped++
	}
	s.ring[s.head] = rxChunk{start: s.total, end: s.total + int64(n), ns: ns}
	s.head = (s.head + 1) % rxRing
	s.total += int64(n)
}

// StampAt returns the kernel's receive time (Unix ns) of the read that
// held the byte just before the reader's position, given how many read
// bytes are still buffered above (bufio.Reader.Buffered): called as a
// message has been parsed, that is its last byte. It returns 0 when
// unknown: a read without a stamp, or one older than the ring.
func (s *RxStamps) StampAt(buffered int) int64 {
	end := s.total - int64(buffered)
	for _, c := range s.ring {
		if c.start < end && end <= c.end {
			return c.ns
		}
	}
	return 0
}

// parseStamp returns the software timestamp of an SCM_TIMESTAMPING
// control message in oob (Unix ns), or 0.
func parseStamp(oob []byte) int64 {
	const hdrLen = int(unsafe.Sizeof(unix.Cmsghdr{}))
	for len(oob) >= hdrLen {
		h := *(*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPING && l >= hdrLen+16 {
			// struct scm_timestamping { struct timespec ts[3]; }: ts[0] is
			// the software stamp (CLOCK_REALTIME).
			d := oob[hdrLen:l]
			sec := int64(binary.NativeEndian.Uint64(d[0:]))
			nsec := int64(binary.NativeEndian.Uint64(d[8:]))
			if sec == 0 && nsec == 0 {
				return 0
			}
			return sec*1e9 + nsec
		}
		step := (l + int(unsafe.Sizeof(uintptr(0))) - 1) &^ (int(unsafe.Sizeof(uintptr(0))) - 1)
		if step >= len(oob) {
			return 0
		}
		oob = oob[step:]
	}
	return 0
}
