package cases

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// echoSizes are the lengths around each length-encoding boundary.
var echoSizes = []int{0, 125, 126, 127, 128, 65535, 65536}

func (k *kit) messages() []suite.Case {
	return []suite.Case{
		{ID: "MS-01", Autobahn: "1.1.1-1.1.7", Group: "messages", Ref: "RFC 6455 §5.2, §5.6", Title: "text echo at 0/125/126/127/128/65535/65536 bytes", Run: k.msEcho(ws.OpText)},
		{ID: "MS-02", Autobahn: "1.2.1-1.2.7", Group: "messages", Ref: "RFC 6455 §5.2, §5.6", Title: "binary echo at 0/125/126/127/128/65535/65536 bytes", Run: k.msEcho(ws.OpBinary)},
		{ID: "MS-03", Autobahn: "6.2.2", Group: "messages", Ref: "RFC 6455 §5.4", Title: "fragmented message (UTF-8 split across fragments) is reassembled and relayed once", Run: k.msFragmented},
		{ID: "MS-04", Autobahn: "5.6", Group: "messages", Ref: "RFC 6455 §5.4, §5.5.2", Title: "a ping between fragments is answered before the message ends", Run: k.msPingBetween},
		{ID: "MS-05", Group: "messages", Ref: "RFC 6455 §5.1, §5.2", Title: "server frames are unmasked, RSV clear, minimal length encoding", Run: k.msServerFrames},
		{ID: "MS-06", Group: "messages", Ref: "RFC 6455 §5.2", Title: "a frame written one byte per TCP write is understood", Run: k.msByteWrites},
		{ID: "MS-07", Group: "messages", Ref: "contracts: broadcast", Title: "broadcast reaches each member of a room exactly once", Run: k.msBroadcast, Room: true},
		{ID: "MS-08", Group: "messages", Ref: "contracts: broadcast", Title: "per-sender order is preserved at every receiver", Run: k.msOrder, Room: true},
		{ID: "MS-09", Group: "messages", Ref: "contracts: rooms", Title: "rooms are isolated by URL path", Run: k.msRooms},
		{ID: "MS-10", Group: "messages", Ref: "RFC 6455 §5.6", Title: "opcode preserved: valid UTF-8 sent as binary stays binary, text stays text", Run: k.msOpcode},
	}
}

func payload(n int, text bool) []byte {
	b := make([]byte, n)
	for i := range b {
		if text {
			b[i] = 'a' + byte(i%26)
		} else {
			b[i] = byte(i * 7)
		}
	}
	return b
}

func (k *kit) msEcho(op ws.OpCode) func(context.Context, *suite.Env) suite.Result {
	return func(ctx context.Context, env *suite.Env) suite.Result {
		c, _, err := k.openRoom(ctx, env, "MS-echo")
		if err != nil {
			return suite.Failf("a valid handshake", "%v", err)
		}
		defer c.Close()
		var skipped []int
		var changed []ws.OpCode
		for _, n := range echoSizes {
			if env.MaxMessage > 0 && int64(n) > env.MaxMessage {
				skipped = append(skipped, n)
				continue
			}
			m, err := echo(c, env, op, payload(n, op == ws.OpText))
			if err != nil {
				return suite.Failf(fmt.Sprintf("the %d-byte message echoed", n), "%v", err)
			}
			if m.Op != op {
				changed = append(changed, m.Op)
			}
		}
		r := suite.Pass()
		if len(changed) > 0 {
			r = suite.NonStrictf(opName(op)+" echoes", "payloads intact but relayed as %s (see MS-10)", opName(changed[0]))
		}
		if len(skipped) > 0 {
			r.Detail = fmt.Sprintf("sizes %v above --max-message not sent", skipped)
		}
		return r
	}
}

func (k *kit) msFragmented(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "MS-03")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	msg := []byte("Hello, wörld ☃")
	cut1, cut2 := 5, bytes.IndexRune(msg, 'ö')+1 // cut2 splits ö
	raw := frames(masked(false, ws.OpText, msg[:cut1]), masked(false, ws.OpContinuation, msg[cut1:cut2]), masked(true, ws.OpContinuation, msg[cut2:]))
	if err := c.WriteRaw(raw); err != nil {
		return suite.Failf("frames written", "%v", err)
	}
	if _, err := awaitPayload(c, env, ws.OpText, msg); err != nil {
		return suite.Failf("the reassembled message", "%v", err)
	}
	// Relayed once: a marker sent next must be the next copy we see.
	marker := []byte("after-fragments")
	if err := c.Send(ws.OpText, marker); err != nil {
		return suite.Failf("marker sent", "%v", err)
	}
	dups := 0
	_, _, err = c.Await(wait(env), func(m rawclient.Message) bool {
		if string(m.Payload) == string(msg) {
			dups++
		}
		return string(m.Payload) == string(marker)
	})
	if err != nil {
		return suite.Failf("marker echoed", "%v", err)
	}
	if dups > 0 {
		return suite.Failf("the message relayed once", "%d extra copies", dups)
	}
	return suite.Pass()
}

// msPingBetween sends the first fragment and a ping, waits for the pong,
// then sends the last fragment. Data frames that arrive before the pong are
// kept: an echo server may stream the first fragment back before it answers
// the ping (RFC 6455 §5.4 lets control frames go between fragments, §5.5.2
// asks only that the pong come "as soon as practical").
func (k *kit) msPingBetween(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "MS-04")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	if err := c.WriteRaw(frames(masked(false, ws.OpText, []byte("frag-")), masked(true, ws.OpPing, []byte("between")))); err != nil {
		return suite.Failf("frames written", "%v", err)
	}
	var msg []byte // the data message being reassembled
	sentEnd := false
	deadline := time.Now().Add(2 * wait(env))
	for {
		f, err := c.Next(time.Until(deadline))
		if err != nil {
			if !sentEnd {
				return suite.Failf("pong \"between\" (RFC 6455 §5.5.2: MUST send a pong in response)", "%v", err)
			}
			return suite.Failf("the message \"frag-end\" after the ping (RFC 6455 §5.4: control frames MAY be injected between fragments)", "%v", err)
		}
		switch {
		case f.Op == ws.OpPong && string(f.Payload) == "between" && !sentEnd:
			if err := c.Write(masked(true, ws.OpContinuation, []byte("end"))); err != nil {
				return suite.Failf("last fragment written", "%v", err)
			}
			sentEnd = true
		case f.Op == ws.OpPing:
			_ = c.Send(ws.OpPong, f.Payload)
		case f.Op == ws.OpClose:
			return suite.Failf("pong \"between\" and the message \"frag-end\" (RFC 6455 §5.4: control frames MAY be injected between fragments)", "close %q", f.Payload)
		case f.Op == ws.OpText || f.Op == ws.OpBinary || f.Op == ws.OpContinuation:
			if f.Op != ws.OpContinuation {
				msg = msg[:0]
			}
			msg = append(msg, f.Payload...)
			if f.Fin && string(msg) == "frag-end" {
				if !sentEnd {
					return suite.Failf("the message to end only after its last fragment", "\"frag-end\" arrived before we sent \"end\"")
				}
				return suite.Pass()
			}
		}
	}
}

func (k *kit) msServerFrames(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "MS-05")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	for _, n := range []int{1, 125, 126, 65535, 65536} {
		if env.MaxMessage > 0 && int64(n) > env.MaxMessage {
			continue
		}
		m, err := echo(c, env, ws.OpBinary, payload(n, false))
		if err != nil {
			return suite.Failf(fmt.Sprintf("the %d-byte message echoed", n), "%v", err)
		}
		if m.Masked {
			return suite.Failf("unmasked server frames (§5.1)", "masked frame in the %d-byte message", n)
		}
		if m.Odd {
			return suite.Failf("minimal length encoding and RSV 0 (§5.2)", "non-minimal length or RSV bits in the %d-byte message", n)
		}
	}
	return suite.Pass()
}

func (k *kit) msByteWrites(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "MS-06")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	msg := payload(300, true)
	for _, b := range masked(true, ws.OpText, msg).Append(nil) {
		if err := c.WriteRaw([]byte{b}); err != nil {
			return suite.Failf("bytes written", "%v", err)
		}
	}
	if _, err := awaitPayload(c, env, ws.OpText, msg); err != nil {
		return suite.Failf("the 300-byte message echoed", "%v", err)
	}
	return suite.Pass()
}

// joinRoom opens n clients in one fresh room. Each member waits for the
// echo of its own hello before the next one joins: a member whose own
// message came back is in the room, whatever the server's join timing.
func (k *kit) joinRoom(ctx context.Context, env *suite.Env, id string, n int) ([]*rawclient.Conn, error) {
	u := room(env, id)
	var cs []*rawclient.Conn
	for i := 0; i < n; i++ {
		c, err := k.open(ctx, u, id)
		if err != nil {
			closeAll(cs)
			return nil, err
		}
		cs = append(cs, c)
		if _, err := echo(c, env, ws.OpText, []byte(fmt.Sprintf("hello-%d-%s", i, u.Path))); err != nil {
			closeAll(cs)
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
	}
	return cs, nil
}

func closeAll(cs []*rawclient.Conn) {
	for _, c := range cs {
		c.Close()
	}
}

func (k *kit) msBroadcast(ctx context.Context, env *suite.Env) suite.Result {
	const n = 3
	cs, err := k.joinRoom(ctx, env, "MS-07", n)
	if err != nil {
		return suite.Failf("3 members in a room", "%v", err)
	}
	defer closeAll(cs)
	for i, c := range cs {
		if err := c.Send(ws.OpText, []byte("from-"+strconv.Itoa(i))); err != nil {
			return suite.Failf("sent", "%v", err)
		}
	}
	// Then an end marker from member 0; everything before it is counted.
	for i, c := range cs {
		if err := c.Send(ws.OpText, []byte("end-"+strconv.Itoa(i))); err != nil {
			return suite.Failf("sent", "%v", err)
		}
	}
	var bad []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := map[string]int{}
			ends := 0
			for ends < n {
				m, err := c.Message(wait(env))
				if err != nil {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("member %d: %v after %v", r, err, got))
					mu.Unlock()
					return
				}
				p := string(m.Payload)
				if len(p) > 4 && p[:4] == "end-" {
					ends++
				} else {
					got[p]++
				}
			}
			for i := 0; i < n; i++ {
				if cnt := got["from-"+strconv.Itoa(i)]; cnt != 1 {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("member %d got member %d's message %d times", r, i, cnt))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		return suite.Fail("each of 3 messages once at each of 3 members", fmt.Sprint(bad))
	}
	return suite.Pass()
}

func (k *kit) msOrder(ctx context.Context, env *suite.Env) suite.Result {
	const count = 200
	cs, err := k.joinRoom(ctx, env, "MS-08", 2)
	if err != nil {
		return suite.Failf("2 members in a room", "%v", err)
	}
	var sender sync.WaitGroup
	defer sender.Wait()
	defer closeAll(cs)
	cs[0].AutoPong = false // the sender goroutine is its only writer
	sender.Add(1)
	go func() {
		defer sender.Done()
		for i := 0; i < count; i++ {
			if cs[0].Send(ws.OpText, []byte("seq-"+strconv.Itoa(i))) != nil {
				return
			}
		}
	}()
	for r, c := range cs {
		next := 0
		for next < count {
			m, err := c.Message(wait(env))
			if err != nil {
				return suite.Failf(fmt.Sprintf("%d messages in order", count), "member %d: %v after seq %d", r, err, next)
			}
			p := string(m.Payload)
			if len(p) < 4 || p[:4] != "seq-" {
				continue
			}
			if p != "seq-"+strconv.Itoa(next) {
				return suite.Failf("seq-"+strconv.Itoa(next), "member %d got %s", r, p)
			}
			next++
		}
	}
	return suite.Pass()
}

func (k *kit) msRooms(ctx context.Context, env *suite.Env) suite.Result {
	a, _, err := k.openRoom(ctx, env, "MS-09a")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer a.Close()
	b, _, err := k.openRoom(ctx, env, "MS-09b")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer b.Close()
	secret := []byte("room-a-only")
	if _, err := echo(a, env, ws.OpText, secret); err != nil {
		return suite.Failf("echo in room A", "%v", err)
	}
	marker := []byte("room-b-marker")
	if err := b.Send(ws.OpText, marker); err != nil {
		return suite.Failf("sent", "%v", err)
	}
	leaked := false
	_, _, err = b.Await(wait(env), func(m rawclient.Message) bool {
		if string(m.Payload) == string(secret) {
			leaked = true
		}
		return string(m.Payload) == string(marker)
	})
	if err != nil {
		return suite.Failf("echo in room B", "%v", err)
	}
	if leaked {
		return suite.NonStrictf("no message from room A in room B", "room B received room A's message (the server has one room for every path)")
	}
	return suite.Pass()
}

func (k *kit) msOpcode(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "MS-10")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	for _, op := range []ws.OpCode{ws.OpBinary, ws.OpText} {
		p := []byte("opcode-" + opName(op))
		if err := c.Send(op, p); err != nil {
			return suite.Failf("sent", "%v", err)
		}
		m, _, err := c.Await(wait(env), func(m rawclient.Message) bool { return string(m.Payload) == string(p) })
		if err != nil {
			return suite.Failf("echo", "%v", err)
		}
		if m.Op != op {
			return suite.Failf(opName(op), "came back as %s", opName(m.Op))
		}
	}
	return suite.Pass()
}
