package cases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// Chop modes of a script: how its frames are cut into TCP writes. A
// positive chop writes that many bytes per write.
const (
	chopNone  = 0  // every frame in one write
	chopFrame = -1 // one write per frame
)

// event is what a script expects from the server: a whole data message
// (OpText or OpBinary, reassembled) or a pong.
type event struct {
	op      ws.OpCode
	payload []byte
}

func (e event) String() string {
	p := e.payload
	if len(p) > 24 {
		return fmt.Sprintf("%s of %d bytes", opName(e.op), len(p))
	}
	return fmt.Sprintf("%s %q", opName(e.op), p)
}

func msg(op ws.OpCode, p []byte) event { return event{op: op, payload: p} }
func pong(p []byte) event              { return event{op: ws.OpPong, payload: p} }

// script is one table-driven case in the style of the Autobahn testsuite:
// write frames (cut into TCP writes by chop), expect events in order, then
// either close cleanly (fail == nil) or expect the server to fail the
// connection with one of fail.
type script struct {
	id, autobahn, group, title, ref string

	frames []rawclient.Frame
	chop   int
	// closes marks a script whose frames include our close frame: no
	// further close is sent, the server's reply is awaited.
	closes bool
	want   []event
	// forbid are events that should not arrive (data we sent after our
	// close frame): NON-STRICT when they do.
	forbid []event
	// fail, when set, are the close codes the server must fail the
	// connection with once want has arrived (RFC 6455 §7.1.7).
	fail []uint16
	// informational reports the outcome without judging it (Autobahn's
	// INFORMATIONAL cases, e.g. close codes above 4999).
	informational bool
	// relaxed scripts (large messages) run only with --relaxed.
	relaxed bool
	// build, when set, fills frames and want when the case runs, so that
	// large payloads are not held by the catalogue; msgSize is then the
	// largest message it will send.
	build   func(s *script)
	msgSize int64
	// deflate scripts offer permessage-deflate (RFC 7692) and run only
	// when it is negotiated (and --deflate given); dbuild then fills
	// frames and want with the agreed compression state.
	deflate bool
	dbuild  func(s *script, d *rawclient.Deflate)
}

// size is the largest message the script sends, for --max-message.
func (s script) size() int64 {
	if s.build != nil || s.dbuild != nil {
		return s.msgSize
	}
	var n, cur int64
	for _, f := range s.frames {
		if f.Op >= ws.OpClose {
			continue
		}
		if f.Op != ws.OpContinuation {
			cur = 0
		}
		cur += int64(len(f.Payload))
		n = max(n, cur)
	}
	return n
}

// extra is the time a relaxed script gets beyond one reply's wait: 2 s
// per MiB and 1 s per 10,000 frames it sends (the size is known before
// build; 9.3/9.4 send 4 MiB in as little as 64-byte fragments).
func (s script) extra() time.Duration {
	frames := int64(len(s.frames))
	if s.build != nil && s.msgSize > 0 {
		frames = 65536 // not built yet: the most any PF script sends
	}
	return time.Duration(s.size()>>20)*2*time.Second + time.Duration(frames/10000)*time.Second
}

// sentCode is the code of the script's first close frame (1000 when it
// sends none: judgeClean sends 1000).
func (s script) sentCode() uint16 {
	for _, f := range s.frames {
		if f.Op == ws.OpClose && len(f.Payload) >= 2 {
			code, _, _ := rawclient.ParseClose(f.Payload)
			return code
		}
	}
	return 1000
}

// piece is one TCP write of a script; aligned when it ends on a frame
// boundary (a pong may be written after it).
type piece struct {
	b       []byte
	aligned bool
}

// writes cuts the script's frames into the pieces written one by one.
func (s script) writes() []piece {
	switch {
	case s.chop == chopFrame:
		out := make([]piece, len(s.frames))
		for i, f := range s.frames {
			out[i] = piece{f.Append(nil), true}
		}
		return out
	case s.chop > 0:
		var all []byte
		ends := map[int]bool{}
		for _, f := range s.frames {
			all = f.Append(all)
			ends[len(all)] = true
		}
		var out []piece
		for off := 0; off < len(all); off += s.chop {
			end := min(off+s.chop, len(all))
			out = append(out, piece{all[off:end], ends[end]})
		}
		return out
	}
	return []piece{{frames(s.frames...), true}}
}

// ponger answers the server's pings during a script, between the script's
// frames (never inside one), and not after our close frame.
type ponger struct {
	c     *rawclient.Conn
	mu    sync.Mutex // held by whoever writes: the script's writer between frame boundaries, a pong, our close
	done  bool       // our close frame is out: no more pongs
	pings chan []byte
	wg    sync.WaitGroup
}

func newPonger(c *rawclient.Conn) *ponger {
	p := &ponger{c: c, pings: make(chan []byte, 8)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for b := range p.pings {
			p.mu.Lock()
			if !p.done {
				_ = c.Send(ws.OpPong, b)
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// ping queues a pong for b; it never blocks the reader (a full queue drops
// it: §5.5.3 lets a peer answer only the latest ping anyway).
func (p *ponger) ping(b []byte) {
	select {
	case p.pings <- bytes.Clone(b):
	default:
	}
}

// write writes the script's pieces, letting pongs in at frame boundaries.
func (p *ponger) write(ws []piece) error {
	locked := false
	defer func() {
		if locked {
			p.mu.Unlock()
		}
	}()
	for _, w := range ws {
		if !locked {
			p.mu.Lock()
			locked = true
		}
		if err := p.c.WriteRaw(w.b); err != nil {
			return err
		}
		if w.aligned {
			p.mu.Unlock()
			locked = false
		}
	}
	return nil
}

// sendClose writes our close frame; no pong follows it.
func (p *ponger) sendClose() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	return p.c.SendClose(1000, "")
}

func (p *ponger) stop() {
	close(p.pings)
	p.wg.Wait()
}

// cases turns scripts into catalogue entries.
func (k *kit) scripts(ss []script) []suite.Case {
	out := make([]suite.Case, len(ss))
	for i, s := range ss {
		out[i] = suite.Case{ID: s.id, Group: s.group, Title: s.title, Ref: s.ref, Autobahn: s.autobahn,
			Run: func(ctx context.Context, env *suite.Env) suite.Result { return k.runScript(ctx, env, s) }}
		if s.relaxed {
			// Megabytes in up to 65,536 frames: alone (so a slow server is
			// not also starved by other cases), with time for the bytes.
			out[i].Serial = true
			out[i].Budget = func(env *suite.Env) time.Duration { return env.CaseTimeout + s.extra() + 5*time.Second }
		}
	}
	return out
}

// reader reassembles what the server sends into events, answering nothing
// (a script's writer owns the connection while it writes).
type reader struct {
	c       *rawclient.Conn
	pong    *ponger
	want    []event
	matched int    // want[:matched] have arrived, in order
	skipped int    // wanted pongs a later pong stood for
	cur     []byte // data message being reassembled
	curOp   ws.OpCode
	curRsv1 bool               // the message's first frame had RSV1: compressed
	deflate *rawclient.Deflate // the agreed permessage-deflate; nil: none
	limit   int64              // largest inflated message accepted
	got     []event
	closed  bool // the server's close frame arrived
	code    uint16
	reason  string
	empty   bool // its body was empty
	err     error
}

func (r *reader) add(g event) {
	r.got = append(r.got, g)
	r.step(g)
}

// until reads until done() holds, a close frame arrives, the connection
// fails or the deadline passes (r.err is then os.ErrDeadlineExceeded).
func (r *reader) until(deadline time.Time, done func() bool) {
	for !done() && !r.closed && r.err == nil {
		f, err := r.c.Next(time.Until(deadline))
		if err != nil {
			r.err = err
			return
		}
		switch f.Op {
		case ws.OpClose:
			r.closed, r.empty = true, len(f.Payload) == 0
			var ok bool
			if r.code, r.reason, ok = rawclient.ParseClose(f.Payload); !ok {
				r.code = 0
			}
		case ws.OpPong:
			r.add(pong(f.Payload))
		case ws.OpPing:
			// Server heartbeats are not part of any script, but are
			// answered: an idle timeout must not end a long transfer.
			r.pong.ping(f.Payload)
		case ws.OpText, ws.OpBinary, ws.OpContinuation:
			if f.Op != ws.OpContinuation {
				r.cur, r.curOp, r.curRsv1 = r.cur[:0], f.Op, f.Rsv&4 != 0
			}
			r.cur = append(r.cur, f.Payload...)
			if f.Fin {
				p := bytes.Clone(r.cur)
				if r.curRsv1 && r.deflate != nil {
					var err error
					if p, err = r.deflate.Decompress(r.cur, r.limit); err != nil {
						r.err = fmt.Errorf("the server's compressed message does not inflate: %w", err)
						return
					}
				}
				r.add(msg(r.curOp, p))
				r.cur = r.cur[:0]
			}
		}
	}
}

// step matches g against the next wanted event. Events that match nothing
// wanted are skipped (server pushes); a pong may stand for earlier wanted
// pongs it follows (RFC 6455 §5.5.3 lets a server answer only the latest
// ping), counted in r.skipped.
func (r *reader) step(g event) {
	if r.matched == len(r.want) {
		return
	}
	if w := r.want[r.matched]; g.op == w.op && bytes.Equal(g.payload, w.payload) {
		r.matched++
		return
	}
	if g.op != ws.OpPong {
		return
	}
	for j := r.matched + 1; j < len(r.want); j++ {
		if r.want[j].op == ws.OpPong && bytes.Equal(r.want[j].payload, g.payload) {
			r.skipped += j - r.matched
			r.matched = j + 1
			return
		}
	}
}

func (k *kit) runScript(ctx context.Context, env *suite.Env, s script) suite.Result {
	if s.relaxed && !env.Relaxed {
		return suite.Skip("large messages run only with --relaxed")
	}
	if env.MaxMessage > 0 && s.size() > env.MaxMessage {
		return suite.Skip(fmt.Sprintf("a %d-byte message is above --max-message %d", s.size(), env.MaxMessage))
	}
	if s.build != nil {
		s.build(&s)
		s.build = nil
	}
	if s.deflate && !env.Deflate {
		return suite.Skip("permessage-deflate cases run only with --deflate")
	}
	var c *rawclient.Conn
	var df *rawclient.Deflate
	var writes []piece
	if s.deflate {
		var skip *suite.Result
		if c, df, skip = k.openDeflate(ctx, env, s.id, offerDefault, true); skip != nil {
			return *skip
		}
		s.dbuild(&s, df)
		writes = s.writes()
	} else {
		// Encoded before connecting: masking megabytes takes long enough
		// (under -race) for a server's idle timeout to close a silent
		// socket.
		writes = s.writes()
		var err error
		if c, _, err = k.openRoom(ctx, env, s.id); err != nil {
			return suite.Failf("a valid handshake", "%v", err)
		}
	}
	defer c.Close()
	c.AutoPong = false
	pg := newPonger(c)
	defer pg.stop()
	r := &reader{c: c, pong: pg, want: s.want, deflate: df, limit: rawclient.MaxReadPayload}
	if env.MaxMessage > 0 {
		r.limit = 2 * env.MaxMessage // a server may send what it accepts; more is not an echo
	}
	werr := make(chan error, 1)
	go func() { werr <- pg.write(writes) }()
	d := wait(env)
	if s.relaxed {
		d += s.extra()
	}
	deadline := time.Now().Add(d)
	r.until(deadline, func() bool { return r.matched == len(s.want) })
	var writeErr error
	select {
	case writeErr = <-werr:
	case <-time.After(time.Until(deadline)):
		_ = c.NC.SetWriteDeadline(time.Now())
		writeErr = <-werr
	}
	if s.fail != nil {
		return s.judgeFail(env, r, writeErr)
	}
	return s.judgeClean(env, r, writeErr)
}

// missing describes the wanted events that did not arrive.
func (s script) missing(r *reader) string {
	var got []string
	for _, g := range r.got[max(0, len(r.got)-5):] {
		got = append(got, g.String())
	}
	return fmt.Sprintf("%s (wanted event %d of %d) never arrived (received %d events, the last: %v)", s.want[r.matched], r.matched+1, len(s.want), len(r.got), got)
}

// judgeClean: every wanted event arrived, then our close 1000 is answered.
func (s script) judgeClean(env *suite.Env, r *reader, writeErr error) suite.Result {
	n, skipped := r.matched, r.skipped
	if n < len(s.want) {
		switch {
		case r.closed && s.closes && (r.code == 1000 || r.empty || r.code == s.sentCode()):
			// Our close went out right behind the data: answering it
			// first is allowed (RFC 6455 §5.5.1 does not oblige a peer
			// to process data that raced a close), Autobahn prefers the
			// echo.
			return s.verdict(suite.NonStrictf(fmt.Sprintf("%v, then close", s.want), "close %d first; %s", r.code, s.missing(r)))
		case r.closed && s.relaxed && (r.code == 1008 || r.code == 1009):
			// A limit on message size or fragment count is the server's
			// to choose (RFC 6455 §10.4).
			return s.verdict(suite.NonStrictf(s.want[n].String(), "close %d %q: the server limits such messages (RFC 6455 §10.4 allows it)", r.code, r.reason))
		case r.closed:
			return s.verdict(suite.Failf(s.want[n].String()+" (RFC 6455 §5.6, §5.5.3: MUST answer / deliver)", "close %d %q first; %s", r.code, r.reason, s.missing(r)))
		case r.err != nil && !rawclient.IsTimeout(r.err):
			return s.verdict(suite.Failf(s.want[n].String()+" (RFC 6455 §5.6, §5.5.3: MUST answer / deliver)", "connection failed: %v; %s", r.err, s.missing(r)))
		}
		return s.verdict(suite.Failf(s.want[n].String()+" (RFC 6455 §5.6, §5.5.3: MUST answer / deliver)", "%s within %v", s.missing(r), wait(env)))
	}
	if writeErr != nil {
		return s.verdict(suite.Failf("frames written", "%v", writeErr))
	}
	if r.closed {
		return s.verdict(suite.Failf("the connection open until our close (nothing here is a protocol error)", "close %d %q", r.code, r.reason))
	}
	if !s.closes {
		if err := r.pong.sendClose(); err != nil {
			return s.verdict(suite.Failf("close written", "%v", err))
		}
	}
	r.err = nil
	r.until(time.Now().Add(wait(env)), func() bool { return false })
	res := suite.Pass()
	switch {
	case r.closed && (r.code == 1000 || r.empty || r.code == s.sentCode()):
	case r.closed:
		res = suite.NonStrictf("close 1000 echoed (RFC 6455 §5.5.1: typically echoes the code)", "close %d %q", r.code, r.reason)
	case rawclient.IsTimeout(r.err):
		return s.verdict(suite.Failf("a close frame in reply (RFC 6455 §5.5.1: MUST send a Close frame in response)", "none within %v", wait(env)))
	default:
		return s.verdict(suite.Failf("a close frame in reply (RFC 6455 §5.5.1: MUST send a Close frame in response)", "connection ended: %v", r.err))
	}
	for _, g := range r.got {
		for _, f := range s.forbid {
			if g.op == f.op && bytes.Equal(g.payload, f.payload) && res.Verdict == suite.OK {
				res = suite.NonStrictf("nothing sent after our close frame processed (RFC 6455 §1.4: data after a close frame is not expected)", "%s came back", g)
			}
		}
	}
	if skipped > 0 && res.Verdict == suite.OK {
		res = suite.NonStrictf("a pong for every ping", "%d pongs left out; the latest was answered (RFC 6455 §5.5.3 allows it)", skipped)
	}
	return s.verdict(res)
}

// judgeFail: the wanted events, then the server fails the connection with
// one of s.fail.
func (s script) judgeFail(env *suite.Env, r *reader, writeErr error) suite.Result {
	r.until(time.Now().Add(wait(env)), func() bool { return false })
	exp := "close " + codes(s.fail) + " (RFC 6455 §7.1.7: MUST fail the connection)"
	var res suite.Result
	switch {
	case r.closed && contains(s.fail, r.code):
		res = suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("close %d %q", r.code, r.reason)}
	case r.closed && r.empty:
		res = suite.NonStrictf("close "+codes(s.fail), "a close frame with no status code (allowed by §7.1.5)")
	case r.closed:
		res = suite.Failf(exp, "close %d %q", r.code, r.reason)
	case r.err != nil && !rawclient.IsTimeout(r.err), r.err == nil && writeErr != nil:
		res = suite.NonStrictf("close "+codes(s.fail), "TCP closed without a close frame (%v)", errors.Join(r.err, writeErr))
	default:
		res = suite.Failf(exp, "connection still open after %v", wait(env))
	}
	if r.matched < len(s.want) && res.Verdict == suite.OK {
		res = suite.NonStrictf(fmt.Sprintf("%v before the close", s.want), "%s; the connection was failed first", s.missing(r))
	}
	return s.verdict(res)
}

// verdict turns a judged result into INFORMATIONAL for scripts that
// record behaviour only.
func (s script) verdict(r suite.Result) suite.Result {
	if !s.informational || r.Verdict == suite.OK {
		return r
	}
	d := r.Observed
	if r.Detail != "" {
		d = r.Detail + "; " + d
	}
	return suite.Info("%s", d)
}
