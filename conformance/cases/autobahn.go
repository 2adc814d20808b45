package cases

import (
	"fmt"
	"strings"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// The script tables below cover the behaviours of the Autobahn testsuite's
// core groups 1-5, 7 and 10 (groups 6 and 9 are in utf8.go and perf.go),
// one case per Autobahn case, each naming it. The behaviours are
// Autobahn's; the encoding as scripts is ours.

func fr(fin bool, op ws.OpCode, p []byte) rawclient.Frame { return masked(fin, op, p) }
func txt(p string) rawclient.Frame                        { return masked(true, ws.OpText, []byte(p)) }
func rsv(r byte, op ws.OpCode, p string) rawclient.Frame {
	return rawclient.Frame{Fin: true, Rsv: r, Op: op, Masked: true, Payload: []byte(p)}
}

// chopName says how a script's bytes are written, for titles.
func chopName(chop int) string {
	switch chop {
	case chopFrame:
		return ", one write per frame"
	case 1:
		return ", one byte per write"
	case chopNone:
		return ""
	}
	return fmt.Sprintf(", %d bytes per write", chop)
}

// framing: Autobahn 1.1.x (text) and 1.2.x (binary) echo sizes.
func framing() []script {
	var ss []script
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for gi, op := range []ws.OpCode{ws.OpText, ws.OpBinary} {
		for i, n := range append(sizes, 65536) {
			p := payload(n, op == ws.OpText)
			s := script{
				id: fmt.Sprintf("FR-%02d", gi*8+i+1), autobahn: fmt.Sprintf("1.%d.%d", gi+1, i+1), group: "framing",
				ref: "RFC 6455 §5.2, §5.6", title: fmt.Sprintf("%d-byte %s message echoed", n, opName(op)),
				frames: []rawclient.Frame{masked(true, op, p)}, want: []event{msg(op, p)},
			}
			if i == len(sizes) {
				s.chop, s.title = 997, s.title+chopName(997)
			}
			ss = append(ss, s)
		}
	}
	return ss
}

// pings: Autobahn 2.x.
func pings() []script {
	bin := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	p125 := []byte(strings.Repeat("\xfe", 125))
	p126 := []byte(strings.Repeat("\xfe", 126))
	ten := func(chop int) script {
		s := script{chop: chop}
		for i := range 10 {
			p := []byte(fmt.Sprintf("payload-%d", i))
			s.frames = append(s.frames, fr(true, ws.OpPing, p))
			s.want = append(s.want, pong(p))
		}
		return s
	}
	t10, t11 := ten(chopNone), ten(chopFrame)
	ss := []script{
		{autobahn: "2.1", title: "a ping without payload gets a pong without payload", frames: []rawclient.Frame{fr(true, ws.OpPing, nil)}, want: []event{pong(nil)}},
		{autobahn: "2.2", title: "a ping with a short text payload gets a pong with it", frames: []rawclient.Frame{fr(true, ws.OpPing, []byte("Hello, world!"))}, want: []event{pong([]byte("Hello, world!"))}},
		{autobahn: "2.3", title: "a ping with a short binary payload gets a pong with it", frames: []rawclient.Frame{fr(true, ws.OpPing, bin)}, want: []event{pong(bin)}},
		{autobahn: "2.4", title: "a ping with a 125-byte payload gets a pong with it", frames: []rawclient.Frame{fr(true, ws.OpPing, p125)}, want: []event{pong(p125)}},
		{autobahn: "2.5", title: "a ping with a 126-byte payload is a protocol error (1002)", ref: "RFC 6455 §5.5", frames: []rawclient.Frame{fr(true, ws.OpPing, p126)}, fail: []uint16{1002}},
		{autobahn: "2.6", title: "a 125-byte ping written one byte at a time gets its pong", chop: 1, frames: []rawclient.Frame{fr(true, ws.OpPing, p125)}, want: []event{pong(p125)}},
		{autobahn: "2.7", title: "an unsolicited pong without payload is ignored", frames: []rawclient.Frame{fr(true, ws.OpPong, nil)}},
		{autobahn: "2.8", title: "an unsolicited pong with payload is ignored", frames: []rawclient.Frame{fr(true, ws.OpPong, []byte("unsolicited pong payload"))}},
		{autobahn: "2.9", title: "an unsolicited pong, then a ping: only the ping is answered", frames: []rawclient.Frame{fr(true, ws.OpPong, []byte("unsolicited pong payload")), fr(true, ws.OpPing, []byte("ping payload"))}, want: []event{pong([]byte("ping payload"))}},
		{autobahn: "2.10", title: "10 pings get 10 pongs in order", frames: t10.frames, want: t10.want},
		{autobahn: "2.11", title: "10 pings, one write per frame, get 10 pongs in order", chop: chopFrame, frames: t11.frames, want: t11.want},
	}
	for i := range ss {
		ss[i].id, ss[i].group = fmt.Sprintf("PG-%02d", i+1), "ping"
		if ss[i].ref == "" {
			ss[i].ref = "RFC 6455 §5.5.2, §5.5.3"
		}
	}
	return ss
}

// reservedBits: Autobahn 3.x.
func reservedBits() []script {
	hello := []event{msg(ws.OpText, []byte("Hello, world!"))}
	ss := []script{
		{autobahn: "3.1", title: "RSV1 on a text frame gets 1002", frames: []rawclient.Frame{rsv(1<<2, ws.OpText, "Hello, world!")}},
		{autobahn: "3.2", title: "text, then text with RSV2, then ping: echo, then 1002 (no pong)", frames: []rawclient.Frame{txt("Hello, world!"), rsv(2, ws.OpText, "Hello, world!"), fr(true, ws.OpPing, []byte("Hello, world!"))}, want: hello},
		{autobahn: "3.3", title: "as 3.2 with RSV 3, one write per frame", chop: chopFrame, frames: []rawclient.Frame{txt("Hello, world!"), rsv(3, ws.OpText, "Hello, world!"), fr(true, ws.OpPing, []byte("Hello, world!"))}, want: hello},
		{autobahn: "3.4", title: "as 3.2 with RSV 4, one byte per write", chop: 1, frames: []rawclient.Frame{txt("Hello, world!"), rsv(4, ws.OpText, "Hello, world!"), fr(true, ws.OpPing, []byte("Hello, world!"))}, want: hello},
		{autobahn: "3.5", title: "RSV 5 on a binary frame gets 1002", frames: []rawclient.Frame{rsv(5, ws.OpBinary, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff")}},
		{autobahn: "3.6", title: "RSV 6 on a ping gets 1002", frames: []rawclient.Frame{rsv(6, ws.OpPing, "Hello, world!")}},
		{autobahn: "3.7", title: "RSV 7 on a close frame gets 1002", frames: []rawclient.Frame{rsv(7, ws.OpClose, "")}},
	}
	for i := range ss {
		ss[i].id, ss[i].group, ss[i].ref, ss[i].fail = fmt.Sprintf("RV-%02d", i+1), "protocol", "RFC 6455 §5.2", []uint16{1002}
	}
	return ss
}

// reservedOpcodes: Autobahn 4.1.x (data opcodes 3-7) and 4.2.x (control
// opcodes B-F).
func reservedOpcodes() []script {
	var ss []script
	for gi, first := range []ws.OpCode{3, 0xb} {
		kind := "non-control"
		if gi == 1 {
			kind = "control"
		}
		for i := range 5 {
			op := first + ws.OpCode(i)
			s := script{id: fmt.Sprintf("OP-%02d", gi*5+i+1), autobahn: fmt.Sprintf("4.%d.%d", gi+1, i+1), group: "protocol", ref: "RFC 6455 §5.2", fail: []uint16{1002}}
			switch i {
			case 0:
				s.title = fmt.Sprintf("reserved %s opcode %#x without payload gets 1002", kind, byte(op))
				s.frames = []rawclient.Frame{fr(true, op, nil)}
			case 1:
				s.title = fmt.Sprintf("reserved %s opcode %#x with payload gets 1002", kind, byte(op))
				s.frames = []rawclient.Frame{fr(true, op, []byte("reserved opcode payload"))}
			default:
				s.title = fmt.Sprintf("text, reserved %s opcode %#x, ping: echo, then 1002 (no pong)", kind, byte(op))
				var p []byte
				if i > 2 {
					p = []byte("reserved opcode payload")
				}
				s.frames = []rawclient.Frame{txt("Hello, world!"), fr(true, op, p), fr(true, ws.OpPing, nil)}
				s.want = []event{msg(ws.OpText, []byte("Hello, world!"))}
			}
			ss = append(ss, s)
		}
	}
	return ss
}

// fragmentation: Autobahn 5.x.
func fragmentation() []script {
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	both := []event{msg(ws.OpText, []byte("fragment1fragment2"))}
	pingMid := []rawclient.Frame{fr(false, ws.OpText, f1), fr(true, ws.OpPing, []byte("ping payload")), fr(true, ws.OpContinuation, f2)}
	pingMidWant := []event{pong([]byte("ping payload")), both[0]}
	orphan := func(fin bool) []rawclient.Frame {
		return []rawclient.Frame{fr(fin, ws.OpContinuation, []byte("non-continuation payload")), txt("Hello, world!")}
	}
	repeated := func(fin bool) []rawclient.Frame {
		var fs []rawclient.Frame
		for range 2 {
			fs = append(fs, fr(fin, ws.OpContinuation, []byte("fragment1")), fr(false, ws.OpText, []byte("fragment2")), fr(true, ws.OpContinuation, []byte("fragment3")))
		}
		return fs
	}
	var five []rawclient.Frame
	var fiveWant []event
	for i := 1; i <= 5; i++ {
		op := ws.OpContinuation
		if i == 1 {
			op = ws.OpText
		}
		five = append(five, fr(i == 5, op, []byte(fmt.Sprintf("fragment%d", i))))
		if i == 2 || i == 4 {
			p := []byte(fmt.Sprintf("pongme %d!", i/2))
			five = append(five, fr(true, ws.OpPing, p))
			fiveWant = append(fiveWant, pong(p))
		}
	}
	fiveWant = append(fiveWant, msg(ws.OpText, []byte("fragment1fragment2fragment3fragment4fragment5")))
	ss := []script{
		{autobahn: "5.1", title: "a ping in 2 fragments gets 1002", frames: []rawclient.Frame{fr(false, ws.OpPing, f1), fr(true, ws.OpContinuation, f2)}, fail: []uint16{1002}},
		{autobahn: "5.2", title: "a pong in 2 fragments gets 1002", frames: []rawclient.Frame{fr(false, ws.OpPong, f1), fr(true, ws.OpContinuation, f2)}, fail: []uint16{1002}},
		{autobahn: "5.3", title: "a text message in 2 fragments is echoed", frames: []rawclient.Frame{fr(false, ws.OpText, f1), fr(true, ws.OpContinuation, f2)}, want: both},
		{autobahn: "5.4", title: "a text message in 2 fragments, one write per frame, is echoed", chop: chopFrame, frames: []rawclient.Frame{fr(false, ws.OpText, f1), fr(true, ws.OpContinuation, f2)}, want: both},
		{autobahn: "5.5", title: "a text message in 2 fragments, one byte per write, is echoed", chop: 1, frames: []rawclient.Frame{fr(false, ws.OpText, f1), fr(true, ws.OpContinuation, f2)}, want: both},
		{autobahn: "5.6", title: "a ping between 2 text fragments: pong, then the echo", frames: pingMid, want: pingMidWant},
		{autobahn: "5.7", title: "as 5.6, one write per frame", chop: chopFrame, frames: pingMid, want: pingMidWant},
		{autobahn: "5.8", title: "as 5.6, one byte per write", chop: 1, frames: pingMid, want: pingMidWant},
		{autobahn: "5.9", title: "a final continuation frame with no message started gets 1002", frames: orphan(true), fail: []uint16{1002}},
		{autobahn: "5.10", title: "as 5.9, one write per frame", chop: chopFrame, frames: orphan(true), fail: []uint16{1002}},
		{autobahn: "5.11", title: "as 5.9, one byte per write", chop: 1, frames: orphan(true), fail: []uint16{1002}},
		{autobahn: "5.12", title: "a non-final continuation frame with no message started gets 1002", frames: orphan(false), fail: []uint16{1002}},
		{autobahn: "5.13", title: "as 5.12, one write per frame", chop: chopFrame, frames: orphan(false), fail: []uint16{1002}},
		{autobahn: "5.14", title: "as 5.12, one byte per write", chop: 1, frames: orphan(false), fail: []uint16{1002}},
		{autobahn: "5.15", title: "a complete fragmented message, then a continuation with no message started: echo, then 1002",
			frames: []rawclient.Frame{fr(false, ws.OpText, f1), fr(true, ws.OpContinuation, f2), fr(false, ws.OpContinuation, []byte("fragment3")), fr(true, ws.OpText, []byte("fragment4"))},
			want:   both, fail: []uint16{1002}},
		{autobahn: "5.16", title: "continuation, text, continuation (twice), non-final first: 1002", frames: repeated(false), fail: []uint16{1002}},
		{autobahn: "5.17", title: "continuation, text, continuation (twice), final first: 1002", frames: repeated(true), fail: []uint16{1002}},
		{autobahn: "5.18", title: "a text message whose 2 fragments both carry the text opcode gets 1002", frames: []rawclient.Frame{fr(false, ws.OpText, f1), fr(true, ws.OpText, f2)}, fail: []uint16{1002}},
		{autobahn: "5.19", title: "5 text fragments with a ping after the 2nd and the 4th: 2 pongs, then the echo", frames: five, want: fiveWant},
		{autobahn: "5.20", title: "as 5.19, one write per frame", chop: chopFrame, frames: five, want: fiveWant},
	}
	for i := range ss {
		ss[i].id, ss[i].group, ss[i].ref = fmt.Sprintf("FG-%02d", i+1), "fragments", "RFC 6455 §5.4"
	}
	return ss
}

// closing: Autobahn 7.x (close handshake sequencing and close payloads).
func closing() []script {
	closeF := func(code uint16, reason string) rawclient.Frame {
		return fr(true, ws.OpClose, rawclient.CloseBody(code, reason))
	}
	hello := []byte("Hello World!")
	ss := []script{
		{autobahn: "7.1.1", title: "a text message, then close 1000: echo, then close 1000", frames: []rawclient.Frame{txt("Hello World!"), closeF(1000, "")}, closes: true, want: []event{msg(ws.OpText, hello)}},
		{autobahn: "7.1.2", title: "two close frames: the first is answered, the second ignored", frames: []rawclient.Frame{closeF(1000, ""), closeF(1000, "")}, closes: true},
		{autobahn: "7.1.3", title: "close, then a ping: the ping is not answered", frames: []rawclient.Frame{closeF(1000, ""), fr(true, ws.OpPing, hello)}, closes: true, forbid: []event{pong(hello)}},
		{autobahn: "7.1.4", title: "close, then a text message: it is not echoed", frames: []rawclient.Frame{closeF(1000, ""), txt("Hello World!")}, closes: true, forbid: []event{msg(ws.OpText, hello)}},
		{autobahn: "7.1.5", title: "first fragment, close, last fragment: no echo, close answered", frames: []rawclient.Frame{fr(false, ws.OpText, []byte("fragment1")), closeF(1000, ""), fr(true, ws.OpContinuation, []byte("fragment2"))}, closes: true, forbid: []event{msg(ws.OpText, []byte("fragment1fragment2"))}},
		{autobahn: "7.1.6", title: "a 256 KiB message, a ping and close at once: close answered (echo and pong optional)", frames: []rawclient.Frame{masked(true, ws.OpText, payload(256<<10, true)), fr(true, ws.OpPing, hello), closeF(1000, "")}, closes: true},
		{autobahn: "7.3.1", title: "an empty close body is answered with a close frame", frames: []rawclient.Frame{fr(true, ws.OpClose, nil)}, closes: true},
		{autobahn: "7.3.2", title: "a 1-byte close body gets 1002", frames: []rawclient.Frame{fr(true, ws.OpClose, []byte{0x03})}, fail: []uint16{1002}},
		{autobahn: "7.3.3", title: "close 1000 without reason is answered with 1000", frames: []rawclient.Frame{closeF(1000, "")}, closes: true},
		{autobahn: "7.3.4", title: "close 1000 with a reason is answered with 1000", frames: []rawclient.Frame{closeF(1000, "Hello World!")}, closes: true},
		{autobahn: "7.3.5", title: "close 1000 with a 123-byte reason is answered with 1000", frames: []rawclient.Frame{closeF(1000, strings.Repeat("*", 123))}, closes: true},
		{autobahn: "7.3.6", title: "close 1000 with a 124-byte reason (126-byte body) gets 1002", frames: []rawclient.Frame{closeF(1000, strings.Repeat("*", 124))}, fail: []uint16{1002}},
		{autobahn: "7.5.1", title: "a close reason that is not UTF-8 gets 1007 (or 1002)", ref: "RFC 6455 §5.5.1, §8.1", frames: []rawclient.Frame{fr(true, ws.OpClose, append(rawclient.CloseBody(1000, ""), "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"...))}, fail: []uint16{1007, 1002}},
	}
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		ss = append(ss, script{autobahn: fmt.Sprintf("7.7.%d", i+1), title: fmt.Sprintf("valid close code %d is answered with a close frame", code), ref: "RFC 6455 §7.4.1, §7.4.2", frames: []rawclient.Frame{closeF(code, "")}, closes: true})
	}
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		ss = append(ss, script{autobahn: fmt.Sprintf("7.9.%d", i+1), title: fmt.Sprintf("invalid close code %d gets 1002", code), ref: "RFC 6455 §7.4.1, §7.4.2", frames: []rawclient.Frame{closeF(code, "")}, fail: []uint16{1002}})
	}
	for i, code := range []uint16{5000, 65535} {
		ss = append(ss, script{autobahn: fmt.Sprintf("7.13.%d", i+1), title: fmt.Sprintf("close code %d (outside every range RFC 6455 defines): 1002 expected, recorded only", code), ref: "RFC 6455 §7.4.2", frames: []rawclient.Frame{closeF(code, "")}, fail: []uint16{1002}, informational: true})
	}
	for i := range ss {
		ss[i].id, ss[i].group = fmt.Sprintf("CS-%02d", i+1), "close"
		if ss[i].ref == "" {
			ss[i].ref = "RFC 6455 §5.5.1, §7.1"
		}
	}
	return ss
}

// autoFragmentation: Autobahn 10.1.1 (a 64 KiB message in one frame comes
// back whole, whatever framing the server chooses).
func autoFragmentation() []script {
	p := payload(65536, true)
	return []script{{id: "AF-01", autobahn: "10.1.1", group: "framing", ref: "RFC 6455 §5.4",
		title: "a 65536-byte text message comes back whole (fragmented or not)", frames: []rawclient.Frame{masked(true, ws.OpText, p)}, want: []event{msg(ws.OpText, p)}}}
}

// autobahn is every case of the Autobahn core groups, in Autobahn's order.
func (k *kit) autobahn() []suite.Case {
	var cs []suite.Case
	for _, ss := range [][]script{framing(), pings(), reservedBits(), reservedOpcodes(), fragmentation()} {
		cs = append(cs, k.scripts(ss)...)
	}
	ut := utf8Scripts()
	cs = append(cs, k.scripts(ut[:9])...) // 6.1-6.3
	cs = append(cs, k.failFastCases()...) // 6.4
	cs = append(cs, k.scripts(ut[9:])...) // 6.5-6.23
	for _, ss := range [][]script{closing(), perf(), autoFragmentation()} {
		cs = append(cs, k.scripts(ss)...)
	}
	return cs
}
