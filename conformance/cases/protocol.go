package cases

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// badUTF8 is "κόσμε" followed by an encoded UTF-16 surrogate (ED A0 80):
// invalid from its last three bytes on, whatever follows.
var badUTF8 = []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")

func (k *kit) protocol() []suite.Case {
	return []suite.Case{
		{ID: "PV-01", Group: "protocol", Ref: "RFC 6455 §5.1", Title: "an unmasked client frame gets 1002", Run: k.pvSimple(rawclient.Frame{Fin: true, Op: ws.OpText, Payload: []byte("unmasked")}.Append(nil))},
		{ID: "PV-02", Autobahn: "3.1-3.7", Group: "protocol", Ref: "RFC 6455 §5.2", Title: "RSV1, RSV2 or RSV3 set without an extension gets 1002", Run: k.pvRSV},
		{ID: "PV-03", Autobahn: "4.1.1-4.2.5", Group: "protocol", Ref: "RFC 6455 §5.2", Title: "reserved opcodes 3-7 and B-F get 1002", Run: k.pvOpcodes},
		{ID: "PV-04", Autobahn: "5.1", Group: "protocol", Ref: "RFC 6455 §5.5", Title: "a fragmented control frame (ping without FIN) gets 1002", Run: k.pvSimple(masked(false, ws.OpPing, []byte("frag")).Append(nil))},
		{ID: "PV-05", Autobahn: "5.9", Group: "protocol", Ref: "RFC 6455 §5.4", Title: "a continuation frame with no message started gets 1002", Run: k.pvSimple(masked(true, ws.OpContinuation, []byte("orphan")).Append(nil))},
		{ID: "PV-06", Autobahn: "5.18", Group: "protocol", Ref: "RFC 6455 §5.4", Title: "a new data frame inside a fragmented message gets 1002", Run: k.pvSimple(frames(masked(false, ws.OpText, []byte("first")), masked(true, ws.OpText, []byte("second"))))},
		{ID: "PV-07", Autobahn: "6.3.1", Group: "protocol", Ref: "RFC 6455 §8.1", Title: "a text message with invalid UTF-8 gets 1007", Run: k.pvUTF8},
		{ID: "PV-08", Autobahn: "6.4.1", Group: "protocol", Ref: "RFC 6455 §8.1; project policy", Title: "invalid UTF-8 in a first fragment gets 1007 without waiting for FIN", Run: k.pvUTF8Fast},
		{ID: "PV-09", Group: "protocol", Ref: "RFC 6455 §5.2", Title: "a 64-bit length with the top bit set gets 1002 or a drop", Run: k.pvLength},
		{ID: "PV-10", Group: "protocol", Ref: "RFC 6455 §4.2.1", Title: "non-HTTP garbage gets 400 or a close", Run: k.pvGarbage},
	}
}

func (k *kit) pvSimple(raw []byte) func(context.Context, *suite.Env) suite.Result {
	return func(ctx context.Context, env *suite.Env) suite.Result {
		return k.violation(ctx, env, "PV", raw, 1002)
	}
}

func (k *kit) pvRSV(ctx context.Context, env *suite.Env) suite.Result {
	rs := make([]suite.Result, 0, 3)
	for _, rsv := range []byte{4, 2, 1} {
		f := rawclient.Frame{Fin: true, Rsv: rsv, Op: ws.OpText, Masked: true, Payload: []byte("rsv")}
		rs = append(rs, labelled(fmt.Sprintf("RSV bits %03b", rsv), k.violation(ctx, env, "PV-02", f.Append(nil), 1002)))
	}
	return worst(rs...)
}

func (k *kit) pvOpcodes(ctx context.Context, env *suite.Env) suite.Result {
	var ops []uint16
	for _, op := range []uint16{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		ops = append(ops, op)
	}
	return eachCode(ops, func(op uint16) suite.Result {
		return k.violation(ctx, env, "PV-03", masked(true, ws.OpCode(op), nil).Append(nil), 1002)
	})
}

func (k *kit) pvUTF8(ctx context.Context, env *suite.Env) suite.Result {
	return k.violation(ctx, env, "PV-07", masked(true, ws.OpText, badUTF8).Append(nil), 1007)
}

// pvUTF8Fast sends a first fragment that is already invalid UTF-8. Failing
// at once is this project's policy, not an RFC 6455 MUST (§8.1 says an
// endpoint MUST fail the connection on invalid UTF-8, not when): a server
// that buffers a doomed message can be made to hold --max-message per
// connection for nothing. So a server that closes only once the message is
// complete is NON-STRICT (as in the Autobahn testsuite), and FAILED only
// when it never fails the connection at all.
func (k *kit) pvUTF8Fast(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "PV-08")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	if err := c.Write(masked(false, ws.OpText, badUTF8)); err != nil {
		return suite.Failf("frame written", "%v", err)
	}
	code, reason, err := c.AwaitClose(wait(env) / 2)
	switch {
	case err == nil && code == 1007:
		return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("close 1007 %q", reason)}
	case err == nil:
		return suite.Failf("close 1007 (RFC 6455 §8.1: MUST fail the connection on invalid UTF-8; §7.4.1: 1007)", "close %d %q", code, reason)
	case !rawclient.IsTimeout(err):
		return suite.NonStrictf("close 1007", "TCP closed without a close frame (%v)", err)
	}
	// No close yet: end the message and see whether the server fails it then.
	r := k.afterFIN(c, env)
	if r.Verdict == suite.OK {
		return suite.NonStrictf("close 1007 before the message ends (project policy: fail fast; RFC 6455 §8.1 does not say when)",
			"no close within %v of the invalid fragment; close 1007 once the message ended", wait(env)/2)
	}
	return r
}

// afterFIN ends an open fragmented text message and expects 1007.
func (k *kit) afterFIN(c *rawclient.Conn, env *suite.Env) suite.Result {
	if err := c.Write(masked(true, ws.OpContinuation, []byte("end"))); err != nil {
		return suite.NonStrictf("close 1007", "write failed, server dropped early: %v", err)
	}
	return expectClose(c, env, 1007)
}

func (k *kit) pvLength(ctx context.Context, env *suite.Env) suite.Result {
	raw := []byte{0x82, 0x80 | 127}
	raw = binary.BigEndian.AppendUint64(raw, 1<<63|5)
	raw = append(raw, 1, 2, 3, 4, 'x', 'x', 'x', 'x', 'x')
	c, _, err := k.openRoom(ctx, env, "PV-09")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	if err := c.WriteRaw(raw); err != nil {
		return suite.Result{Verdict: suite.OK, Detail: "dropped while writing"}
	}
	code, reason, err := c.AwaitClose(wait(env))
	switch {
	case err == nil && code == 1002:
		return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("close 1002 %q", reason)}
	case err == nil && code == 1009:
		return suite.NonStrictf("close 1002", "close 1009 %q (treated as too big)", reason)
	case err == nil:
		return suite.Failf("close 1002 or a drop", "close %d %q", code, reason)
	case rawclient.IsTimeout(err):
		return suite.Failf("close 1002 or a drop", "still open after %v", wait(env))
	}
	return suite.Result{Verdict: suite.OK, Detail: "dropped"}
}

func (k *kit) pvGarbage(ctx context.Context, env *suite.Env) suite.Result {
	u := room(env, "PV-10")
	nc, err := rawclient.DialTCP(ctx, u)
	if err != nil {
		return suite.Failf("a TCP connection", "%v", err)
	}
	defer nc.Close()
	c := &rawclient.Conn{NC: nc}
	if err := c.WriteRaw([]byte("\x16\x03\x01\x00\xa5garbage \x00\xff not http\r\n\r\n")); err != nil {
		return suite.Result{Verdict: suite.OK, Detail: "dropped while writing"}
	}
	_ = nc.SetReadDeadline(time.Now().Add(wait(env)))
	buf := make([]byte, 512)
	n, err := nc.Read(buf)
	switch {
	case n > 0:
		got := string(buf[:n])
		var proto string
		var status int
		if _, serr := fmt.Sscanf(got, "%s %d", &proto, &status); serr == nil && status == http.StatusBadRequest {
			return suite.Result{Verdict: suite.OK, Detail: "400"}
		} else if serr == nil && status/100 == 4 {
			return suite.NonStrictf("400", "%d", status)
		}
		return suite.Failf("400 or a close", "%q", trim(got, 60))
	case rawclient.IsTimeout(err):
		return suite.Failf("400 or a close", "still open after %v", wait(env))
	}
	return suite.Result{Verdict: suite.OK, Detail: "closed"}
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
