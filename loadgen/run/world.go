package run

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/payload"
	"github.com/wsbench/wsbench/loadgen/receive"
	"github.com/wsbench/wsbench/loadgen/report"
)

// Defaults of the real-world-server options.
const (
	DefaultAwaitTimeout = 10 * time.Second
	DefaultScanBytes    = receive.DefaultScanBytes
	// MaxRooms bounds --rooms (each room keeps a histogram of ~20 KiB).
	MaxRooms = 1000
	// MaxScanBytes bounds --scan-bytes (each receiver keeps that much).
	MaxScanBytes = 1 << 20
)

// Payload kinds of World.Payload.
const (
	PayloadBinary = "binary"
	PayloadText   = "text"
)

// Expectations of World.Expect.
const (
	ExpectAll    = "all"
	ExpectOthers = "others"
)

// World holds what it takes to load servers other than a byte-for-byte
// relay of one room: text and templated messages, a join script, who
// receives what, rooms, handshake headers, keepalives, TLS and
// compression. Its zero value is the binary payload in one room, every
// message owed to every receiver, a plain upgrade.
type World struct {
	Payload        string        // PayloadBinary (default) or PayloadText
	Template       string        // text message around {{token}}; implies PayloadText
	ScanBytes      int           // how far into a message receivers look for the token; 0 = DefaultScanBytes
	OnOpen         []string      // texts each client sends right after the upgrade (templated)
	Await          string        // regexp: a client is connected once a message matches
	AwaitTimeout   time.Duration // bound on the wait for Await; 0 = DefaultAwaitTimeout
	Expect         string        // ExpectAll (default) or ExpectOthers
	Rooms          int           // rooms, {{room}} in URL or templates; 0 = 1
	Header         []string      // "Key: Value" handshake headers (templated)
	Subprotocol    []string      // Sec-WebSocket-Protocol offer
	Origin         string        // Origin header
	Keepalive      string        // text every client sends every KeepaliveEvery
	KeepaliveEvery time.Duration // 0 = no keepalive
	Ignore         string        // regexp: received messages that are neither data nor foreign
	Insecure       bool          // wss:// without certificate verification
	CA             string        // PEM file of roots for wss://
	Deflate        bool          // offer permessage-deflate
}

// text reports whether messages carry the text token.
func (w World) text() bool { return w.Payload == PayloadText || w.Template != "" }

// rooms returns the number of rooms (at least 1).
func (w World) rooms() int { return max(w.Rooms, 1) }

// UsesWorld reports whether the run uses any World option or a templated
// --url (loadgen/shard carries them to the parts of a run).
func (c Config) UsesWorld() bool { return c.World.active() || strings.Contains(c.URL, "{{") }

func (w World) active() bool {
	return w.text() || w.ScanBytes != 0 || len(w.OnOpen) > 0 || w.Await != "" || w.AwaitTimeout != 0 ||
		w.Expect == ExpectOthers || w.Rooms > 1 || len(w.Header) > 0 || len(w.Subprotocol) > 0 ||
		w.Origin != "" || w.Keepalive != "" || w.KeepaliveEvery != 0 || w.Ignore != "" || w.Insecure ||
		w.CA != "" || w.Deflate
}

// validate checks the options against c; errors say what to change.
func (w World) validate(c Config, bad func(string, ...any) error) error {
	switch w.Payload {
	case "", PayloadBinary, PayloadText:
	default:
		return bad("--payload %q: want binary or text", w.Payload)
	}
	if w.text() && c.Size < 0 {
		return bad("--size %d must not be negative", c.Size)
	}
	if w.Payload == PayloadBinary && w.Template != "" {
		return bad("--template sends text; drop --payload binary (--template implies --payload text)")
	}
	var msg *payload.Message
	if w.Template != "" {
		t, err := payload.ParseTemplate(w.Template, true)
		if err != nil {
			return bad("--template: %v", err)
		}
		msg = t.Bind(0, 0)
	} else if w.text() {
		msg = payload.PlainText.Bind(0, 0)
	}
	scan := w.ScanBytes
	if scan == 0 {
		scan = DefaultScanBytes
	}
	switch {
	case scan < payload.TokenLen || scan > MaxScanBytes:
		return bad("--scan-bytes %d: want %d (one token) up to %d", w.ScanBytes, payload.TokenLen, MaxScanBytes)
	case msg != nil && msg.TokenAt(c.Size)+payload.TokenLen > scan:
		return bad("--scan-bytes %d: the token ends at byte %d of the message, beyond what receivers scan; raise --scan-bytes or put {{token}} earlier in --template", scan, msg.TokenAt(c.Size)+payload.TokenLen)
	}
	for _, s := range w.OnOpen {
		if _, err := payload.ParseTemplate(s, false); err != nil {
			return bad("--on-open: %v", err)
		}
	}
	for _, s := range w.Header {
		if k, _, ok := strings.Cut(s, ":"); !ok || strings.TrimSpace(k) == "" {
			return bad("--header %q: want 'Key: Value', e.g. --header 'Authorization: Bearer user-{{client}}'", s)
		}
		if _, err := payload.ParseTemplate(s, false); err != nil {
			return bad("--header: %v", err)
		}
	}
	if strings.Contains(c.URL, "{{") {
		if _, err := payload.ParseTemplate(c.URL, false); err != nil {
			return bad("--url: %v", err)
		}
	}
	if w.Await != "" {
		if _, err := regexp.Compile(w.Await); err != nil {
			return bad("--await %q: %v", w.Await, err)
		}
	} else if w.AwaitTimeout != 0 {
		return bad("--await-timeout bounds --await; give --await REGEX (a message that says the client has joined) or drop --await-timeout")
	}
	if w.AwaitTimeout < 0 {
		return bad("--await-timeout %v must not be negative", w.AwaitTimeout)
	}
	if w.Ignore != "" {
		if _, err := regexp.Compile(w.Ignore); err != nil {
			return bad("--ignore %q: %v", w.Ignore, err)
		}
	}
	switch w.Expect {
	case "", ExpectAll, ExpectOthers:
	default:
		return bad("--expect %q: want all (the server echoes to the sender too) or others (it does not)", w.Expect)
	}
	if w.Expect == ExpectOthers && c.Clients < 2 && c.TotalSenders == 0 { // a part of a larger run may have one client
		return bad("--expect others with --clients %d: nobody would be owed a message; use at least 2 clients", c.Clients)
	}
	if w.Rooms < 0 || w.Rooms > MaxRooms {
		return bad("--rooms %d: want 1 up to %d", w.Rooms, MaxRooms)
	}
	if n := w.rooms(); n > 1 {
		templated := strings.Contains(c.URL, payload.PhRoom) || strings.Contains(w.Template, payload.PhRoom)
		for _, s := range append(append([]string{}, w.OnOpen...), w.Header...) {
			templated = templated || strings.Contains(s, payload.PhRoom)
		}
		switch {
		case !templated:
			return bad("--rooms %d: nothing tells the server which room a client is in; put {{room}} in --url (ws://host/room-{{room}}), --on-open or --template", n)
		case n > c.Clients:
			return bad("--rooms %d exceeds --clients %d: every room needs a client", n, c.Clients)
		case c.senders()%n != 0 || c.totalSenders() != c.senders():
			return bad("--rooms %d with %d senders: slot n goes to room n mod %d, so the senders must be a multiple of the rooms; set --senders to a multiple of %d", n, c.senders(), n, n)
		}
	}
	if (w.Keepalive == "") != (w.KeepaliveEvery == 0) {
		return bad("--keepalive TEXT and --keepalive-every DURATION go together, e.g. --keepalive ping --keepalive-every 4s")
	}
	if w.KeepaliveEvery < 0 || w.KeepaliveEvery > 0 && w.KeepaliveEvery < 10*time.Millisecond {
		return bad("--keepalive-every %v: want at least 10ms", w.KeepaliveEvery)
	}
	if u, err := url.Parse(c.URL); err == nil && u.Scheme != "wss" && (w.Insecure || w.CA != "") {
		return bad("--insecure and --ca apply to wss:// URLs; --url %s is not one", c.URL)
	}
	if w.Insecure && w.CA != "" {
		return bad("--insecure skips verification, so --ca would not be used; give one of them")
	}
	return nil
}

// world is a run's prepared World: parsed templates and regexps, the
// resolved server address, the TLS settings.
type world struct {
	World
	addr      string // resolved "ip:port"
	tls       *tls.Config
	url       *payload.Template
	onOpen    []*payload.Template
	header    []*payload.Template
	message   *payload.Template // data messages in text mode; nil = binary
	pad       *payload.Pad
	await     *regexp.Regexp
	ignore    *regexp.Regexp
	keepalive []byte
	wg        sync.WaitGroup // keepalive goroutines
	sentRoom  []atomic.Int64 // measured broadcasts sent per room

	mu        sync.Mutex
	extension string // the server's permessage-deflate answer (first connection)
	deflated  int64  // connections that negotiated it
	protocol  string // the subprotocol the server selected (first connection)
}

// prepare builds the world of cfg (already validated); it resolves the
// server's host once for the whole run.
func prepare(ctx context.Context, cfg Config) (*world, error) {
	w := &world{World: cfg.World, sentRoom: make([]atomic.Int64, cfg.rooms())}
	var err error
	if w.url, err = payload.ParseTemplate(cfg.URL, false); err != nil {
		return nil, fmt.Errorf("%w: --url: %v", ErrUsage, err)
	}
	for _, s := range w.OnOpen {
		t, _ := payload.ParseTemplate(s, false)
		w.onOpen = append(w.onOpen, t)
	}
	for _, s := range w.Header {
		t, _ := payload.ParseTemplate(s, false)
		w.header = append(w.header, t)
	}
	switch {
	case w.Template != "":
		w.message, _ = payload.ParseTemplate(w.Template, true)
	case w.text():
		w.message = payload.PlainText
	}
	w.pad = payload.NewPad(cfg.Size, w.message != nil, uint64(time.Now().UnixNano()))
	if w.Await != "" {
		w.await = regexp.MustCompile(w.Await)
	}
	if w.Ignore != "" {
		w.ignore = regexp.MustCompile(w.Ignore)
	}
	w.keepalive = []byte(w.Keepalive)
	if w.tls, err = client.TLSConfig(w.Insecure, w.CA); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	rawURL := w.url.Expand(0, 0)
	if w.addr, err = client.Resolve(ctx, rawURL); err != nil {
		return nil, err
	}
	return w, nil
}

// rooms returns the number of rooms of the run (at least 1).
func (c Config) rooms() int { return c.World.rooms() }

// roomOf returns the room of local client i: clients are assigned
// round-robin, so sender k (client k) is in room k mod rooms.
func (c Config) roomOf(i int) int { return (c.ClientBase + i) % c.rooms() }

// dialer returns the dialer of local client i.
func (w *world) dialer(cfg Config, i int) client.Dialer {
	room := cfg.roomOf(i)
	hs := &client.Handshake{Protocols: w.Subprotocol, Origin: w.Origin, TLS: w.tls, Deflate: w.Deflate}
	for _, t := range w.header {
		hs.Header = append(hs.Header, t.Expand(cfg.ClientBase+i, room))
	}
	d := client.Dialer{Timeout: cfg.ConnectTimeout, Addr: w.addr, Handshake: hs}
	if n := len(cfg.SourceIPs); n > 0 {
		d.Local = cfg.SourceIPs[(cfg.ClientBase+i)%n]
	}
	return d
}

// readerOptions returns the receive options of local client i.
func (w *world) readerOptions(cfg Config, i int) receive.Options {
	self := -1
	if i < cfg.senders() {
		self = cfg.SenderBase + i
	}
	return receive.Options{Text: w.message != nil, ScanBytes: w.ScanBytes, Ignore: w.ignore, Await: w.await, Room: cfg.roomOf(i), Self: self}
}

// errAwait is wrapped when no message matched --await in time.
var errAwait = errors.New("no message matched --await")

// join sends the --on-open texts of local client i and waits for --await.
func (w *world) join(ctx context.Context, cfg Config, i int, m *member) error {
	w.mu.Lock()
	if m.conn.Deflate {
		w.deflated++
	}
	if w.extension == "" {
		w.extension = m.conn.Extension
	}
	if w.protocol == "" {
		w.protocol = m.conn.Protocol
	}
	w.mu.Unlock()
	for _, t := range w.onOpen {
		if err := m.conn.WriteMessage(ws.OpText, []byte(t.Expand(cfg.ClientBase+i, cfg.roomOf(i)))); err != nil {
			return fmt.Errorf("--on-open: %w", err)
		}
	}
	joined := m.reader.Joined()
	if joined == nil {
		return nil
	}
	d := w.AwaitTimeout
	if d == 0 {
		d = DefaultAwaitTimeout
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-joined:
		return nil
	case <-m.done:
		return fmt.Errorf("%w %q: the server closed the connection first (%v)", errAwait, w.Await, m.err)
	case <-t.C:
		return fmt.Errorf("%w %q within --await-timeout %v", errAwait, w.Await, d)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keepAlive sends --keepalive on m every --keepalive-every until the
// connection ends; local client i's first one is offset by its share of
// the period, so that thousands of clients do not send at one instant.
func (w *world) keepAlive(cfg Config, i int, m *member) {
	if w.KeepaliveEvery <= 0 {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		every := w.KeepaliveEvery
		t := time.NewTimer(every * time.Duration(i%cfg.Clients) / time.Duration(cfg.Clients))
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
			}
			if err := m.conn.WriteMessage(ws.OpText, w.keepalive); err != nil {
				return
			}
			t.Reset(every)
		}
	}()
}

// bind returns the data message of local sender k (nil in binary mode).
func (w *world) bind(cfg Config, k int) *payload.Message {
	if w.message == nil {
		return nil
	}
	return w.message.Bind(cfg.ClientBase+k, cfg.roomOf(k))
}

// owed returns how many measured broadcasts local client i was owed, of
// sent in all: its room's share, less its own under --expect others.
func (r *runner) owed(i int, m *member, sent int64) int64 {
	if r.cfg.rooms() == 1 && r.cfg.Expect != ExpectOthers {
		return sent
	}
	n := sent
	if r.cfg.rooms() > 1 {
		n = r.world.sentRoom[r.cfg.roomOf(i)].Load()
	}
	if r.cfg.Expect == ExpectOthers {
		n -= m.sent.Load()
	}
	return n
}

// owedNow returns the deliveries owed so far to the connected receivers,
// for the drain; perReceiver is what each is owed with one room, every
// message to everyone.
func (r *runner) owedNow(perReceiver int64) int64 {
	if r.cfg.rooms() == 1 && r.cfg.Expect != ExpectOthers {
		return perReceiver * r.connected.Load()
	}
	var n int64
	for i, m := range r.members {
		if m != nil && m.state.Load() == 1 {
			n += r.owed(i, m, perReceiver)
		}
	}
	return n
}

// worldReport adds the rooms, the compression and the hints of the World
// options to rep, whose counters are set.
func (r *runner) worldReport(rep *report.Report) {
	cfg := r.cfg
	w := r.world
	if w.message != nil {
		rep.Config.Payload = PayloadText
		rep.Config.Template = w.Template
	}
	if cfg.Expect == ExpectOthers {
		rep.Config.Expect = ExpectOthers
	}
	if n := cfg.rooms(); n > 1 {
		rep.Config.Rooms = n
		rows := make([]report.Room, n)
		for k := range rows {
			rows[k] = report.Room{Room: k, Sent: w.sentRoom[k].Load()}
			h := r.stats.RoomLatency(k)
			rows[k].LatencyMs = report.Summarize(h)
			if h != nil {
				rows[k].Histogram, _ = report.EncodeHistogram(h)
			}
		}
		for i, m := range r.members {
			if m == nil || m.dropped {
				continue
			}
			row := &rows[cfg.roomOf(i)]
			row.Receivers++
			row.Expected += r.owed(i, m, r.sentWin.Load())
			row.Delivered += m.reader.Tracker.Delivered
			row.Lost -= m.reader.Tracker.Unique()
		}
		for k := range rows {
			rows[k].Lost = max(0, rows[k].Lost+rows[k].Expected)
		}
		rep.Rooms = rows
	}
	w.mu.Lock()
	if w.Deflate {
		rep.Compression = &report.Compression{Offered: client.DeflateOffer, Negotiated: w.deflated, Params: w.extension}
	}
	w.mu.Unlock()
	warn := func(format string, a ...any) {
		rep.Generator.Warnings = append(rep.Generator.Warnings, fmt.Sprintf(format, a...))
	}
	m := rep.Messages
	if len(w.Subprotocol) > 0 && w.protocol == "" && rep.Connections.Established > 0 {
		warn("the server selected none of the offered subprotocols %q", w.Subprotocol)
	}
	if w.Deflate && w.deflated == 0 && rep.Connections.Established > 0 {
		warn("the server declined permessage-deflate: the run was not compressed")
	}
	// Every loss a sender's own copy: the server relays to everyone but
	// the sender.
	if cfg.Expect != ExpectOthers && m.Lost > 0 {
		var ownMissing int64
		for _, mb := range r.members {
			if mb != nil && !mb.dropped {
				ownMissing += mb.sent.Load() - mb.reader.OwnUnique
			}
		}
		if ownMissing == m.Lost {
			warn("every lost message is a sender's own copy: the server does not deliver to the sender: use --expect others")
		}
	}
	if m.Sent > 0 && m.Delivered == 0 && m.Foreign > 0 && w.message == nil {
		warn("nothing delivered but %d foreign messages: if the server wraps or re-encodes messages (JSON envelopes, text), use --payload text or --template '{\"text\":\"{{token}}\"}'", m.Foreign)
	}
	if m.Unexpected > 0 && cfg.rooms() > 1 {
		warn("%d measured messages arrived at receivers not owed them (another room's, or a sender's own under --expect others): check that {{room}} reaches the server so that it separates the rooms", m.Unexpected)
	}
	if m.Unexpected > 0 && cfg.Expect == ExpectOthers && cfg.rooms() == 1 {
		warn("%d own copies arrived although --expect others: the server echoes to the sender; use --expect all", m.Unexpected)
	}
}
