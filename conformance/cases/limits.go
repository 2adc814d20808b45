package cases

import (
	"context"
	"fmt"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

func (k *kit) limits() []suite.Case {
	return []suite.Case{
		{ID: "LM-01", Group: "limits", Ref: "RFC 6455 §10.4", Title: "a message of exactly --max-message bytes is accepted", Run: k.lmExact},
		{ID: "LM-02", Group: "limits", Ref: "RFC 6455 §7.4.1, §10.4", Title: "a message one byte over --max-message gets 1009", Run: k.lmOver},
		{ID: "LM-03", Group: "limits", Ref: "RFC 6455 §5.2", Title: "1, 2, 4, 8 and 16 MiB messages are echoed (--relaxed profile)", Run: k.lmLarge},
		{ID: "LM-04", Group: "limits", Ref: "RFC 6455 §5.4", Title: "a message in 10,000 one-byte fragments is reassembled", Run: k.lmManyFragments},
	}
}

func (k *kit) lmExact(ctx context.Context, env *suite.Env) suite.Result {
	if env.MaxMessage <= 0 {
		return suite.Skip("no --max-message given")
	}
	if env.MaxMessage > rawclient.MaxReadPayload {
		return suite.Skip(fmt.Sprintf("--max-message above %d bytes is not checked", rawclient.MaxReadPayload))
	}
	c, _, err := k.openRoom(ctx, env, "LM-01")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	if _, err := echoWhile(c, env, ws.OpBinary, payload(int(env.MaxMessage), false)); err != nil {
		return suite.Failf(fmt.Sprintf("the %d-byte message echoed", env.MaxMessage), "%v", err)
	}
	return suite.Pass()
}

func (k *kit) lmOver(ctx context.Context, env *suite.Env) suite.Result {
	if env.MaxMessage <= 0 {
		return suite.Skip("no --max-message given")
	}
	if env.MaxMessage > rawclient.MaxReadPayload {
		return suite.Skip(fmt.Sprintf("--max-message above %d bytes is not checked", rawclient.MaxReadPayload))
	}
	// Sent as two fragments so the limit must hold across fragments too.
	p := payload(int(env.MaxMessage)+1, false)
	half := len(p) / 2
	return k.violation(ctx, env, "LM-02", frames(masked(false, ws.OpBinary, p[:half]), masked(true, ws.OpContinuation, p[half:])), 1009)
}

func (k *kit) lmLarge(ctx context.Context, env *suite.Env) suite.Result {
	if !env.Relaxed {
		return suite.Skip("large messages run only with --relaxed")
	}
	c, _, err := k.openRoom(ctx, env, "LM-03")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	var done []int
	for mib := 1; mib <= 16; mib *= 2 {
		n := mib << 20
		if env.MaxMessage > 0 && int64(n) > env.MaxMessage {
			break
		}
		if _, err := echoWhile(c, env, ws.OpBinary, payload(n, false)); err != nil {
			return suite.Failf(fmt.Sprintf("the %d MiB message echoed", mib), "%v", err)
		}
		done = append(done, mib)
	}
	if len(done) == 0 {
		return suite.Skip("--max-message is below 1 MiB")
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("echoed %v MiB", done)}
}

func (k *kit) lmManyFragments(ctx context.Context, env *suite.Env) suite.Result {
	const n = 10000
	if env.MaxMessage > 0 && env.MaxMessage < n {
		return suite.Skip("--max-message is below 10,000 bytes")
	}
	c, _, err := k.openRoom(ctx, env, "LM-04")
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	p := payload(n, true)
	var raw []byte
	for i := range p {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		raw = masked(i == n-1, op, p[i:i+1]).Append(raw)
	}
	if err := c.WriteRaw(raw); err != nil {
		return suite.Failf("fragments written", "%v", err)
	}
	if _, err := awaitPayload(c, env, ws.OpText, p); err != nil {
		return suite.Failf("the 10,000-byte message echoed", "%v", err)
	}
	return suite.Pass()
}
