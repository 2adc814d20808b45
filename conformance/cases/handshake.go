package cases

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

func (k *kit) handshake() []suite.Case {
	return []suite.Case{
		{ID: "HS-01", Group: "handshake", Ref: "RFC 6455 §4.2.2", Title: "valid upgrade gets 101 with the right Sec-WebSocket-Accept", Run: k.hsValid},
		{ID: "HS-02", Group: "handshake", Ref: "RFC 6455 §4.2.1", Title: "missing Sec-WebSocket-Key is refused with 400", Run: k.refusal(http.Header{"Sec-WebSocket-Key": {""}})},
		{ID: "HS-03", Group: "handshake", Ref: "RFC 6455 §4.2.1", Title: "invalid Sec-WebSocket-Key (not 16 bytes base64) is refused with 400", Run: k.refusal(http.Header{"Sec-WebSocket-Key": {"bm90LTE2LWJ5dGVz"}})},
		{ID: "HS-04", Group: "handshake", Ref: "RFC 6455 §4.2.2, §4.4", Title: "Sec-WebSocket-Version other than 13 gets 426 with Sec-WebSocket-Version: 13", Run: k.hsVersion},
		{ID: "HS-05", Group: "handshake", Ref: "RFC 6455 §4.2.1", Title: "non-GET upgrade (POST) is refused with 4xx", Run: k.refusalReq(rawclient.Request{Method: "POST"})},
		{ID: "HS-06", Group: "handshake", Ref: "RFC 6455 §4.2.1, RFC 9110 §15.6.6", Title: "HTTP/1.0 upgrade is refused with 4xx or 505", Run: k.hsHTTP10},
		{ID: "HS-07", Group: "handshake", Ref: "RFC 6455 §4.2.1", Title: "header tokens are case-insensitive (Upgrade: WebSocket, Connection: keep-alive, UPGRADE)", Run: k.hsCase},
		{ID: "HS-08", Group: "handshake", Ref: "RFC 6455 §4.2.2", Title: "only an offered subprotocol is selected, none when none offered", Run: k.hsSubprotocol},
		{ID: "HS-09", Group: "handshake", Ref: "RFC 6455 §9.1", Title: "no extension the client did not offer (unknown offer ignored)", Run: k.hsExtension},
		{ID: "HS-10", Group: "handshake", Ref: "RFC 6455 §4.2.2, §10.2", Title: "disallowed Origin is refused with 403", Run: k.hsOrigin},
		{ID: "HS-11", Group: "handshake", Ref: "RFC 6455 §10.4", Title: "a stalled partial request is closed within a bound", Run: k.hsStalled},
		{ID: "HS-12", Group: "handshake", Ref: "RFC 6455 §4.2.2", Title: "over capacity the server answers 503, not accept-then-drop", Run: k.hsCapacity, Serial: true},
	}
}

func (k *kit) hsValid(ctx context.Context, env *suite.Env) suite.Result {
	u := room(env, "HS-01")
	raw, key := rawclient.Request{}.Bytes(u)
	c, err := rawclient.Handshake(ctx, u, raw)
	if err != nil {
		return suite.Failf("101 Switching Protocols", "%v", err)
	}
	defer c.Close()
	r := c.Resp
	if r.StatusCode != 101 {
		return suite.Failf("101 Switching Protocols", "%s", r.Status)
	}
	if got, want := r.Header.Get("Sec-WebSocket-Accept"), rawclient.AcceptKey(key); got != want {
		return suite.Failf("Sec-WebSocket-Accept "+want, "%q", got)
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !hasToken(r.Header, "Connection", "upgrade") {
		return suite.Failf("Upgrade: websocket and Connection: Upgrade", "Upgrade %q, Connection %q", r.Header.Get("Upgrade"), r.Header.Get("Connection"))
	}
	return suite.Pass()
}

func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// status does one handshake with rq and returns the response status, or 0
// and an error.
func status(ctx context.Context, env *suite.Env, id string, rq rawclient.Request) (*http.Response, error) {
	u := room(env, id)
	raw, _ := rq.Bytes(u)
	c, err := rawclient.Handshake(ctx, u, raw)
	if err != nil {
		return nil, err
	}
	c.Close()
	return c.Resp, nil
}

func (k *kit) refusal(h http.Header) func(context.Context, *suite.Env) suite.Result {
	return k.refusalReqWant(rawclient.Request{Header: h}, 400)
}

func (k *kit) refusalReq(rq rawclient.Request) func(context.Context, *suite.Env) suite.Result {
	return k.refusalReqWant(rq, 0)
}

// refusalReqWant expects the handshake to be refused: with want exactly
// (OK), another 4xx (NON-STRICT when want is set), or any 4xx when want is
// 0. A 101 or a 5xx fails.
func (k *kit) refusalReqWant(rq rawclient.Request, want int) func(context.Context, *suite.Env) suite.Result {
	return func(ctx context.Context, env *suite.Env) suite.Result {
		exp := "4xx"
		if want != 0 {
			exp = fmt.Sprint(want)
		}
		r, err := status(ctx, env, "hs", rq)
		if err != nil {
			return suite.NonStrictf(exp, "no HTTP response (%v)", err)
		}
		switch {
		case want != 0 && r.StatusCode == want, want == 0 && r.StatusCode/100 == 4:
			return suite.Result{Verdict: suite.OK, Detail: r.Status}
		case r.StatusCode/100 == 4:
			return suite.NonStrictf(exp, "%s", r.Status)
		}
		return suite.Failf(exp, "%s", r.Status)
	}
}

// hsHTTP10: RFC 6455 §4.1 says the request MUST be HTTP/1.1 or higher, so a
// server upgrading an HTTP/1.0 request accepts what no client may send.
// Either a 4xx or 505 HTTP Version Not Supported (RFC 9110 §15.6.6) is a
// correct refusal.
func (k *kit) hsHTTP10(ctx context.Context, env *suite.Env) suite.Result {
	const exp = "4xx or 505 (RFC 6455 §4.1: the request MUST be HTTP/1.1 or higher)"
	r, err := status(ctx, env, "HS-06", rawclient.Request{Proto: "HTTP/1.0"})
	switch {
	case err != nil:
		return suite.NonStrictf(exp, "no HTTP response (%v)", err)
	case r.StatusCode/100 == 4 || r.StatusCode == http.StatusHTTPVersionNotSupported:
		return suite.Result{Verdict: suite.OK, Detail: r.Status}
	}
	return suite.Failf(exp, "%s", r.Status)
}

func (k *kit) hsVersion(ctx context.Context, env *suite.Env) suite.Result {
	r, err := status(ctx, env, "HS-04", rawclient.Request{Header: http.Header{"Sec-WebSocket-Version": {"99"}}})
	if err != nil {
		return suite.Failf("426 with Sec-WebSocket-Version: 13", "%v", err)
	}
	v := r.Header.Get("Sec-WebSocket-Version")
	switch {
	case r.StatusCode == 426 && strings.Contains(v, "13"):
		return suite.Pass()
	case r.StatusCode/100 == 4 && strings.Contains(v, "13"):
		return suite.NonStrictf("426 with Sec-WebSocket-Version: 13", "%s with Sec-WebSocket-Version %q", r.Status, v)
	}
	return suite.Failf("426 (or another 4xx) with Sec-WebSocket-Version: 13 (RFC 6455 §4.4: the server MUST send a Sec-WebSocket-Version header listing the versions it understands)", "%s with Sec-WebSocket-Version %q", r.Status, v)
}

func (k *kit) hsCase(ctx context.Context, env *suite.Env) suite.Result {
	u := room(env, "HS-07")
	c, err := rawclient.Open(ctx, u, rawclient.Request{Header: http.Header{
		"Upgrade": {"WebSocket"}, "Connection": {"keep-alive, UPGRADE"},
	}}, k.rec, "HS-07")
	if err != nil {
		return suite.Failf("101 for mixed-case tokens", "%v", err)
	}
	defer c.Close()
	if _, err := echo(c, env, 1, []byte("case")); err != nil {
		return suite.Failf("a working connection", "%v", err)
	}
	return suite.Pass()
}

func (k *kit) hsSubprotocol(ctx context.Context, env *suite.Env) suite.Result {
	offered := []string{"wsbench.v1", "chat"}
	r, err := status(ctx, env, "HS-08", rawclient.Request{Header: http.Header{"Sec-WebSocket-Protocol": {strings.Join(offered, ", ")}}})
	if err != nil || r.StatusCode != 101 {
		return suite.Failf("101", "%v %v", statusOf(r), err)
	}
	got := r.Header.Get("Sec-WebSocket-Protocol")
	if got != "" && got != offered[0] && got != offered[1] {
		return suite.Failf("one of "+strings.Join(offered, ", ")+" or none", "%q", got)
	}
	r2, err := status(ctx, env, "HS-08", rawclient.Request{})
	if err != nil || r2.StatusCode != 101 {
		return suite.Failf("101", "%v %v", statusOf(r2), err)
	}
	if p := r2.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		return suite.Failf("no Sec-WebSocket-Protocol when none was offered", "%q", p)
	}
	if got == "" {
		return suite.Info("no subprotocol selected from an offer of %v", offered)
	}
	return suite.Result{Verdict: suite.OK, Detail: "selected " + got}
}

func statusOf(r *http.Response) string {
	if r == nil {
		return "no response"
	}
	return r.Status
}

func (k *kit) hsExtension(ctx context.Context, env *suite.Env) suite.Result {
	r, err := status(ctx, env, "HS-09", rawclient.Request{})
	if err != nil || r.StatusCode != 101 {
		return suite.Failf("101", "%v %v", statusOf(r), err)
	}
	if e := r.Header.Get("Sec-WebSocket-Extensions"); e != "" {
		return suite.Failf("no Sec-WebSocket-Extensions without an offer", "%q", e)
	}
	r, err = status(ctx, env, "HS-09", rawclient.Request{Header: http.Header{"Sec-WebSocket-Extensions": {"x-wsbench-unknown; level=3"}}})
	if err != nil || r.StatusCode != 101 {
		return suite.Failf("101 ignoring the unknown extension", "%v %v", statusOf(r), err)
	}
	if e := r.Header.Get("Sec-WebSocket-Extensions"); e != "" {
		return suite.Failf("no extension accepted for an unknown offer", "%q", e)
	}
	return suite.Pass()
}

func (k *kit) hsOrigin(ctx context.Context, env *suite.Env) suite.Result {
	if env.Origin == "" {
		return suite.Skip("no --forbidden-origin given")
	}
	r, err := status(ctx, env, "HS-10", rawclient.Request{Header: http.Header{"Origin": {env.Origin}}})
	switch {
	case err != nil:
		return suite.Failf("403", "%v", err)
	case r.StatusCode == 403:
		return suite.Pass()
	case r.StatusCode/100 == 4:
		return suite.NonStrictf("403", "%s", r.Status)
	}
	return suite.Failf("403 for Origin "+env.Origin, "%s", r.Status)
}

func (k *kit) hsStalled(ctx context.Context, env *suite.Env) suite.Result {
	bound := env.CaseTimeout - 2*time.Second
	if bound > 10*time.Second || bound <= 0 {
		bound = 10 * time.Second
	}
	u := room(env, "HS-11")
	nc, err := rawclient.DialTCP(ctx, u)
	if err != nil {
		return suite.Failf("a TCP connection", "%v", err)
	}
	defer nc.Close()
	c := &rawclient.Conn{NC: nc}
	if err := c.WriteRaw([]byte("GET " + u.Path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\n")); err != nil {
		return suite.Failf("the partial request written", "%v", err)
	}
	start := time.Now()
	_ = nc.SetReadDeadline(start.Add(bound))
	buf := make([]byte, 4096)
	for {
		_, err := nc.Read(buf)
		if err == nil {
			continue // e.g. a 408 response before closing
		}
		if rawclient.IsTimeout(err) {
			return suite.NonStrictf(fmt.Sprintf("closed within %v", bound), "still open after %v (slow-loris exposure; RFC 6455 §10.4 leaves the limit to the server)", bound)
		}
		return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("closed after %v", time.Since(start).Round(10*time.Millisecond))}
	}
}

// closeAndWait ends every connection with a close handshake and waits (up
// to limit, all at once) until the server has closed TCP: a server frees a
// connection's slot when it ends it, so the cases that run after HS-12 do
// not meet the capacity HS-12 filled. Plain TCP closes would leave that to
// when the server gets round to reading the FINs.
func closeAndWait(conns []*rawclient.Conn, limit time.Duration) {
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			defer c.Close()
			if c.Resp == nil || c.Resp.StatusCode != 101 {
				return
			}
			if c.SendClose(1000, "") == nil {
				c.AwaitEOF(limit)
			}
		})
	}
	wg.Wait()
}

// hsCapacity fills the server to env.MaxConns and expects the next upgrade
// to be refused with 503 rather than accepted and dropped.
func (k *kit) hsCapacity(ctx context.Context, env *suite.Env) suite.Result {
	if env.MaxConns == 0 {
		return suite.Skip("no --max-conns given (the server's connection limit)")
	}
	u := room(env, "HS-12")
	var conns []*rawclient.Conn
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		closeAndWait(conns, 2*time.Second)
		mu.Unlock()
	}()
	for i := 0; i <= env.MaxConns; i++ {
		raw, _ := rawclient.Request{}.Bytes(u)
		c, err := rawclient.Handshake(ctx, u, raw)
		if err != nil {
			return suite.Failf("503 at connection "+fmt.Sprint(env.MaxConns+1), "connection %d: %v", i+1, err)
		}
		conns = append(conns, c)
		if s := c.Resp.StatusCode; s != 101 {
			if s == 503 {
				ra := c.Resp.Header.Get("Retry-After")
				if i < env.MaxConns {
					return suite.Info("503 already at connection %d of %d (other clients hold slots); Retry-After %q", i+1, env.MaxConns, ra)
				}
				if ra == "" {
					return suite.NonStrictf("503 with Retry-After", "503 without Retry-After")
				}
				return suite.Result{Verdict: suite.OK, Detail: "503, Retry-After " + ra}
			}
			return suite.Failf("503 at connection "+fmt.Sprint(env.MaxConns+1), "%s at connection %d", c.Resp.Status, i+1)
		}
	}
	// Every upgrade was accepted: was the last one dropped right away?
	last := conns[len(conns)-1]
	if _, err := last.Next(time.Second); err != nil && !rawclient.IsTimeout(err) {
		return suite.Failf("503 before the upgrade", "accepted connection %d, then dropped it (%v)", env.MaxConns+1, err)
	}
	return suite.Failf("503 at connection "+fmt.Sprint(env.MaxConns+1), "accepted %d connections with --max-conns %d", env.MaxConns+1, env.MaxConns)
}
