// Command gws-broadcast is a chat-room broadcast server on lxzan/gws. Each
// connection has one reading goroutine (ReadLoop) and a write queue that
// gws drains on a goroutine of its own when it has work; a message is
// framed once (gws.Broadcaster) and queued to every member of its room
// (the request path), sender included, with the opcode it arrived with.
// wsbench benches it as the peer "gws" (harness/BENCH.md).
//
//	bin/gws-broadcast --port 8181 [--host 127.0.0.1]
//
// Bounded: gws's write queue has no limit of its own (v1.8.9), so this
// server counts each member's queued frames (a marker job after each
// broadcast frame takes one off) and closes a member with more than
// --send-queue of them; a message above --max-message bytes closes the
// connection (1009).
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lxzan/gws"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8181, "listen port (0: any free port)")
	queue := flag.Int("send-queue", 256, "frames queued per connection before it is dropped")
	maxMessage := flag.Int("max-message", 1<<20, "largest message in bytes")
	flag.Parse()
	if *queue < 1 || *maxMessage < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "gws-broadcast: want --send-queue ≥ 1, --max-message ≥ 1 and no arguments")
		os.Exit(2)
	}
	h := &handler{rooms: map[string]*room{}, queue: int32(*queue)}
	up := gws.NewUpgrader(h, &gws.ServerOption{ReadMaxPayloadSize: *maxMessage})
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gws-broadcast listening on %s\n", ln.Addr())
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		h.join(r.URL.Path, socket)
		go socket.ReadLoop()
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// member is one connection in a room.
type member struct {
	socket  *gws.Conn
	room    *room
	path    string
	pending atomic.Int32 // broadcast frames queued and not yet written
	written func()       // the marker job: made once, so queueing it allocates nothing
}

// room holds its members; broadcasts read an immutable snapshot.
type room struct {
	mu      sync.Mutex
	members map[*member]struct{}
	list    atomic.Pointer[[]*member]
}

func (r *room) publish() {
	l := make([]*member, 0, len(r.members))
	for m := range r.members {
		l = append(l, m)
	}
	r.list.Store(&l)
}

type handler struct {
	queue int32
	mu    sync.Mutex
	rooms map[string]*room
}

const sessionKey = "member"

// join and OnClose hold h.mu, then the room's lock, so that an emptied
// room leaves the map before anyone can join it.
func (h *handler) join(path string, socket *gws.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[path]
	if r == nil {
		r = &room{members: map[*member]struct{}{}}
		h.rooms[path] = r
	}
	m := &member{socket: socket, room: r, path: path}
	m.written = func() { m.pending.Add(-1) }
	socket.Session().Store(sessionKey, m)
	r.mu.Lock()
	r.members[m] = struct{}{}
	r.publish()
	r.mu.Unlock()
}

func (h *handler) OnOpen(*gws.Conn) {}

func (h *handler) OnClose(socket *gws.Conn, _ error) {
	v, ok := socket.Session().Load(sessionKey)
	if !ok {
		return
	}
	m := v.(*member)
	h.mu.Lock()
	defer h.mu.Unlock()
	m.room.mu.Lock()
	delete(m.room.members, m)
	m.room.publish()
	if len(m.room.members) == 0 {
		delete(h.rooms, m.path)
	}
	m.room.mu.Unlock()
}

func (h *handler) OnPing(socket *gws.Conn, payload []byte) { _ = socket.WritePong(payload) }

func (h *handler) OnPong(*gws.Conn, []byte) {}

// OnMessage runs on the sender's ReadLoop goroutine. The message's buffer
// is not handed back to gws's pool (msg.Close): the Broadcaster frames a
// copy of it on its first Broadcast, and leaving it to the garbage
// collector keeps the server safe without relying on that.
func (h *handler) OnMessage(socket *gws.Conn, msg *gws.Message) {
	v, ok := socket.Session().Load(sessionKey)
	if !ok {
		return
	}
	b := gws.NewBroadcaster(msg.Opcode, msg.Bytes())
	defer b.Close()
	for _, m := range *v.(*member).room.list.Load() {
		if m.pending.Add(1) > h.queue {
			// Slow consumer: closing the socket fails its queued and
			// blocked writes, and its ReadLoop ends in OnClose.
			_ = m.socket.NetConn().Close()
			continue
		}
		if err := b.Broadcast(m.socket); err != nil {
			m.pending.Add(-1)
			continue
		}
		m.socket.Async(m.written)
	}
}
