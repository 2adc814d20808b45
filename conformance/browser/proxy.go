package browser

import (
	"errors"
	"io"
	"net"
	"sync"
)

// Proxy is a TCP proxy that can cut the network the way a real outage
// does, which Chromium's offline emulation cannot do for WebSockets:
//
//   - Freeze stops forwarding on every current link but keeps both sockets
//     open, so neither end sees a FIN or RST: only a heartbeat notices.
//     Links made after Freeze forward normally (the network came back for
//     new connections); Thaw resumes the frozen ones.
//   - Drop closes every current link at once (both ends see the close).
//
// Its methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	links  map[*link]struct{}
	closed bool
	wg     sync.WaitGroup
}

// link is one proxied connection pair.
type link struct {
	client, server net.Conn
	mu             sync.Mutex
	frozen         bool
	thaw           chan struct{} // closed when no longer frozen
}

// NewProxy listens on 127.0.0.1:0 and forwards every connection to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, links: make(map[*link]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients should dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(l, s, c)
		go p.pipe(l, c, s)
	}
}

// pipe copies src to dst, holding what it read while the link is frozen.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	defer p.wg.Done()
	defer p.forget(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			l.mu.Lock()
			thaw := l.thaw
			frozen := l.frozen
			l.mu.Unlock()
			if frozen {
				<-thaw // closed by Thaw, Drop or Close
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
					return
				}
			}
			dst.Close()
			return
		}
	}
}

func (p *Proxy) forget(l *link) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

func (l *link) shut() {
	l.mu.Lock()
	if l.frozen {
		l.frozen = false
		close(l.thaw)
	}
	l.mu.Unlock()
	l.client.Close()
	l.server.Close()
}

// Freeze stops forwarding on every current link; it returns how many.
func (p *Proxy) Freeze() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.mu.Lock()
		if !l.frozen {
			l.frozen = true
			l.thaw = make(chan struct{})
		}
		l.mu.Unlock()
	}
	return len(p.links)
}

// Thaw resumes forwarding on frozen links, delivering what they held.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.mu.Lock()
		if l.frozen {
			l.frozen = false
			close(l.thaw)
		}
		l.mu.Unlock()
	}
}

// Drop closes every current link; it returns how many.
func (p *Proxy) Drop() int {
	p.mu.Lock()
	ls := make([]*link, 0, len(p.links))
	for l := range p.links {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	for _, l := range ls {
		l.shut()
	}
	return len(ls)
}

// Close stops listening, closes every link and waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Drop()
	p.wg.Wait()
	return err
}
