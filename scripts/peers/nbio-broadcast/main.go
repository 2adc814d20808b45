// Command nbio-broadcast is a chat-room broadcast server on
// lesismal/nbio's nbhttp engine (non-blocking I/O: a few poller goroutines
// serve every connection, no goroutine per connection). A message is
// written to every member of its room (the request path), sender
// included, with the opcode it arrived with, from the handler that read
// it: nbio writes to the socket at once and keeps what the kernel does not
// take in the connection's buffer until the poller sees it writable.
// wsbench benches it as the peer "nbio" (harness/BENCH.md).
//
//	bin/nbio-broadcast --port 8181 [--host 127.0.0.1]
//
// Bounded: nbio closes a connection whose unsent bytes exceed
// --max-write-buffer (nbhttp.Config.MaxWriteBufferSize; unbounded when 0,
// so this server sets it); a message above --max-message bytes closes the
// connection.
//
// nbio v1.6.8 does not hand 0-byte data messages to OnMessage (its parser
// drops a message whose body is nil), so those are not relayed; every
// message the loadgen sends carries at least its 32-byte header.
package main

import (
	"context"
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

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8181, "listen port")
	maxWrite := flag.Int("max-write-buffer", 1<<20, "close a connection with more unsent bytes than this")
	maxMessage := flag.Int("max-message", 1<<20, "largest message in bytes")
	flag.Parse()
	if *port < 1 || *maxWrite < 1 || *maxMessage < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "nbio-broadcast: want --port ≥ 1, --max-write-buffer ≥ 1, --max-message ≥ 1 and no arguments")
		os.Exit(2)
	}
	logging.SetLevel(logging.LevelError)
	rs := &rooms{byPath: map[string]map[*websocket.Conn]struct{}{}}
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.MessageLengthLimit = *maxMessage
	up.OnMessage(rs.broadcast)
	up.OnClose(func(c *websocket.Conn, _ error) { rs.leave(c) })
	addr := net.JoinHostPort(*host, fmt.Sprint(*port))
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:            "tcp",
		Addrs:              []string{addr},
		MaxWriteBufferSize: *maxWrite,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			rs.join(r.URL.Path, c)
		}),
	})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("nbio-broadcast listening on %s\n", addr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = engine.Shutdown(sctx)
}

// rooms maps request paths to their members. Handlers run on nbio's
// goroutines, so the map is locked; a room's member set is copied out
// under the lock only when it changed (copy on write), so a broadcast
// holds no lock while it writes.
type rooms struct {
	mu     sync.Mutex
	byPath map[string]map[*websocket.Conn]struct{}
	snap   sync.Map // path → []*websocket.Conn, rebuilt on join/leave
}

type member struct{ path string }

// join runs in the upgrading handler; nbio runs a connection's handlers
// one at a time, so its first message comes after this.
func (rs *rooms) join(path string, c *websocket.Conn) {
	c.SetSession(member{path: path})
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := rs.byPath[path]
	if m == nil {
		m = map[*websocket.Conn]struct{}{}
		rs.byPath[path] = m
	}
	m[c] = struct{}{}
	rs.publish(path, m)
}

func (rs *rooms) leave(c *websocket.Conn) {
	s, ok := c.Session().(member)
	if !ok {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := rs.byPath[s.path]
	delete(m, c)
	if len(m) == 0 {
		delete(rs.byPath, s.path)
		rs.snap.Delete(s.path)
		return
	}
	rs.publish(s.path, m)
}

// publish stores the member list that broadcasts read; rs.mu is held.
func (rs *rooms) publish(path string, m map[*websocket.Conn]struct{}) {
	list := make([]*websocket.Conn, 0, len(m))
	for c := range m {
		list = append(list, c)
	}
	rs.snap.Store(path, list)
}

func (rs *rooms) broadcast(c *websocket.Conn, op websocket.MessageType, data []byte) {
	s, ok := c.Session().(member)
	if !ok {
		return
	}
	list, _ := rs.snap.Load(s.path)
	members, _ := list.([]*websocket.Conn)
	for _, m := range members {
		_ = m.WriteMessage(op, data) // an error closes m, and OnClose removes it
	}
}
