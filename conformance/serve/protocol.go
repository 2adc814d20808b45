package serve

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/wsbench/wsbench/conformance/suite"
)

// The protocol cases judge a client that echoes every message, as the
// Autobahn testsuite's fuzzingserver does: the driver asks /getCaseCount,
// connects to /runCase?case=N&agent=A for each case and echoes, then calls
// /updateReports?agent=A. Each case is one connection: the suite sends
// frames, some broken on purpose, and reads what the client does.

// protoWait bounds one wait for the client's answer.
const protoWait = 3 * time.Second

// maxProtoMessage bounds a message the suite reassembles from the client.
const maxProtoMessage = 4 << 20

// protoCase is one client protocol case.
type protoCase struct {
	id, title, ref string
	run            func(p *peer) suite.Result
}

// deflateCase is the case for which the suite accepts permessage-deflate
// when the client offers it; every other case declines the offer.
const deflateCase = "CP-26"

// rsv1 is the RSV1 bit as ws.Header.Rsv holds it: permessage-deflate's
// "compressed" bit (RFC 7692 §6).
const rsv1 = 0b100

// errTooBig: an inflated message over maxProtoMessage.
var errTooBig = fmt.Errorf("inflates to more than %d bytes", maxProtoMessage)

// limited is a bytes.Buffer that refuses to grow past maxProtoMessage, so
// a small compressed message cannot expand without bound.
type limited struct{ bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if l.Len()+len(p) > maxProtoMessage {
		return 0, errTooBig
	}
	return l.Buffer.Write(p)
}

// inflate decompresses one permessage-deflate message (no context
// takeover: each message stands alone).
func inflate(p []byte) ([]byte, error) {
	var out limited
	if err := wsflate.DefaultHelper.DecompressTo(&out, p); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// deflated sends msg compressed in one frame (RSV1 set).
func deflated(p *peer, op ws.OpCode, msg []byte) error {
	f, err := wsflate.CompressFrame(ws.NewFrame(op, true, msg))
	if err != nil {
		return err
	}
	return p.send(f.Header, f.Payload)
}

// autobahnOf names the Autobahn testsuite case each protocol case
// corresponds to, where one does.
var autobahnOf = map[string]string{
	"CP-01": "1.1.1-1.1.7", "CP-02": "1.2.1-1.2.7", "CP-03": "2.4", "CP-04": "5.6", "CP-08": "7.3.2",
	"CP-10": "7.5.1", "CP-12": "3.1", "CP-13": "4.1.1", "CP-14": "4.2.1", "CP-15": "2.5", "CP-16": "5.1",
	"CP-17": "5.9", "CP-19": "5.18", "CP-21": "6.4.1", "CP-23": "2.8", "CP-24": "7.3.1",
}

// peer is the client side of one runCase connection, read frame by frame.
// Only the case's goroutine uses it.
type peer struct {
	nc        net.Conn
	br        *bufio.Reader
	unmasked  int       // client frames that arrived without a mask (§5.1)
	log       []string  // what the client sent, for details
	over      bool      // the client closed, or the connection ended
	msg       []byte    // the message being reassembled across control frames
	msgOp     ws.OpCode // its opcode; 0 = none
	closeCode int       // the code of the client's close frame (1005 empty, 0 none)
	deflate   bool      // permessage-deflate negotiated (RFC 7692), no context takeover
	msgRSV1   bool      // the message being reassembled is compressed
	inflated  int       // compressed messages received
}

// event is one thing the client sent: a whole data message, a pong, a
// close frame, or the end of the connection.
type event struct {
	op      ws.OpCode // OpText/OpBinary for messages; OpPong; OpClose; 0 = connection ended
	payload []byte
	code    int // close code; 1005 when the close frame had no body
	reason  string
	err     error
	bad     bool // err is a protocol violation by the client, not the end of the connection
}

func (e event) String() string {
	switch e.op {
	case ws.OpText, ws.OpBinary:
		return fmt.Sprintf("%s message of %d bytes", opName(e.op), len(e.payload))
	case ws.OpPong:
		return fmt.Sprintf("pong %q", clip(e.payload))
	case ws.OpPing:
		return fmt.Sprintf("ping %q", clip(e.payload))
	case ws.OpClose:
		return fmt.Sprintf("close %d %q", e.code, e.reason)
	}
	if e.err == nil {
		return fmt.Sprintf("a frame with opcode %d", e.op)
	}
	if errors.Is(e.err, io.EOF) || errors.Is(e.err, net.ErrClosed) {
		return "TCP closed without a close frame"
	}
	var ne net.Error
	if errors.As(e.err, &ne) && ne.Timeout() {
		return "nothing (still open after " + protoWait.String() + ")"
	}
	if e.bad {
		return e.err.Error()
	}
	return "connection ended: " + e.err.Error()
}

func opName(op ws.OpCode) string {
	if op == ws.OpText {
		return "text"
	}
	return "binary"
}

func clip(p []byte) string {
	if len(p) > 32 {
		return string(p[:32]) + "…"
	}
	return string(p)
}

// send writes one frame (unmasked, as a server does) with its header as
// given, so broken frames can be sent too.
func (p *peer) send(h ws.Header, payload []byte) error {
	h.Length = int64(len(payload))
	_ = p.nc.SetWriteDeadline(time.Now().Add(protoWait))
	if err := ws.WriteHeader(p.nc, h); err != nil {
		return err
	}
	_, err := p.nc.Write(payload)
	return err
}

func (p *peer) frame(op ws.OpCode, fin bool, payload []byte) error {
	return p.send(ws.Header{Fin: fin, OpCode: op}, payload)
}

// frames writes whole unfragmented frames in one write, so that a client
// that closes TCP on the first cannot make writing the others fail: they
// are on the wire together.
func (p *peer) frames(fs ...ws.Frame) error {
	var b bytes.Buffer
	for _, f := range fs {
		f.Header.Fin, f.Header.Length = true, int64(len(f.Payload))
		if err := ws.WriteHeader(&b, f.Header); err != nil {
			return err
		}
		b.Write(f.Payload)
	}
	_ = p.nc.SetWriteDeadline(time.Now().Add(protoWait))
	_, err := p.nc.Write(b.Bytes())
	return err
}

// next reads frames until a whole message, a control frame or the end.
func (p *peer) next() event {
	_ = p.nc.SetReadDeadline(time.Now().Add(protoWait))
	for {
		h, err := ws.ReadHeader(p.br)
		if err != nil {
			p.over = true
			return event{err: err}
		}
		if h.Length > maxProtoMessage || int64(len(p.msg))+h.Length > maxProtoMessage {
			return event{err: fmt.Errorf("the client sent a message over %d bytes", maxProtoMessage), bad: true}
		}
		if !h.Masked {
			p.unmasked++
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(p.br, payload); err != nil {
			return event{err: err}
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch {
		case h.OpCode == ws.OpClose:
			e := event{op: ws.OpClose, code: 1005}
			if len(payload) >= 2 {
				e.code, e.reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			p.over, p.closeCode = true, e.code
			p.log = append(p.log, e.String())
			return e
		case h.OpCode.IsControl():
			e := event{op: h.OpCode, payload: payload}
			p.log = append(p.log, e.String())
			return e
		case h.OpCode == ws.OpContinuation && p.msgOp == 0:
			return event{err: errors.New("the client sent a continuation frame with no message started"), bad: true}
		case h.OpCode != ws.OpContinuation && p.msgOp != 0:
			return event{err: errors.New("the client started a message inside another"), bad: true}
		case h.OpCode != ws.OpContinuation && h.OpCode != ws.OpText && h.OpCode != ws.OpBinary:
			return event{err: fmt.Errorf("the client sent reserved opcode %d", h.OpCode), bad: true}
		case h.Rsv == rsv1 && p.deflate && h.OpCode != ws.OpContinuation:
			p.msgRSV1 = true
		case h.Rsv != 0:
			return event{err: fmt.Errorf("the client sent RSV bits %03b (deflate negotiated: %v; RFC 7692 §6: RSV1 on the first frame only)", h.Rsv, p.deflate), bad: true}
		}
		if p.msgOp == 0 {
			p.msgOp = h.OpCode
		}
		p.msg = append(p.msg, payload...)
		if h.Fin {
			e := event{op: p.msgOp, payload: p.msg}
			if p.msgRSV1 {
				var err error
				if e.payload, err = inflate(p.msg); err != nil {
					return event{err: fmt.Errorf("the client sent a compressed message that does not inflate: %w", err), bad: true}
				}
				p.inflated++
			}
			p.msg, p.msgOp, p.msgRSV1 = nil, 0, false
			p.log = append(p.log, e.String())
			return e
		}
	}
}

// nextData skips pongs and pings (answering nothing) and returns the next
// message, close or end.
func (p *peer) nextData() event {
	for {
		e := p.next()
		if e.op != ws.OpPong && e.op != ws.OpPing {
			return e
		}
	}
}

// expectEcho sends nothing; it checks that the next message is op+want.
func (p *peer) expectEcho(op ws.OpCode, want []byte) error {
	e := p.nextData()
	if e.op != op || !bytes.Equal(e.payload, want) {
		return fmt.Errorf("expected the %s message of %d bytes echoed; got %s", opName(op), len(want), e)
	}
	return nil
}

// closeNormally runs the closing handshake from the suite's side.
func (p *peer) closeNormally() error {
	if err := p.frame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")); err != nil {
		return err
	}
	e := p.nextData()
	if e.op != ws.OpClose {
		return fmt.Errorf("expected a close reply; got %s", e)
	}
	if e.code != 1000 {
		return fmt.Errorf("expected close 1000 echoed (RFC 6455 §5.5.1); got %s", e)
	}
	return nil
}

// echo sends one message in frames of the given sizes and expects it back.
func echo(p *peer, op ws.OpCode, msg []byte, frag int) suite.Result {
	if err := sendMessage(p, op, msg, frag); err != nil {
		return suite.Failf("the message sent", "%v", err)
	}
	if err := p.expectEcho(op, msg); err != nil {
		return suite.Fail(fmt.Sprintf("the %d-byte %s message echoed", len(msg), opName(op)), err.Error())
	}
	return suite.Pass()
}

// sendMessage writes msg as one frame (frag 0) or in frag-byte fragments.
func sendMessage(p *peer, op ws.OpCode, msg []byte, frag int) error {
	if frag <= 0 || frag >= len(msg) {
		return p.frame(op, true, msg)
	}
	for off := 0; off < len(msg); off += frag {
		end := min(off+frag, len(msg))
		o := op
		if off > 0 {
			o = ws.OpContinuation
		}
		if err := p.frame(o, end == len(msg), msg[off:end]); err != nil {
			return err
		}
	}
	return nil
}

// mustFail sends a violation and expects the client to fail the
// connection (RFC 6455 §7.1.7): a close frame with one of codes, or a TCP
// close. A close with another code is NON-STRICT; an echo, or a connection
// still open after protoWait, FAILED.
func mustFail(p *peer, what string, codes []int, send func() error) suite.Result {
	if err := send(); err != nil {
		return suite.Failf("the violation sent", "%v", err)
	}
	want := fmt.Sprintf("the client fails the connection after %s (close %v or TCP close, RFC 6455 §7.1.7)", what, codes)
	e := p.nextData()
	switch {
	case e.op == ws.OpClose:
		for _, c := range codes {
			if e.code == c {
				return suite.Result{Verdict: suite.OK, Detail: e.String()}
			}
		}
		return suite.NonStrictf(want, "%s", e)
	case e.op == 0 && !e.bad && !isTimeout(e.err):
		return suite.Result{Verdict: suite.OK, Detail: e.String()}
	}
	return suite.Fail(want, e.String())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// utf8Text is valid UTF-8 with 1- to 4-byte sequences.
const utf8Text = "κόσμε ✓ 𝄞 wsbench Hello-µ@ßöäüàá-UTF-8!!"

func bytesOf(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// protocolCases is the catalogue of the fuzzingserver-style cases, in
// /runCase order (case N is protocolCases[N-1]).
var protocolCases = []protoCase{
	{"CP-01", "text messages of 0/125/126/127/128/65535/65536 bytes are echoed", "RFC 6455 §5.2, §5.6; Autobahn 1.1", func(p *peer) suite.Result {
		for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
			if r := echo(p, ws.OpText, bytesOf(n, '*'), 0); r.Verdict != suite.OK {
				return r
			}
		}
		return suite.Pass()
	}},
	{"CP-02", "binary messages of 0/125/126/127/128/65535/65536 bytes are echoed", "RFC 6455 §5.2, §5.6; Autobahn 1.2", func(p *peer) suite.Result {
		for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
			if r := echo(p, ws.OpBinary, bytesOf(n, 0xfe), 0); r.Verdict != suite.OK {
				return r
			}
		}
		return suite.Pass()
	}},
	{"CP-03", "a ping with a 125-byte binary payload gets a pong with the same payload", "RFC 6455 §5.5.2, §5.5.3; Autobahn 2.3-2.4", func(p *peer) suite.Result {
		payload := bytesOf(125, 0xfe)
		if err := p.frame(ws.OpPing, true, payload); err != nil {
			return suite.Failf("the ping sent", "%v", err)
		}
		e := p.next()
		if e.op != ws.OpPong || !bytes.Equal(e.payload, payload) {
			return suite.Fail("a pong with the ping's 125 bytes", e.String())
		}
		return suite.Pass()
	}},
	{"CP-04", "a ping between the fragments of a text message is answered; the message is echoed whole", "RFC 6455 §5.4, §5.5; Autobahn 5.6", func(p *peer) suite.Result {
		if err := p.frame(ws.OpText, false, []byte("fragment1-")); err != nil {
			return suite.Failf("the first fragment sent", "%v", err)
		}
		if err := p.frame(ws.OpPing, true, []byte("between")); err != nil {
			return suite.Failf("the ping sent", "%v", err)
		}
		if err := p.frame(ws.OpContinuation, true, []byte("fragment2")); err != nil {
			return suite.Failf("the last fragment sent", "%v", err)
		}
		var pong, msg bool
		for !pong || !msg {
			e := p.next()
			switch {
			case e.op == ws.OpPong && string(e.payload) == "between":
				pong = true
			case e.op == ws.OpText && string(e.payload) == "fragment1-fragment2":
				msg = true
			default:
				return suite.Failf("a pong \"between\" and the text \"fragment1-fragment2\" echoed", "%s (pong %v, echo %v)", e, pong, msg)
			}
		}
		return suite.Pass()
	}},
	{"CP-05", "a text message in 1-byte fragments, UTF-8 split inside characters, is echoed whole", "RFC 6455 §5.4, §8.1; Autobahn 5.x, 6.2", func(p *peer) suite.Result {
		return echo(p, ws.OpText, []byte(utf8Text), 1)
	}},
	{"CP-06", "a 1,000,000-byte text message and a binary one in 64 KiB fragments are echoed", "RFC 6455 §5.4; Autobahn 9.x", func(p *peer) suite.Result {
		text := bytes.Repeat([]byte("wsbench-"), 125000)
		if r := echo(p, ws.OpText, text, 0); r.Verdict != suite.OK {
			return r
		}
		bin := bytes.Repeat([]byte{0, 1, 2, 0xff}, 250000)
		return echo(p, ws.OpBinary, bin, 64<<10)
	}},
	{"CP-07", "a close 1000 from the server is answered with close 1000", "RFC 6455 §5.5.1, §7.4.1; Autobahn 7.1.1", func(p *peer) suite.Result {
		if err := p.closeNormally(); err != nil {
			return suite.Fail("close 1000 answered with close 1000", err.Error())
		}
		return suite.Pass()
	}},
	{"CP-08", "a close frame with a 1-byte body fails the connection (1002)", "RFC 6455 §5.5.1; Autobahn 7.3.2", func(p *peer) suite.Result {
		return mustFail(p, "a 1-byte close body", []int{1002}, func() error { return p.frame(ws.OpClose, true, []byte{0x03}) })
	}},
	{"CP-09", "a close code that must never be on the wire (1005) fails the connection (1002)", "RFC 6455 §7.4.1; Autobahn 7.9", badCode(1005)},
	{"CP-10", "a close reason that is not UTF-8 fails the connection (1007)", "RFC 6455 §5.5.1, §8.1; Autobahn 7.5.1", func(p *peer) suite.Result {
		body := append(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""), 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80)
		return mustFail(p, "a close reason with invalid UTF-8", []int{1007, 1002}, func() error { return p.frame(ws.OpClose, true, body) })
	}},
	{"CP-11", "a text message that is not UTF-8 fails the connection (1007)", "RFC 6455 §8.1; Autobahn 6.3", func(p *peer) suite.Result {
		return mustFail(p, "invalid UTF-8 in a text message", []int{1007}, func() error {
			return p.frame(ws.OpText, true, []byte{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64})
		})
	}},
	{"CP-12", "a frame with RSV1 set and no extension negotiated fails the connection (1002)", "RFC 6455 §5.2; Autobahn 3.1", func(p *peer) suite.Result {
		return mustFail(p, "RSV1 without an extension", []int{1002}, func() error {
			return p.send(ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: ws.OpText}, []byte("rsv1"))
		})
	}},
	{"CP-13", "a reserved data opcode (3) fails the connection (1002)", "RFC 6455 §5.2; Autobahn 4.1.1", func(p *peer) suite.Result {
		return mustFail(p, "opcode 3", []int{1002}, func() error { return p.send(ws.Header{Fin: true, OpCode: 3}, nil) })
	}},
	{"CP-14", "a reserved control opcode (11) fails the connection (1002)", "RFC 6455 §5.2; Autobahn 4.2.1", func(p *peer) suite.Result {
		return mustFail(p, "opcode 11", []int{1002}, func() error { return p.send(ws.Header{Fin: true, OpCode: 11}, nil) })
	}},
	{"CP-15", "a ping with 126 bytes of payload fails the connection (1002)", "RFC 6455 §5.5; Autobahn 2.5", func(p *peer) suite.Result {
		return mustFail(p, "a 126-byte ping", []int{1002}, func() error { return p.frame(ws.OpPing, true, bytesOf(126, 'x')) })
	}},
	{"CP-16", "a fragmented ping (FIN clear) fails the connection (1002)", "RFC 6455 §5.5; Autobahn 5.1", func(p *peer) suite.Result {
		return mustFail(p, "a ping without FIN", []int{1002}, func() error { return p.frame(ws.OpPing, false, []byte("frag")) })
	}},
	{"CP-17", "a continuation frame with no message started fails the connection (1002)", "RFC 6455 §5.4; Autobahn 5.9", func(p *peer) suite.Result {
		return mustFail(p, "a lone continuation frame", []int{1002}, func() error { return p.frame(ws.OpContinuation, true, []byte("orphan")) })
	}},
	{"CP-18", "a masked frame from the server fails the connection", "RFC 6455 §5.1", func(p *peer) suite.Result {
		return mustFail(p, "a masked server frame", []int{1002}, func() error {
			f := ws.MaskFrame(ws.NewTextFrame([]byte("masked")))
			return ws.WriteFrame(p.nc, f)
		})
	}},
	{"CP-19", "a new data message inside a fragmented one fails the connection (1002)", "RFC 6455 §5.4; Autobahn 5.17-5.18", func(p *peer) suite.Result {
		return mustFail(p, "a text frame where a continuation must come", []int{1002}, func() error {
			if err := p.frame(ws.OpText, false, []byte("first")); err != nil {
				return err
			}
			return p.frame(ws.OpText, true, []byte("second"))
		})
	}},
	{"CP-20", "an unassigned close code (2999) fails the connection (1002)", "RFC 6455 §7.4.2; Autobahn 7.9", badCode(2999)},
	{"CP-21", "invalid UTF-8 in a first fragment fails the connection without waiting for FIN", "RFC 6455 §8.1; Autobahn 6.4", func(p *peer) suite.Result {
		if err := p.frame(ws.OpText, false, []byte{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90, 0x80, 0x80}); err != nil {
			return suite.Failf("the fragment sent", "%v", err)
		}
		e := p.nextData()
		switch {
		case e.op == ws.OpClose && e.code == 1007, e.op == 0 && !e.bad && !isTimeout(e.err):
			return suite.Result{Verdict: suite.OK, Detail: e.String()}
		case isTimeout(e.err):
			// Autobahn calls waiting for the whole message NON-STRICT.
			return suite.NonStrictf("close 1007 as soon as the invalid bytes arrive (fail fast)", "%s: it waits for the rest of the message", e)
		}
		return suite.Fail("close 1007 (or TCP close) after invalid UTF-8", e.String())
	}},
	{"CP-22", "a text frame after the server's close is not echoed; the close is answered", "RFC 6455 §5.5.1; Autobahn 7.1.2-7.1.3", func(p *peer) suite.Result {
		// One write: the client may close TCP as soon as it has answered
		// the close, and a second write would then fail through no fault
		// of the client's.
		if err := p.frames(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")), ws.NewTextFrame([]byte("after close"))); err != nil {
			return suite.Failf("the close and the text sent", "%v", err)
		}
		e := p.nextData()
		if e.op != ws.OpClose || e.code != 1000 {
			return suite.Fail("close 1000 answered, the text after it ignored", e.String())
		}
		return suite.Pass()
	}},
	{"CP-23", "an unsolicited pong is ignored; the next message is echoed", "RFC 6455 §5.5.3; Autobahn 2.8", func(p *peer) suite.Result {
		if err := p.frame(ws.OpPong, true, []byte("unsolicited")); err != nil {
			return suite.Failf("the pong sent", "%v", err)
		}
		return echo(p, ws.OpText, []byte("after the pong"), 0)
	}},
	{"CP-24", "a close frame with no body is answered with a close frame", "RFC 6455 §5.5.1; Autobahn 7.3.1", func(p *peer) suite.Result {
		if err := p.frame(ws.OpClose, true, nil); err != nil {
			return suite.Failf("the close sent", "%v", err)
		}
		e := p.nextData()
		if e.op != ws.OpClose || (e.code != 1005 && e.code != 1000) {
			return suite.Fail("a close frame, empty or 1000", e.String())
		}
		return suite.Result{Verdict: suite.OK, Detail: e.String()}
	}},
	{"CP-25", "a text message of empty fragments and one 1-byte fragment is echoed", "RFC 6455 §5.4; Autobahn 5.x", func(p *peer) suite.Result {
		for i, f := range []struct {
			op  ws.OpCode
			fin bool
			p   string
		}{{ws.OpText, false, ""}, {ws.OpContinuation, false, ""}, {ws.OpContinuation, true, "x"}} {
			if err := p.frame(f.op, f.fin, []byte(f.p)); err != nil {
				return suite.Failf("fragment sent", "fragment %d: %v", i, err)
			}
		}
		if err := p.expectEcho(ws.OpText, []byte("x")); err != nil {
			return suite.Fail("the text \"x\" echoed", err.Error())
		}
		return suite.Pass()
	}},
	{deflateCase, "permessage-deflate, when the client offers it: compressed and plain messages are echoed intact", "RFC 7692 §6-7; Autobahn 12-13", func(p *peer) suite.Result {
		if !p.deflate {
			return suite.Skip("the client did not offer permessage-deflate (RFC 7692)")
		}
		text := bytes.Repeat([]byte(utf8Text), 200)
		if err := deflated(p, ws.OpText, text); err != nil {
			return suite.Failf("the compressed text sent", "%v", err)
		}
		if err := p.expectEcho(ws.OpText, text); err != nil {
			return suite.Fail(fmt.Sprintf("the compressed %d-byte text echoed", len(text)), err.Error())
		}
		bin := bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 13000)
		if err := deflated(p, ws.OpBinary, bin); err != nil {
			return suite.Failf("the compressed binary sent", "%v", err)
		}
		if err := p.expectEcho(ws.OpBinary, bin); err != nil {
			return suite.Fail(fmt.Sprintf("the compressed %d-byte binary echoed", len(bin)), err.Error())
		}
		// An uncompressed message on the same connection (RSV1 clear).
		if r := echo(p, ws.OpText, []byte("plain after compressed"), 0); r.Verdict != suite.OK {
			return r
		}
		return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("negotiated; the client compressed %d of its 3 echoes", p.inflated)}
	}},
}

// badCode is a case sending close with a code no endpoint may send.
func badCode(code int) func(p *peer) suite.Result {
	return func(p *peer) suite.Result {
		return mustFail(p, fmt.Sprintf("close code %d", code), []int{1002}, func() error {
			return p.frame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(code), ""))
		})
	}
}
