//go:build linux

package chatserver

import (
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller lets idle connections wait for their next message without a
// goroutine: a parked connection's socket sits in an epoll set (one-shot),
// and when it becomes readable the poller starts a reader goroutine for it
// again. A goroutine blocked in Read costs its stack (4 KiB for the read
// path), which is most of what an idle connection costs otherwise.
//
// Go's runtime keeps the same sockets in its own epoll set for the reads
// and writes it does; a second epoll set watching them is independent.
type poller struct {
	epfd   int
	wakeFd int // eventfd that ends run

	mu    sync.Mutex
	conns map[uint64]*conn // by the id stored in the epoll event
	next  uint64
	done  chan struct{}
}

// errNoPoller is returned on systems without epoll.
var errNoPoller = errors.New("idle parking needs epoll (Linux)")

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	// id 0 is the eventfd.
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &unix.EpollEvent{Events: unix.EPOLLIN}); err != nil {
		unix.Close(epfd)
		unix.Close(wfd)
		return nil, err
	}
	return &poller{epfd: epfd, wakeFd: wfd, conns: make(map[uint64]*conn), next: 1, done: make(chan struct{})}, nil
}

// run delivers readiness to parked connections until stop.
func (p *poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				return // stop
			}
			p.mu.Lock()
			c := p.conns[id]
			p.mu.Unlock()
			if c != nil {
				c.wake()
			}
		}
	}
}

// stop ends run and releases the epoll set; every connection must be gone.
func (p *poller) stop() {
	var one = [8]byte{1}
	unix.Write(p.wakeFd, one[:])
	<-p.done
	unix.Close(p.epfd)
	unix.Close(p.wakeFd)
}

// prepare gives c its poller id (first time) and says how to arm it:
// register the socket or re-arm it. Called with c.mu held, so that the next
// reader, which may start as soon as the socket is armed, sees the state.
func (p *poller) prepare(c *conn) (op int) {
	if c.pollID == 0 {
		p.mu.Lock()
		c.pollID = p.next
		p.next++
		p.conns[c.pollID] = c
		p.mu.Unlock()
	}
	op = unix.EPOLL_CTL_MOD
	if !c.polled {
		op = unix.EPOLL_CTL_ADD
		c.polled = true
	}
	return op
}

// arm registers or re-arms c's socket, one-shot, for the next readable
// event. It fails once the socket is closed: the descriptor is used inside
// Control, so it cannot be closed and reused by another socket meanwhile.
// After it succeeds the caller must not touch c: its next reader may run.
func (p *poller) arm(c *conn, op int) error {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return errNoPoller
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	a := armers.Get().(*armer)
	defer armers.Put(a)
	a.epfd, a.op, a.err = p.epfd, op, nil
	a.ev = unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(uint32(c.pollID)), Pad: int32(uint32(c.pollID >> 32))}
	if err := rc.Control(a.ctl); err != nil {
		return err
	}
	return a.err
}

// armer holds one epoll_ctl call for RawConn.Control. Pooled, with its
// method value made once, so that parking after every message does not
// allocate a closure and an event each time.
type armer struct {
	epfd, op int
	ev       unix.EpollEvent
	err      error
	ctl      func(fd uintptr)
}

var armers = sync.Pool{New: func() any {
	a := new(armer)
	a.ctl = a.control
	return a
}}

func (a *armer) control(fd uintptr) { a.err = unix.EpollCtl(a.epfd, a.op, int(fd), &a.ev) }

// addOp reports whether op registered the socket (rather than re-arming).
func addOp(op int) bool { return op == unix.EPOLL_CTL_ADD }

// forget removes c (finished) from the poller. Closing the socket removes
// it from the epoll set.
func (p *poller) forget(c *conn) {
	if c.pollID == 0 {
		return
	}
	p.mu.Lock()
	delete(p.conns, c.pollID)
	p.mu.Unlock()
}
