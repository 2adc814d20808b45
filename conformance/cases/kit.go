// Package cases holds the frame-level conformance cases (handshake,
// messages, ping/pong and heartbeat, close, protocol violations, limits,
// reconnect). Catalogue returns them in a stable order; each case opens its
// own connections with the rawclient package, in a room (URL path) of its
// own, so cases can run concurrently against any server.
//
// The cases only need a server that relays every message to every member
// of a room, the sender included: a room with one member echoes.
package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// kit carries what every case shares: the recorder of close frames.
type kit struct {
	rec *rawclient.Recorder
}

// Catalogue returns every frame-level case in order. rec receives every
// close frame the cases see; the meta-case CL-10 reports on it.
func Catalogue(rec *rawclient.Recorder) []suite.Case {
	k := &kit{rec: rec}
	var all []suite.Case
	all = append(all, k.handshake()...)
	all = append(all, k.messages()...)
	all = append(all, k.ping()...)
	all = append(all, k.close()...)
	all = append(all, k.protocol()...)
	all = append(all, k.limits()...)
	all = append(all, k.autobahn()...)
	all = append(all, k.deflate()...)
	return all
}

// room returns env's URL with a fresh, unique path for case id.
func room(env *suite.Env, id string) *url.URL {
	var b [4]byte
	_, _ = rand.Read(b[:])
	u := *env.URL
	u.Path = "/conformance-" + strings.ToLower(id) + "-" + hex.EncodeToString(b[:])
	u.RawPath, u.RawQuery = "", ""
	return &u
}

// wait is how long a case waits for one expected reply.
func wait(env *suite.Env) time.Duration {
	d := env.CaseTimeout / 3
	if d <= 0 || d > 5*time.Second {
		d = 5 * time.Second
	}
	return d
}

// open connects a valid client to u for case id.
func (k *kit) open(ctx context.Context, u *url.URL, id string) (*rawclient.Conn, error) {
	return rawclient.Open(ctx, u, rawclient.Request{}, k.rec, id)
}

// openRoom connects a valid client to a fresh room for case id.
func (k *kit) openRoom(ctx context.Context, env *suite.Env, id string) (*rawclient.Conn, *url.URL, error) {
	u := room(env, id)
	c, err := k.open(ctx, u, id)
	return c, u, err
}

// echo sends one message and waits for the same message to come back.
// Unrelated messages (server pushes) are skipped.
func echo(c *rawclient.Conn, env *suite.Env, op ws.OpCode, payload []byte) (rawclient.Message, error) {
	if err := c.Send(op, payload); err != nil {
		return rawclient.Message{}, fmt.Errorf("send: %w", err)
	}
	return awaitPayload(c, env, op, payload)
}

func awaitPayload(c *rawclient.Conn, env *suite.Env, op ws.OpCode, payload []byte) (rawclient.Message, error) {
	// The opcode is not part of the match (MS-10 judges it), so a server
	// that relays text as binary still shows its echo.
	m, _, err := c.Await(wait(env), func(m rawclient.Message) bool {
		return string(m.Payload) == string(payload)
	})
	if err != nil {
		return m, fmt.Errorf("no echo of the %d-byte %s message: %w", len(payload), opName(op), err)
	}
	return m, nil
}

func opName(op ws.OpCode) string {
	switch op {
	case ws.OpText:
		return "text"
	case ws.OpBinary:
		return "binary"
	case ws.OpPing:
		return "ping"
	case ws.OpPong:
		return "pong"
	case ws.OpClose:
		return "close"
	case ws.OpContinuation:
		return "continuation"
	}
	return fmt.Sprintf("opcode %#x", byte(op))
}

// expectClose judges how the server ends a connection the case expects it
// to fail (RFC 6455 §7.1.7: the endpoint MUST _Fail the WebSocket
// Connection_): a close frame with one of want → OK; a close frame with no
// body → NON-STRICT (a close without a status code is allowed, §7.1.5; the
// Autobahn testsuite accepts it too); a close frame with another code →
// FAILED; TCP closed without a close frame → NON-STRICT (§7.1.7 says
// SHOULD send one); still open → FAILED.
func expectClose(c *rawclient.Conn, env *suite.Env, want ...uint16) suite.Result {
	wantS := "close " + codes(want) + " (RFC 6455 §7.1.7: MUST fail the connection)"
	code, reason, err := c.AwaitClose(wait(env))
	switch {
	case err == nil && contains(want, code):
		return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("close %d %q", code, reason)}
	case err == nil && c.EmptyClose:
		return suite.NonStrictf("close "+codes(want), "a close frame with no status code (allowed by §7.1.5; the code says why)")
	case err == nil:
		return suite.Failf(wantS, "close %d %q", code, reason)
	case errors.Is(err, rawclient.ErrNoClose):
		return suite.NonStrictf("close "+codes(want), "TCP closed without a close frame (%v)", err)
	case rawclient.IsTimeout(err):
		return suite.Failf(wantS, "connection still open after %v", wait(env))
	}
	return suite.Failf(wantS, "%v", err)
}

func codes(cs []uint16) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

func contains(cs []uint16, c uint16) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// worst returns the worst of several results (Failed > Skipped > NonStrict >
// Informational > OK), joining the details of those at that level.
func worst(rs ...suite.Result) suite.Result {
	rank := map[suite.Verdict]int{suite.OK: 0, suite.Informational: 1, suite.NonStrict: 2, suite.Skipped: 3, suite.Failed: 4}
	var w suite.Result
	var details, exp, obs []string
	for i, r := range rs {
		if i == 0 || rank[r.Verdict] > rank[w.Verdict] {
			w = r
			details, exp, obs = nil, nil, nil
		}
		if r.Verdict == w.Verdict {
			if r.Detail != "" {
				details = append(details, r.Detail)
			}
			if r.Expected != "" {
				exp = append(exp, r.Expected)
			}
			if r.Observed != "" {
				obs = append(obs, r.Observed)
			}
		}
	}
	w.Detail = strings.Join(details, "; ")
	w.Expected = strings.Join(uniq(exp), "; ")
	w.Observed = strings.Join(obs, "; ")
	return w
}

func uniq(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// labelled prefixes the detail/observed of r with label.
func labelled(label string, r suite.Result) suite.Result {
	if r.Detail != "" {
		r.Detail = label + ": " + r.Detail
	}
	if r.Observed != "" {
		r.Observed = label + ": " + r.Observed
	}
	return r
}

// violation opens a fresh connection, writes raw, and expects the server
// to close with one of want. The close is read while raw is still being
// written: a server may fail the connection part-way through a large frame.
func (k *kit) violation(ctx context.Context, env *suite.Env, id string, raw []byte, want ...uint16) suite.Result {
	c, _, err := k.openRoom(ctx, env, id)
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	var r suite.Result
	werr, _ := c.WriteWhile(raw, func() error {
		r = expectClose(c, env, want...)
		return nil
	})
	if werr != nil && r.Verdict != suite.OK {
		r.Observed += fmt.Sprintf(" (our write failed: %v)", werr)
	}
	return r
}

// echoWhile sends payload as one frame while reading, and waits for its
// echo: large messages need both directions to flow at once (a server may
// stream its echo back before it has read the whole message).
func echoWhile(c *rawclient.Conn, env *suite.Env, op ws.OpCode, payload []byte) (rawclient.Message, error) {
	var m rawclient.Message
	werr, rerr := c.WriteWhile(masked(true, op, payload).Append(nil), func() error {
		var err error
		m, err = awaitPayload(c, env, op, payload)
		return err
	})
	if rerr != nil {
		if werr != nil {
			return m, fmt.Errorf("%w (and our write: %v)", rerr, werr)
		}
		return m, rerr
	}
	return m, nil
}

func frames(fs ...rawclient.Frame) []byte {
	var b []byte
	for _, f := range fs {
		b = f.Append(b)
	}
	return b
}

func masked(fin bool, op ws.OpCode, p []byte) rawclient.Frame {
	return rawclient.Frame{Fin: fin, Op: op, Masked: true, Payload: p}
}
