package cases

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// heartbeatBudget is the time a heartbeat case may need.
func heartbeatBudget(env *suite.Env) time.Duration {
	return 4*env.PongTimeout + 6*env.PingInterval + 5*time.Second
}

func (k *kit) ping() []suite.Case {
	cs := []suite.Case{
		{ID: "PP-01", Autobahn: "2.1-2.4", Group: "ping", Ref: "RFC 6455 §5.5.2, §5.5.3", Title: "pings of 0/10/125 bytes get a pong with identical payload", Run: k.ppSizes},
		{ID: "PP-02", Autobahn: "2.5", Group: "ping", Ref: "RFC 6455 §5.5", Title: "a 126-byte ping is a protocol error (1002)", Run: k.ppTooLong},
		{ID: "PP-03", Autobahn: "2.7-2.8", Group: "ping", Ref: "RFC 6455 §5.5.3", Title: "an unsolicited pong is ignored", Run: k.ppUnsolicited},
		{ID: "PP-04", Autobahn: "2.10", Group: "ping", Ref: "RFC 6455 §5.5.3", Title: "10 pings get 10 pongs in order", Run: k.ppTen},
		{ID: "PP-05", Group: "ping", Ref: "contracts: --ping-interval", Title: "server ping cadence matches --ping-interval (±10 %)", Run: k.ppCadence, Serial: true},
		{ID: "PP-06", Group: "ping", Ref: "contracts: --pong-timeout", Title: "a silent peer is closed within --pong-timeout plus slack", Run: k.ppSilent},
		{ID: "PP-07", Group: "ping", Ref: "contracts: --pong-timeout", Title: "a peer that only answers pings survives 3× --pong-timeout", Run: k.ppSurvive},
		{ID: "PP-08", Group: "ping", Ref: "RFC 6455 §5.5.1", Title: "no pong (nor anything) after the server's close frame", Run: k.ppAfterClose},
	}
	for i := range cs {
		cs[i].Budget = heartbeatBudget
	}
	return cs
}

// awaitPong waits for a pong with payload p, skipping other frames.
func awaitPong(c *rawclient.Conn, d time.Duration, p []byte) error {
	deadline := time.Now().Add(d)
	for {
		f, err := c.Next(time.Until(deadline))
		if err != nil {
			return err
		}
		switch f.Op {
		case ws.OpPong:
			if string(f.Payload) == string(p) {
				return nil
			}
		case ws.OpPing:
			_ = c.Send(ws.OpPong, f.Payload)
		case ws.OpClose:
			return fmt.Errorf("close frame %q", f.Payload)
		}
	}
}

func (k *kit) ppSizes(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "PP-01")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	for _, n := range []int{0, 10, 125} {
		p := payload(n, false)
		if err := c.Send(ws.OpPing, p); err != nil {
			return suite.Failf("ping sent", "%v", err)
		}
		if err := awaitPong(c, wait(env), p); err != nil {
			return suite.Failf(fmt.Sprintf("pong with the %d-byte payload", n), "%v", err)
		}
	}
	return suite.Pass()
}

func (k *kit) ppTooLong(ctx context.Context, env *suite.Env) suite.Result {
	return k.violation(ctx, env, "PP-02", masked(true, ws.OpPing, payload(126, false)).Append(nil), 1002)
}

func (k *kit) ppUnsolicited(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "PP-03")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	if err := c.Send(ws.OpPong, []byte("unsolicited")); err != nil {
		return suite.Failf("pong sent", "%v", err)
	}
	if _, err := echo(c, env, ws.OpText, []byte("still-here")); err != nil {
		return suite.Failf("the connection still working", "%v", err)
	}
	return suite.Pass()
}

func (k *kit) ppTen(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "PP-04")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	var raw []byte
	for i := 0; i < 10; i++ {
		raw = masked(true, ws.OpPing, []byte(fmt.Sprint(i))).Append(raw)
	}
	if err := c.WriteRaw(raw); err != nil {
		return suite.Failf("pings sent", "%v", err)
	}
	var got []string
	deadline := time.Now().Add(wait(env))
	for len(got) < 10 {
		f, err := c.Next(time.Until(deadline))
		if err != nil {
			break
		}
		if f.Op == ws.OpPong {
			got = append(got, string(f.Payload))
		}
		if f.Op == ws.OpPing {
			_ = c.Send(ws.OpPong, f.Payload)
		}
	}
	prev := -1
	for _, g := range got {
		var n int
		if _, err := fmt.Sscan(g, &n); err != nil || n <= prev {
			return suite.Failf("pongs 0..9 in order", "%q", got)
		}
		prev = n
	}
	switch {
	case len(got) == 10:
		return suite.Pass()
	case prev == 9:
		// §5.5.3 allows answering only the most recent of several pings.
		return suite.NonStrictf("10 pongs", "%d pongs %q (allowed: only the latest ping answered)", len(got), got)
	}
	return suite.Failf("pongs 0..9 in order", "%q", got)
}

func (k *kit) ppCadence(ctx context.Context, env *suite.Env) suite.Result {
	if env.PingInterval <= 0 {
		return suite.Skip("no --ping-interval given")
	}
	c, _, err := k.openRoom(ctx, env, "PP-05")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	const pings = 6
	var at []time.Time
	deadline := time.Now().Add(time.Duration(pings+2)*env.PingInterval + time.Second)
	for len(at) < pings {
		f, err := c.Next(time.Until(deadline))
		if err != nil {
			return suite.Failf(fmt.Sprintf("%d pings %v apart", pings, env.PingInterval), "%d pings, then %v", len(at), err)
		}
		if f.Op == ws.OpPing {
			at = append(at, time.Now())
			_ = c.Send(ws.OpPong, f.Payload)
		}
	}
	// The median interval: one late wake-up of a loaded machine moves
	// the mean but not the median.
	gaps := make([]time.Duration, 0, pings-1)
	for i := 1; i < pings; i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]))
	}
	slices.Sort(gaps)
	median := gaps[len(gaps)/2]
	tol := env.PingInterval / 10
	if tol < 25*time.Millisecond {
		tol = 25 * time.Millisecond // scheduling noise on a loaded machine
	}
	if d := median - env.PingInterval; d > tol || d < -tol {
		return suite.Failf(fmt.Sprintf("pings every %v ±%v", env.PingInterval, tol), "median interval %v (intervals %v)", median.Round(time.Millisecond), gaps)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("median interval %v", median.Round(time.Millisecond))}
}

// slack is the margin added to the pong timeout: a server checks liveness
// on its ping ticks or read deadlines, so it may notice up to one interval
// late, and a loaded machine adds its own delay. A server that never closes
// a silent peer still fails.
func slack(env *suite.Env) time.Duration {
	return max(env.PingInterval+env.PongTimeout/2, 2*time.Second)
}

func (k *kit) ppSilent(ctx context.Context, env *suite.Env) suite.Result {
	if env.PongTimeout <= 0 {
		return suite.Skip("no --pong-timeout given")
	}
	c, _, err := k.openRoom(ctx, env, "PP-06")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	start := time.Now()
	bound := env.PongTimeout + slack(env)
	deadline := start.Add(bound)
	for {
		f, err := c.Next(time.Until(deadline))
		if rawclient.IsTimeout(err) {
			return suite.Failf(fmt.Sprintf("closed within %v", bound), "still open after %v", bound)
		}
		if err != nil || f.Op == ws.OpClose {
			el := time.Since(start)
			if el < env.PongTimeout*9/10 {
				return suite.NonStrictf(fmt.Sprintf("closed after about %v", env.PongTimeout), "closed already after %v", el.Round(time.Millisecond))
			}
			how := "TCP closed"
			if err == nil {
				code, reason, _ := rawclient.ParseClose(f.Payload)
				how = fmt.Sprintf("close %d %q", code, reason)
			}
			return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("%s after %v", how, el.Round(time.Millisecond))}
		}
		// Never answer pings: this peer is silent.
	}
}

func (k *kit) ppSurvive(ctx context.Context, env *suite.Env) suite.Result {
	if env.PongTimeout <= 0 || env.PingInterval <= 0 {
		return suite.Skip("needs --ping-interval and --pong-timeout")
	}
	c, _, err := k.openRoom(ctx, env, "PP-07")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	span := 3 * env.PongTimeout
	deadline := time.Now().Add(span)
	pings := 0
	for {
		f, err := c.Next(time.Until(deadline))
		if rawclient.IsTimeout(err) {
			break
		}
		if err != nil {
			return suite.Failf(fmt.Sprintf("open for %v while answering pings", span), "%v after %d pings", err, pings)
		}
		switch f.Op {
		case ws.OpPing:
			pings++
			if err := c.Send(ws.OpPong, f.Payload); err != nil {
				return suite.Failf("pong sent", "%v", err)
			}
		case ws.OpClose:
			code, reason, _ := rawclient.ParseClose(f.Payload)
			return suite.Failf(fmt.Sprintf("open for %v while answering pings", span), "close %d %q after %d pings", code, reason, pings)
		}
	}
	if _, err := echo(c, env, ws.OpText, []byte("survived")); err != nil {
		return suite.Failf("a working connection after "+span.String(), "%v", err)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("%d pings answered in %v", pings, span)}
}

func (k *kit) ppAfterClose(ctx context.Context, env *suite.Env) suite.Result {
	c, _, err := k.openRoom(ctx, env, "PP-08")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	raw := frames(masked(true, ws.OpClose, rawclient.CloseBody(1000, "")), masked(true, ws.OpPing, []byte("after-close")))
	if err := c.WriteRaw(raw); err != nil {
		return suite.Failf("frames written", "%v", err)
	}
	closed := false
	pongBefore := false
	deadline := time.Now().Add(wait(env))
	for {
		f, err := c.Next(time.Until(deadline))
		if err != nil {
			if !closed {
				return suite.Failf("a close frame", "%v", err)
			}
			break
		}
		switch {
		case closed:
			return suite.Failf("nothing after the server's close frame", "%s frame %q", opName(f.Op), f.Payload)
		case f.Op == ws.OpClose:
			closed = true
		case f.Op == ws.OpPong && string(f.Payload) == "after-close":
			pongBefore = true
		}
	}
	if pongBefore {
		return suite.NonStrictf("the ping after our close ignored", "answered with a pong before the close frame")
	}
	return suite.Pass()
}
