// Package relaytest is a minimal WebSocket broadcast relay for the
// loadgen's own tests and overhead measurement: every message from any
// client goes to every client, the sender included, with an optional fixed
// delay and per-message faults (drop, duplicate, swap with the sender's next
// message) chosen by the loadgen payload header. Options reproduce servers
// a load test must not pass silently: one that refuses upgrades past a
// limit (MaxConns), one that wraps every message in its own envelope
// (Wrap), one that closes clients (Kick).
//
// It is not a server to benchmark: it writes to all clients from the
// goroutine that read the message (or from one delay goroutine), so a slow
// client slows everyone.
package relaytest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/payload"
)

// Action is what the relay does with one message.
type Action int

// Actions for Faults.
const (
	Deliver   Action = iota // relay once
	Drop                    // relay to nobody
	Duplicate               // relay twice in a row
	Hold                    // relay right after the same sender's next message
)

// Relay is a running relay. Close stops it and waits for its goroutines.
type Relay struct {
	// Delay is added to every message before it is relayed.
	Delay time.Duration
	// Fault chooses the action for each loadgen message (nil = Deliver).
	// Non-loadgen messages are always delivered. Called from one
	// goroutine per client.
	Fault func(payload.Header) Action
	// MaxConns refuses upgrades with 503 + Retry-After while this many
	// clients are connected (0 = no limit), as a full server does.
	MaxConns int
	// Wrap relays every data message as a text message of its own,
	// {"from":N,"text":"<base64 of the message>"}, as chat servers that
	// add an envelope do: the loadgen's binary header does not survive.
	Wrap bool
	// TLS serves wss:// with this configuration (nil = plain ws://), for
	// the loadgen's --insecure and --ca.
	TLS *tls.Config

	ln     net.Listener
	mu     sync.Mutex
	conns  map[*peer]struct{}
	held   map[uint32][]byte // per sender: a held frame
	queue  chan queued
	wg     sync.WaitGroup
	closed chan struct{}
	n      int // connections accepted so far; guarded by mu
	fan    fanouts
}

// Conns returns the number of clients connected and not kicked.
func (r *Relay) Conns() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// Kick sends a close frame with code to the most recently connected client
// and stops relaying to it, as a server dropping a slow consumer would. It
// reports whether there was a client.
func (r *Relay) Kick(code ws.StatusCode) bool {
	r.mu.Lock()
	var last *peer
	for p := range r.conns {
		if last == nil || p.seq > last.seq {
			last = p
		}
	}
	if last != nil {
		delete(r.conns, last)
	}
	r.mu.Unlock()
	if last == nil {
		return false
	}
	last.write(ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, "kicked"))))
	return true
}

type peer struct {
	net.Conn
	wmu sync.Mutex
	seq int // order of connection
}

type queued struct {
	at     time.Time
	frames [][]byte
}

// Start listens on 127.0.0.1:0 and serves until Close. Set Delay and
// Fault before calling Start.
func (r *Relay) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if r.TLS != nil {
		ln = tls.NewListener(ln, r.TLS)
	}
	r.ln = ln
	r.conns = map[*peer]struct{}{}
	r.held = map[uint32][]byte{}
	r.closed = make(chan struct{})
	r.queue = make(chan queued, 1<<16)
	r.wg.Add(2)
	go r.accept()
	go r.delayer()
	return nil
}

// URL returns the relay's ws:// URL.
func (r *Relay) URL() string {
	if r.TLS != nil {
		return "wss://" + r.ln.Addr().String() + "/"
	}
	return "ws://" + r.ln.Addr().String() + "/"
}

// Close stops the relay and closes every connection.
func (r *Relay) Close() {
	close(r.closed)
	r.ln.Close()
	r.mu.Lock()
	for p := range r.conns {
		p.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go r.serve(c)
	}
}

func (r *Relay) serve(c net.Conn) {
	defer r.wg.Done()
	defer c.Close()
	up := ws.Upgrader{OnRequest: func([]byte) error {
		r.mu.Lock()
		full := r.MaxConns > 0 && len(r.conns) >= r.MaxConns
		r.mu.Unlock()
		if full {
			return ws.RejectConnectionError(ws.RejectionStatus(503), ws.RejectionHeader(ws.HandshakeHeaderString("Retry-After: 1\r\n")))
		}
		return nil
	}}
	if _, err := up.Upgrade(c); err != nil {
		return
	}
	p := &peer{Conn: c}
	r.mu.Lock()
	r.n++
	p.seq = r.n
	select {
	case <-r.closed:
		r.mu.Unlock()
		return
	default:
	}
	r.conns[p] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.conns, p)
		r.mu.Unlock()
	}()
	br := bufio.NewReaderSize(c, 4096)
	var buf []byte
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		body := buf[:h.Length]
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(body, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			p.write(ws.MustCompileFrame(ws.NewCloseFrame(body)))
			return
		case ws.OpPing:
			p.write(ws.MustCompileFrame(ws.NewPongFrame(body)))
			continue
		case ws.OpPong:
			continue
		}
		if !h.Fin || h.OpCode == ws.OpContinuation {
			return // fragmented messages are out of scope here
		}
		if r.Wrap {
			env := fmt.Sprintf(`{"from":%d,"text":%q}`, p.seq, base64.StdEncoding.EncodeToString(body))
			r.broadcast([][]byte{ws.MustCompileFrame(ws.NewTextFrame([]byte(env)))})
			continue
		}
		frame := ws.MustCompileFrame(ws.NewFrame(h.OpCode, true, body))
		r.relay(frame, body)
	}
}

// relay applies the fault for body and sends frame on.
func (r *Relay) relay(frame, body []byte) {
	frames := [][]byte{frame}
	if hd, err := payload.Decode(body); err == nil {
		act := Deliver
		if r.Fault != nil {
			act = r.Fault(hd)
		}
		r.mu.Lock()
		held := r.held[hd.Sender]
		delete(r.held, hd.Sender)
		if act == Hold {
			r.held[hd.Sender] = frame
		}
		r.mu.Unlock()
		switch act {
		case Drop, Hold:
			frames = nil
		case Duplicate:
			frames = append(frames, frame)
		}
		if held != nil {
			frames = append(frames, held)
		}
	}
	if len(frames) == 0 {
		return
	}
	if r.Delay <= 0 {
		r.broadcast(frames)
		return
	}
	select {
	case r.queue <- queued{at: time.Now().Add(r.Delay), frames: frames}:
	case <-r.closed:
	}
}

func (r *Relay) delayer() {
	defer r.wg.Done()
	for {
		select {
		case <-r.closed:
			return
		case q := <-r.queue:
			if d := time.Until(q.at); d > 0 {
				select {
				case <-time.After(d):
				case <-r.closed:
					return
				}
			}
			r.broadcast(q.frames)
		}
	}
}

func (r *Relay) broadcast(frames [][]byte) {
	r.mu.Lock()
	peers := make([]*peer, 0, len(r.conns))
	for p := range r.conns {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	start := time.Now()
	for _, p := range peers {
		for _, f := range frames {
			p.write(f)
		}
	}
	r.fan.record(time.Since(start))
}

func (p *peer) write(frame []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if _, err := p.Conn.Write(frame); err != nil && !errors.Is(err, net.ErrClosed) {
		p.Conn.Close()
	}
}
