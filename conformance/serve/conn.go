package serve

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// maxFrame bounds one frame the session reads; the session only echoes
// small messages (heartbeats, chat lines).
const maxFrame = 1 << 20

// attempt is one handshake request waiting for the script to decide its
// fate: accept, drop or refuse. The HTTP handler blocks until it is decided.
type attempt struct {
	w    http.ResponseWriter
	r    *http.Request
	at   time.Time
	done chan struct{}
	once sync.Once
}

func (a *attempt) finish() { a.once.Do(func() { close(a.done) }) }

// drop ends the attempt with a TCP close and no HTTP answer, as a server
// that dies mid-handshake would.
func (a *attempt) drop() {
	defer a.finish()
	if hj, ok := a.w.(http.Hijacker); ok {
		if nc, _, err := hj.Hijack(); err == nil {
			nc.Close()
			return
		}
	}
	a.w.WriteHeader(http.StatusBadGateway)
}

// refuse answers 503 with Retry-After in whole seconds.
func (a *attempt) refuse(retryAfter time.Duration) {
	defer a.finish()
	a.w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	a.w.Header().Set("Connection", "close")
	http.Error(a.w, "wsbench: refused on purpose (503 + Retry-After)", http.StatusServiceUnavailable)
}

// accept upgrades the attempt and starts serving the connection.
func (a *attempt) accept(wg *sync.WaitGroup) (*live, error) {
	defer a.finish()
	nc, rw, _, err := ws.UpgradeHTTP(a.r, a.w)
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	l := &live{nc: nc, ev: make(chan liveEvent, 8), pongs: make(chan []byte, 16)}
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.read(rw.Reader)
	}()
	return l, nil
}

// liveEvent is the end of a connection as the reader saw it.
type liveEvent struct {
	at    time.Time
	close bool // a close frame from the client (else the read failed)
	code  int  // its code; 1005 when it carried none
	err   error
}

// live is one accepted connection. The reader goroutine answers pings,
// echoes data and reports the end on ev; while frozen it reads and
// discards, answering nothing. Writes are serialised by wmu.
type live struct {
	nc     net.Conn
	wmu    sync.Mutex
	closed bool // a close frame went out: nothing more may (under wmu)
	frozen atomic.Bool
	ev     chan liveEvent
	pongs  chan []byte
	data   atomic.Int64 // data frames received
}

// errClosing: the suite already sent its close frame on this connection.
var errClosing = errors.New("close frame already sent")

// write sends one frame; after a close frame nothing more goes out
// (RFC 6455 §5.5.1), so a close answering the client's is never doubled.
func (l *live) write(op ws.OpCode, fin bool, p []byte) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		return errClosing
	}
	l.closed = op == ws.OpClose
	_ = l.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return ws.WriteFrame(l.nc, ws.NewFrame(op, fin, p))
}

func (l *live) closeWith(code int, reason string) error {
	return l.write(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
}

func (l *live) kill() { l.nc.Close() }

var errFrameTooBig = errors.New("frame over 1 MiB")

func (l *live) read(br *bufio.Reader) {
	end := func(e liveEvent) {
		e.at = time.Now()
		l.ev <- e
	}
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			end(liveEvent{err: err})
			return
		}
		if h.Length > maxFrame {
			end(liveEvent{err: errFrameTooBig})
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			end(liveEvent{err: err})
			return
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		if h.OpCode == ws.OpClose {
			code := 1005
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			if !l.frozen.Load() {
				reply := p
				if len(p) >= 2 {
					reply = p[:2] // echo the code, not the reason
				}
				_ = l.write(ws.OpClose, true, reply)
			}
			end(liveEvent{close: true, code: code})
			return
		}
		if l.frozen.Load() {
			continue
		}
		switch h.OpCode {
		case ws.OpPing:
			_ = l.write(ws.OpPong, true, p)
		case ws.OpPong:
			select {
			case l.pongs <- p:
			default:
			}
		default:
			l.data.Add(1)
			_ = l.write(h.OpCode, h.Fin, p)
		}
	}
}
