// Command gorilla-hub is a chat-room broadcast server on gorilla/websocket,
// built the way that library's chat example builds one: one hub goroutine
// per room owns the member set, and each connection has a reader goroutine
// and a writer goroutine draining a bounded send channel. The hub encodes
// each message once (websocket.PreparedMessage) and hands it to every
// member, sender included, with the opcode it arrived with; the room is
// the request path. wsbench benches it as the peer "gorilla"
// (harness/BENCH.md).
//
//	bin/gorilla-hub --port 8181 [--host 127.0.0.1]
//
// Bounded: a member whose send channel (--send-queue messages) is full is
// dropped by the hub, as the example does; a write that makes no progress
// for --write-timeout closes the connection; a message above --max-message
// bytes closes it (1009). Rooms live as long as the process (one hub
// goroutine each), as the example's single hub does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8181, "listen port (0: any free port)")
	queue := flag.Int("send-queue", 256, "messages queued per connection before it is dropped")
	maxMessage := flag.Int64("max-message", 1<<20, "largest message in bytes")
	writeTimeout := flag.Duration("write-timeout", 10*time.Second, "close a connection whose write makes no progress for this long")
	flag.Parse()
	if *queue < 1 || *maxMessage < 1 || *writeTimeout <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "gorilla-hub: want --send-queue ≥ 1, --max-message ≥ 1, --write-timeout > 0 and no arguments")
		os.Exit(2)
	}
	srv := &server{rooms: map[string]*hub{}, queue: *queue, maxMessage: *maxMessage, writeTimeout: *writeTimeout,
		upgrader: websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, CheckOrigin: func(*http.Request) bool { return true }}}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gorilla-hub listening on %s\n", ln.Addr())
	hs := &http.Server{Handler: srv}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx) // hijacked connections end with the process
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// server maps request paths to rooms.
type server struct {
	upgrader     websocket.Upgrader
	queue        int
	maxMessage   int64
	writeTimeout time.Duration

	mu    sync.Mutex
	rooms map[string]*hub
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	s.mu.Lock()
	h := s.rooms[r.URL.Path]
	if h == nil {
		h = newHub()
		s.rooms[r.URL.Path] = h
		go h.run()
	}
	s.mu.Unlock()
	c := &client{hub: h, ws: ws, send: make(chan *websocket.PreparedMessage, s.queue)}
	h.register <- c
	go c.writePump(s.writeTimeout)
	c.readPump(s.maxMessage)
}

// hub is one room. Only run touches members.
type hub struct {
	members    map[*client]struct{}
	register   chan *client
	unregister chan *client
	broadcast  chan *websocket.PreparedMessage
}

func newHub() *hub {
	return &hub{members: map[*client]struct{}{}, register: make(chan *client),
		unregister: make(chan *client), broadcast: make(chan *websocket.PreparedMessage, 256)}
}

// run serialises the room: joins, leaves and broadcasts in one order, so
// every member sees one sender's messages in the order they were read.
func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			h.members[c] = struct{}{}
		case c := <-h.unregister:
			h.drop(c)
		case m := <-h.broadcast:
			for c := range h.members {
				select {
				case c.send <- m:
				default: // slow consumer: its queue is full
					h.drop(c)
				}
			}
		}
	}
}

func (h *hub) drop(c *client) {
	if _, ok := h.members[c]; ok {
		delete(h.members, c)
		close(c.send)
	}
}

// client is one connection: readPump owns reads, writePump owns writes.
type client struct {
	hub  *hub
	ws   *websocket.Conn
	send chan *websocket.PreparedMessage
}

func (c *client) readPump(limit int64) {
	defer func() {
		c.hub.unregister <- c
		c.ws.Close()
	}()
	c.ws.SetReadLimit(limit)
	for {
		op, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		pm, err := websocket.NewPreparedMessage(op, data)
		if err != nil {
			return
		}
		c.hub.broadcast <- pm
	}
}

func (c *client) writePump(timeout time.Duration) {
	defer c.ws.Close()
	for m := range c.send {
		_ = c.ws.SetWriteDeadline(time.Now().Add(timeout))
		if err := c.ws.WritePreparedMessage(m); err != nil {
			return
		}
	}
	// Dropped by the hub (or the reader left): say so, as the example does.
	_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "slow consumer"))
}
