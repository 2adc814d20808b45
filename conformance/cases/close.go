package cases

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// Close codes a client may send (RFC 6455 §7.4.1, §7.4.2) and ones it may not.
var (
	validCodes   = []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}
	invalidCodes = []uint16{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999}
)

func (k *kit) close() []suite.Case {
	return []suite.Case{
		{ID: "CL-01", Autobahn: "7.1.1", Group: "close", Ref: "RFC 6455 §5.5.1, §7.1.1", Title: "close 1000 is echoed and the server closes TCP first", Run: k.clNormal},
		{ID: "CL-02", Autobahn: "7.3.1", Group: "close", Ref: "RFC 6455 §5.5.1, §7.1.5", Title: "an empty close body is answered with a close frame", Run: k.clEmpty},
		{ID: "CL-03", Autobahn: "7.3.2", Group: "close", Ref: "RFC 6455 §5.5.1", Title: "a 1-byte close body is a protocol error (1002)", Run: k.clOneByte},
		{ID: "CL-04", Autobahn: "7.3.5", Group: "close", Ref: "RFC 6455 §5.5", Title: "a 123-byte close reason (125-byte body) is accepted", Run: k.clReason(123)},
		{ID: "CL-05", Autobahn: "7.3.6", Group: "close", Ref: "RFC 6455 §5.5", Title: "a 124-byte close reason (126-byte body) is a protocol error (1002)", Run: k.clReason(124)},
		{ID: "CL-06", Autobahn: "7.5.1", Group: "close", Ref: "RFC 6455 §5.5.1, §8.1", Title: "an invalid UTF-8 close reason gets 1007 or 1002", Run: k.clBadReason},
		{ID: "CL-07", Autobahn: "7.7.1-7.7.13", Group: "close", Ref: "RFC 6455 §7.4.1, §5.5.1", Title: "valid close codes (1000-1003, 1007-1011, 3000, 4999) are echoed", Run: k.clValid},
		{ID: "CL-08", Autobahn: "7.9.1-7.9.9", Group: "close", Ref: "RFC 6455 §7.4.1, §7.4.2", Title: "invalid close codes (0, 999, 1004-1006, 1016, 1100, 2000, 2999) get 1002", Run: k.clInvalid},
		{ID: "CL-09", Autobahn: "7.1.4", Group: "close", Ref: "RFC 6455 §5.5.1", Title: "data sent after the client's close frame is ignored", Run: k.clDataAfter},
		{ID: "CL-10", Group: "close", Ref: "RFC 6455 §7.4.1", Title: "the server never sends 1005, 1006 or 1015 on the wire (every case)", Run: k.clNeverReserved, After: true},
		{ID: "CL-11", Group: "close", Ref: "RFC 6455 §7.1.1", Title: "a peer that never answers the server's close is dropped", Run: k.clNoAnswer},
	}
}

// closeReply sends a close frame with body and returns the server's reply.
func (k *kit) closeReply(ctx context.Context, env *suite.Env, id string, body []byte) (*rawclient.Conn, uint16, string, error) {
	c, _, err := k.openRoom(ctx, env, id)
	if err != nil {
		return nil, 0, "", err
	}
	if err := c.Send(ws.OpClose, body); err != nil {
		return c, 0, "", err
	}
	code, reason, err := c.AwaitClose(wait(env))
	return c, code, reason, err
}

func (k *kit) clNormal(ctx context.Context, env *suite.Env) suite.Result {
	c, code, _, err := k.closeReply(ctx, env, "CL-01", rawclient.CloseBody(1000, "bye"))
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		return suite.Failf("close 1000 in reply", "%v", err)
	}
	if code != 1000 {
		return suite.Failf("close 1000 in reply", "close %d", code)
	}
	if err := c.AwaitEOF(wait(env)); err != nil {
		return suite.NonStrictf("the server closes TCP first (§7.1.1 SHOULD)", "TCP still open %v after the close handshake", wait(env))
	}
	return suite.Pass()
}

func (k *kit) clEmpty(ctx context.Context, env *suite.Env) suite.Result {
	c, code, _, err := k.closeReply(ctx, env, "CL-02", nil)
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		return suite.Failf("a close frame in reply", "%v", err)
	}
	// An empty reply parses as 1005, which is what RFC 6455 §7.1.5 reports.
	if code == 1005 || code == 1000 {
		return suite.Pass()
	}
	return suite.Failf("an empty close body or 1000", "close %d", code)
}

func (k *kit) clOneByte(ctx context.Context, env *suite.Env) suite.Result {
	return k.violation(ctx, env, "CL-03", masked(true, ws.OpClose, []byte{0x03}).Append(nil), 1002)
}

func (k *kit) clReason(n int) func(context.Context, *suite.Env) suite.Result {
	return func(ctx context.Context, env *suite.Env) suite.Result {
		body := rawclient.CloseBody(1000, strings.Repeat("r", n))
		if n > 123 {
			return k.violation(ctx, env, "CL-05", masked(true, ws.OpClose, body).Append(nil), 1002)
		}
		c, code, _, err := k.closeReply(ctx, env, "CL-04", body)
		if c != nil {
			defer c.Close()
		}
		if err != nil || code != 1000 {
			return suite.Failf("close 1000 in reply", "close %d, %v", code, err)
		}
		return suite.Pass()
	}
}

func (k *kit) clBadReason(ctx context.Context, env *suite.Env) suite.Result {
	body := append(rawclient.CloseBody(1000, "bad "), 0xc3, 0x28)
	return k.violation(ctx, env, "CL-06", masked(true, ws.OpClose, body).Append(nil), 1007, 1002)
}

// eachCode runs fn for every code concurrently and joins the results.
func eachCode(list []uint16, fn func(code uint16) suite.Result) suite.Result {
	rs := make([]suite.Result, len(list))
	var wg sync.WaitGroup
	for i, code := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i] = labelled(fmt.Sprint(code), fn(code))
		}()
	}
	wg.Wait()
	return worst(rs...)
}

func (k *kit) clValid(ctx context.Context, env *suite.Env) suite.Result {
	return eachCode(validCodes, func(code uint16) suite.Result {
		c, got, _, err := k.closeReply(ctx, env, "CL-07", rawclient.CloseBody(code, "valid"))
		if c != nil {
			defer c.Close()
		}
		switch {
		case err != nil:
			return suite.Failf(fmt.Sprintf("close %d in reply (§5.5.1 MUST reply)", code), "%v", err)
		case got == code:
			return suite.Pass()
		case got == 1000 || got == 1005:
			return suite.NonStrictf(fmt.Sprintf("close %d echoed", code), "close %d", got)
		}
		return suite.Failf(fmt.Sprintf("close %d echoed", code), "close %d", got)
	})
}

func (k *kit) clInvalid(ctx context.Context, env *suite.Env) suite.Result {
	return eachCode(invalidCodes, func(code uint16) suite.Result {
		return k.violation(ctx, env, "CL-08", masked(true, ws.OpClose, rawclient.CloseBody(code, "")).Append(nil), 1002)
	})
}

func (k *kit) clDataAfter(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "CL-09")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	raw := frames(masked(true, ws.OpClose, rawclient.CloseBody(1000, "")), masked(true, ws.OpText, []byte("after-close")))
	if err := c.WriteRaw(raw); err != nil {
		return suite.Failf("frames written", "%v", err)
	}
	deadline := time.Now().Add(wait(env))
	for {
		f, err := c.Next(time.Until(deadline))
		if err != nil {
			return suite.Failf("close 1000 in reply", "%v", err)
		}
		if f.Op == ws.OpText && string(f.Payload) == "after-close" {
			return suite.Failf("the text after our close ignored", "it was relayed")
		}
		if f.Op == ws.OpClose {
			code, _, _ := rawclient.ParseClose(f.Payload)
			if code != 1000 {
				return suite.Failf("close 1000 in reply", "close %d", code)
			}
			return suite.Pass()
		}
	}
}

func (k *kit) clNeverReserved(ctx context.Context, env *suite.Env) suite.Result {
	seen := k.rec.Closes()
	counts := map[uint16]int{}
	var bad []string
	for _, s := range seen {
		if s.Empty {
			continue
		}
		counts[s.Code]++
		if s.Code == 1005 || s.Code == 1006 || s.Code == 1015 {
			bad = append(bad, fmt.Sprintf("%s got %d", s.Label, s.Code))
		}
	}
	if len(bad) > 0 {
		return suite.Fail("no 1005/1006/1015 close frame (§7.4.1 MUST NOT)", strings.Join(bad, ", "))
	}
	var keys []int
	for c := range counts {
		keys = append(keys, int(c))
	}
	sort.Ints(keys)
	var parts []string
	for _, c := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", c, counts[uint16(c)]))
	}
	if len(seen) == 0 {
		return suite.Skip("no close frame was seen (run it with other cases)")
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("%d close frames seen: %s", len(seen), strings.Join(parts, " "))}
}

func (k *kit) clNoAnswer(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "CL-11")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	// A reserved opcode makes the server start the close.
	if err := c.Write(masked(true, ws.OpCode(0x3), nil)); err != nil {
		return suite.Failf("frame written", "%v", err)
	}
	if _, _, err := c.AwaitClose(wait(env)); err != nil && !errors.Is(err, rawclient.ErrNoClose) {
		return suite.Failf("the server's close frame", "%v", err)
	}
	bound := env.CaseTimeout - wait(env) - time.Second
	if bound <= 0 || bound > 30*time.Second {
		bound = 10 * time.Second
	}
	start := time.Now()
	if err := c.AwaitEOF(bound); err != nil {
		return suite.NonStrictf(fmt.Sprintf("TCP closed within %v", bound), "still open after %v (RFC 6455 leaves the timeout to the server)", bound)
	}
	// EOF may be only a half-close; the socket is gone when a write fails.
	pong := masked(true, ws.OpPong, nil).Append(nil)
	for time.Since(start) < bound {
		if err := c.WriteRaw(pong); err != nil {
			return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("dropped %v after its close frame", time.Since(start).Round(10*time.Millisecond))}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return suite.NonStrictf(fmt.Sprintf("TCP closed within %v", bound), "half-closed but still reading after %v", bound)
}
