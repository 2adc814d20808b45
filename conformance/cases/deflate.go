package cases

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// permessage-deflate (RFC 7692): negotiation cases (what a server may
// answer to an offer, and which offers it must decline) and compressed
// message cases in the manner of Autobahn 12.x/13.x. They run with
// --deflate; a server that declines the extension is allowed to (the
// negotiation case records it), and the message cases are then SKIPPED.

// offerDefault is the offer the message cases make: the extension with
// client_max_window_bits (so the server may pick our window too).
const offerDefault = "permessage-deflate; client_max_window_bits"

// openDeflate opens a connection offering offer. It returns the connection
// and the agreed state, or a result to report instead: SKIPPED when the
// server declines, FAILED when it answers what RFC 7692 forbids.
func (k *kit) openDeflate(ctx context.Context, env *suite.Env, id, offer string, offeredBits bool) (*rawclient.Conn, *rawclient.Deflate, *suite.Result) {
	c, err := rawclient.Open(ctx, room(env, id), rawclient.Request{Header: http.Header{"Sec-WebSocket-Extensions": {offer}}}, k.rec, id)
	if err != nil {
		r := suite.Failf("a valid handshake", "%v", err)
		return nil, nil, &r
	}
	d, err := rawclient.NewDeflate(c.Resp.Header, offeredBits)
	switch {
	case errors.Is(err, rawclient.ErrNotNegotiated):
		c.Close()
		r := suite.Skip("the server declined permessage-deflate (RFC 7692 allows it; DF-01 records it)")
		return nil, nil, &r
	case err != nil:
		c.Close()
		r := suite.Failf("a permessage-deflate response RFC 7692 allows", "%v", err)
		return nil, nil, &r
	}
	return c, d, nil
}

func (k *kit) deflate() []suite.Case {
	neg := []struct {
		id, title, offer string
		offeredBits      bool
		check            func(*rawclient.Deflate, http.Header) suite.Result
		// refusable: the offer holds one the server must decline, so
		// refusing the whole handshake (4xx) is allowed, if not ideal.
		refusable bool
	}{
		{"DF-01", "an offer of permessage-deflate is accepted with valid parameters, or declined", "permessage-deflate", false, nil, false},
		{"DF-02", "client_max_window_bits offered: any answer is valid (8-15 when given)", "permessage-deflate; client_max_window_bits", true, nil, false},
		{"DF-03", "server_no_context_takeover offered: accepted only with it in the response", "permessage-deflate; server_no_context_takeover", false, func(d *rawclient.Deflate, _ http.Header) suite.Result {
			if !d.ServerNoContext {
				return suite.Fail("server_no_context_takeover in the response (RFC 7692 §7.1.1.1)", "accepted without it")
			}
			return suite.Pass()
		}, false},
		{"DF-04", "server_max_window_bits=10 offered: accepted only with a value of at most 10", "permessage-deflate; server_max_window_bits=10", false, func(_ *rawclient.Deflate, h http.Header) suite.Result {
			for _, e := range rawclient.ParseExtensions(h) {
				if n, err := strconv.Atoi(e.Params["server_max_window_bits"]); e.Name == "permessage-deflate" && (err != nil || n > 10) {
					return suite.Failf("server_max_window_bits ≤ 10 in the response (RFC 7692 §7.1.2.1)", "%q", h.Get("Sec-WebSocket-Extensions"))
				}
			}
			return suite.Pass()
		}, false},
		{"DF-05", "a second offer is the fallback: the first is unknown-parameter, the second plain", "permessage-deflate; x-unknown=1, permessage-deflate", false, nil, true},
	}
	var cs []suite.Case
	for _, n := range neg {
		cs = append(cs, suite.Case{ID: n.id, Group: "deflate", Ref: "RFC 7692 §5, §7", Title: n.title, Run: func(ctx context.Context, env *suite.Env) suite.Result {
			if !env.Deflate {
				return suite.Skip("permessage-deflate cases run only with --deflate")
			}
			c, d, res := k.openDeflate(ctx, env, n.id, n.offer, n.offeredBits)
			if res != nil && n.refusable && res.Verdict == suite.Failed && strings.Contains(res.Observed, "status 4") {
				return suite.NonStrictf("the fallback offer accepted (RFC 7692 §5: offers are tried in order)", "the handshake refused: %s", res.Observed)
			}
			if res != nil {
				switch {
				case res.Verdict == suite.Skipped && n.id == "DF-01":
					return suite.Info("the server declines permessage-deflate")
				case res.Verdict == suite.Skipped:
					// Declining one offer is always allowed; it says
					// something only when a plain offer is accepted.
					if c2, _, r2 := k.openDeflate(ctx, env, n.id, "permessage-deflate", false); r2 == nil {
						c2.Close()
						return suite.Result{Verdict: suite.OK, Detail: "this offer declined (RFC 7692 allows it); a plain offer is accepted"}
					}
				}
				return *res
			}
			defer c.Close()
			r := suite.Pass()
			if n.check != nil {
				r = n.check(d, c.Resp.Header)
			}
			if r.Verdict == suite.OK {
				r.Detail = c.Resp.Header.Get("Sec-WebSocket-Extensions")
			}
			return r
		}})
	}
	for i, bad := range []struct{ what, offer string }{
		{"an invalid server_max_window_bits (7)", "permessage-deflate; server_max_window_bits=7"},
		{"an unknown parameter", "permessage-deflate; x-unknown=1"},
		{"a parameter given twice", "permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
	} {
		id := fmt.Sprintf("DF-%02d", 6+i)
		cs = append(cs, suite.Case{ID: id, Group: "deflate", Ref: "RFC 7692 §7", Title: "an offer with " + bad.what + " is declined", Run: func(ctx context.Context, env *suite.Env) suite.Result {
			if !env.Deflate {
				return suite.Skip("permessage-deflate cases run only with --deflate")
			}
			r, err := status(ctx, env, id, rawclient.Request{Header: http.Header{"Sec-WebSocket-Extensions": {bad.offer}}})
			switch {
			case err != nil:
				return suite.Failf("101 without the extension, or a 4xx", "%v", err)
			case r.StatusCode/100 == 4:
				return suite.Result{Verdict: suite.OK, Detail: "refused: " + r.Status}
			case r.StatusCode != 101:
				return suite.Failf("101 without the extension, or a 4xx", "%s", r.Status)
			}
			for _, e := range rawclient.ParseExtensions(r.Header) {
				if e.Name == "permessage-deflate" {
					return suite.Failf("the offer declined (RFC 7692 §7: the server MUST decline it)", "accepted: %q", r.Header.Get("Sec-WebSocket-Extensions"))
				}
			}
			return suite.Result{Verdict: suite.OK, Detail: "declined"}
		}})
	}
	cs = append(cs, k.scripts(deflateScripts())...)
	return append(cs, suite.Case{ID: "DF-35", Group: "deflate", Ref: "RFC 7692 §8.1, RFC 6455 §10.4",
		Title: "a compressed message inflating past --max-message gets 1009 (compression bomb)", Run: k.bomb})
}

// compressed is one compressed data frame (RSV1 set on the first frame).
func compressed(fin bool, op ws.OpCode, p []byte) rawclient.Frame {
	return rawclient.Frame{Fin: fin, Rsv: 4, Op: op, Masked: true, Payload: p}
}

// deflateScripts are the compressed-message cases (Autobahn 12.x: echo of
// compressed messages at growing sizes; 13.x's offers are DF-01…DF-05).
func deflateScripts() []script {
	var ss []script
	add := func(s script) {
		s.id, s.group, s.deflate = fmt.Sprintf("DF-%02d", 9+len(ss)), "deflate", true
		if s.ref == "" {
			s.ref = "RFC 7692 §6, §7.2"
		}
		ss = append(ss, s)
	}
	for gi, op := range []ws.OpCode{ws.OpText, ws.OpBinary} {
		for i, n := range []int{16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072} {
			add(script{autobahn: fmt.Sprintf("12.%d.%d", gi+1, i+1), title: fmt.Sprintf("10 compressed %s messages of %s are echoed", opName(op), sizeName(n)), msgSize: int64(n),
				dbuild: func(s *script, d *rawclient.Deflate) {
					for j := range 10 {
						p := payload(n, op == ws.OpText)
						copy(p, fmt.Sprintf("%02d", j))
						s.frames = append(s.frames, compressed(true, op, d.Compress(p)))
						s.want = append(s.want, msg(op, p))
					}
				}})
		}
	}
	hello := []byte("Hello, compressed world! Hello, compressed world!")
	add(script{title: "a compressed message in 3 fragments (RSV1 on the first only) is echoed", ref: "RFC 7692 §6.1",
		dbuild: func(s *script, d *rawclient.Deflate) {
			c := d.Compress(hello)
			a, b := len(c)/3, 2*len(c)/3
			s.frames = []rawclient.Frame{compressed(false, ws.OpText, c[:a]), fr(false, ws.OpContinuation, c[a:b]), fr(true, ws.OpContinuation, c[b:])}
			s.want = []event{msg(ws.OpText, hello)}
		}})
	add(script{title: "an uncompressed message on a deflate connection is echoed", ref: "RFC 7692 §6",
		dbuild: func(s *script, d *rawclient.Deflate) {
			s.frames, s.want = []rawclient.Frame{txt(string(hello))}, []event{msg(ws.OpText, hello)}
		}})
	add(script{title: "RSV1 on a continuation frame gets 1002", ref: "RFC 7692 §6.1, RFC 6455 §5.2", fail: []uint16{1002},
		dbuild: func(s *script, d *rawclient.Deflate) {
			c := d.Compress(hello)
			s.frames = []rawclient.Frame{compressed(false, ws.OpText, c[:4]), compressed(true, ws.OpContinuation, c[4:])}
		}})
	add(script{title: "RSV1 on a ping gets 1002", ref: "RFC 7692 §6.1, RFC 6455 §5.2", fail: []uint16{1002},
		dbuild: func(s *script, d *rawclient.Deflate) {
			s.frames = []rawclient.Frame{{Fin: true, Rsv: 4, Op: ws.OpPing, Masked: true, Payload: []byte("ping")}}
		}})
	add(script{title: "compressed data that does not inflate gets 1002 or 1007", ref: "RFC 7692 §6.2", fail: []uint16{1002, 1007},
		dbuild: func(s *script, d *rawclient.Deflate) {
			s.frames = []rawclient.Frame{compressed(true, ws.OpText, []byte{0xff, 0xff, 0xff, 0xff, 0x00})}
		}})
	add(script{title: "compressed text that inflates to invalid UTF-8 gets 1007", ref: "RFC 7692 §6.2, RFC 6455 §8.1", fail: []uint16{1007},
		dbuild: func(s *script, d *rawclient.Deflate) {
			s.frames = []rawclient.Frame{compressed(true, ws.OpText, d.Compress([]byte(kosme+"\xed\xa0\x80edited")))}
		}})
	return ss
}

// bomb is DF-35: a small compressed message that inflates past
// --max-message must be refused with 1009, not inflated without bound.
func (k *kit) bomb(ctx context.Context, env *suite.Env) suite.Result {
	switch {
	case !env.Deflate:
		return suite.Skip("permessage-deflate cases run only with --deflate")
	case env.MaxMessage <= 0:
		return suite.Skip("no --max-message given")
	}
	c, d, res := k.openDeflate(ctx, env, "DF-35", offerDefault, true)
	if res != nil {
		return *res
	}
	defer c.Close()
	p := d.Compress(make([]byte, env.MaxMessage+1))
	if err := c.Write(compressed(true, ws.OpBinary, p)); err != nil {
		return suite.NonStrictf("close 1009", "write failed, server dropped early: %v", err)
	}
	res2 := expectClose(c, env, 1009)
	if res2.Verdict == suite.OK {
		res2.Detail = fmt.Sprintf("%d compressed bytes inflating to %d: %s", len(p), env.MaxMessage+1, res2.Detail)
	}
	return res2
}
