package rawclient

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Wire limits: a case's log keeps its first MaxWireLines lines, each
// showing at most wirePreview bytes of payload, so a 16 MiB case costs
// kilobytes.
const (
	MaxWireLines = 200
	wirePreview  = 48
)

// Wire is the wire log of one case: every upgrade, frame and TCP write its
// connections made or saw, with the time since the log started. It is safe
// for concurrent use (a case may have several connections and goroutines).
// A nil *Wire logs nothing.
type Wire struct {
	start   time.Time
	mu      sync.Mutex
	lines   []string
	dropped int
	close   int // code of the last close frame received; 0 none, 1005 empty
}

// NewWire starts a log.
func NewWire() *Wire { return &Wire{start: time.Now()} }

type wireKey struct{}

// WithWire returns ctx carrying w: connections opened with it log to w.
func WithWire(ctx context.Context, w *Wire) context.Context {
	return context.WithValue(ctx, wireKey{}, w)
}

func wireFrom(ctx context.Context) *Wire {
	w, _ := ctx.Value(wireKey{}).(*Wire)
	return w
}

// Lines returns the log, with a last line saying how many were left out.
func (w *Wire) Lines() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.lines...)
	if w.dropped > 0 {
		out = append(out, fmt.Sprintf("… %d more lines not kept", w.dropped))
	}
	return out
}

// CloseCode is the code of the last close frame received (1005 for an
// empty one), or 0 when none arrived.
func (w *Wire) CloseCode() int {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.close
}

func (w *Wire) logf(label, format string, args ...any) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lines) >= MaxWireLines {
		w.dropped++
		return
	}
	w.lines = append(w.lines, fmt.Sprintf("%8.3fms %s %s", float64(time.Since(w.start).Microseconds())/1000, label, fmt.Sprintf(format, args...)))
}

// sent logs bytes written: as frames when they are whole frames, else as
// bytes.
func (w *Wire) sent(conn string, b []byte) {
	if w == nil {
		return
	}
	if len(b) > 64<<10 {
		w.logf(conn+" →", "%d bytes: % x…", len(b), b[:wirePreview])
		return
	}
	r := bytes.NewReader(b)
	var fs []Frame
	for r.Len() > 0 {
		f, err := ReadFrame(r)
		if err != nil {
			fs = nil
			break
		}
		fs = append(fs, f)
	}
	if len(fs) == 0 || len(fs) > 8 {
		w.logf(conn+" →", "%d bytes: % x", len(b), b[:min(len(b), wirePreview)])
		return
	}
	for _, f := range fs {
		w.logf(conn+" →", "%s", describe(f))
	}
}

func (w *Wire) received(conn string, f Frame) {
	if w == nil {
		return
	}
	if f.Op == ws.OpClose {
		code := 1005
		if len(f.Payload) >= 2 {
			c, _, _ := ParseClose(f.Payload)
			code = int(c)
		}
		w.mu.Lock()
		w.close = code
		w.mu.Unlock()
	}
	w.logf(conn+" ←", "%s", describe(f))
}

// describe is one frame as a log line: opcode, flags, length, payload.
func describe(f Frame) string {
	var b strings.Builder
	b.WriteString(opString(f.Op))
	if !f.Fin {
		b.WriteString(" (not final)")
	}
	if f.Rsv != 0 {
		fmt.Fprintf(&b, " rsv=%03b", f.Rsv)
	}
	if f.Masked {
		b.WriteString(" masked")
	}
	fmt.Fprintf(&b, " %d bytes", len(f.Payload))
	p := f.Payload
	if f.Op == ws.OpClose && len(p) >= 2 {
		code, reason, _ := ParseClose(p)
		fmt.Fprintf(&b, ": code %d", code)
		p = []byte(reason)
	}
	if len(p) > 0 {
		show := p[:min(len(p), wirePreview)]
		if utf8.Valid(show) {
			fmt.Fprintf(&b, " %q", show)
		} else {
			fmt.Fprintf(&b, " % x", show)
		}
		if len(p) > len(show) {
			b.WriteString("…")
		}
	}
	return b.String()
}

func opString(op ws.OpCode) string {
	switch op {
	case ws.OpContinuation:
		return "continuation"
	case ws.OpText:
		return "text"
	case ws.OpBinary:
		return "binary"
	case ws.OpClose:
		return "close"
	case ws.OpPing:
		return "ping"
	case ws.OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode %#x", byte(op))
}
