package browser

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsbench/wsbench/conformance/suite"
)

// References into the WHATWG WebSockets Standard
// (https://websockets.spec.whatwg.org/).
const (
	refIface    = "WHATWG WebSockets §3.1"
	refFeedback = "WHATWG WebSockets §3.2 (feedback from the protocol)"
	refPing     = "WHATWG WebSockets §3.3 (ping and pong frames)"
)

// wait is how long a case waits for one thing the browser must do.
const wait = 10 * time.Second

// Cases returns the real-browser cases: BR-xx drive the WebSocket API of a
// headless Chromium against the lane's scripted peer (the browser is the
// subject) or against env.URL (the server is); BR-CP-xx drive the wsbench
// chat page against an in-process reference server. All cases share one
// browser, started on first use; call Close when the run ends.
func Cases() []suite.Case {
	cs := []suite.Case{
		probeCase("BR-01", "readyState is CONNECTING (0) after the constructor and OPEN (1) at the open event", refIface+" (readyState; new WebSocket())", caseReadyState),
		probeCase("BR-02", "send() while CONNECTING throws InvalidStateError", refIface+" (send() step 1)", caseSendConnecting),
		probeCase("BR-03", "close() while CONNECTING: readyState CLOSING, then error and close 1006 wasClean=false", refIface+" (close() steps: fail the WebSocket connection)", caseCloseConnecting),
		probeCase("BR-04", "close() without arguments sends an empty close frame; the event has 1005, wasClean=true", refIface+" (close()); "+refFeedback, caseCloseEmpty),
		probeCase("BR-05", `close(1000, "bye") sends code 1000 and reason "bye" to the server`, refIface+" (close())", caseCloseBye),
		probeCase("BR-06", "close() accepts 4999, throws InvalidAccessError for 1001/2999/5000 and SyntaxError for a reason over 123 UTF-8 bytes", refIface+" (close() steps 1–2)", caseCloseArgs),
		probeCase("BR-07", "repeated close() is a no-op: one close frame, exactly one close event", refIface+" (close(): readyState CLOSING or CLOSED does nothing)", caseCloseTwice),
		probeCase("BR-08", `server close 4001 "kicked": readyState CLOSING then CLOSED, event 4001 "kicked" wasClean=true`, refFeedback+" (closing handshake started; connection closed)", caseKicked),
		probeCase("BR-09", "server drops TCP: close 1006 wasClean=false (whether error fired is recorded)", refFeedback+" (connection closed, not clean)", caseDrop),
		probeCase("BR-10", "send() after close() does not throw and grows bufferedAmount", refIface+" (send(): CLOSING or CLOSED increases bufferedAmount)", caseSendAfterClose),
		probeCase("BR-11", `binaryType "arraybuffer" delivers binary messages as ArrayBuffer (default "blob")`, refIface+" (binaryType); "+refFeedback+" (message received)", caseArrayBuffer),
		probeCase("BR-12", "a Unicode text message round-trips through the server under test unchanged", refFeedback+" (message received: text as UTF-8 decoded)", caseUnicode),
		probeCase("BR-13", "a server message of just over 1 MiB arrives whole", refFeedback+" (message received)", caseBig),
		probeCase("BR-14", "navigating away closes the socket with 1001 going away", "WHATWG WebSockets (make disappear: document unloaded → close 1001)", caseNavigate),
		idleCase(),
	}
	return append(cs, chatCases()...)
}

func caseReadyState(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("echo"))); err != nil {
		return suite.Fail("the probe opens a socket", err.Error())
	}
	evs, err := t.waitFor(wait, "open event", has("open"))
	if err != nil {
		return suite.Fail("an open event", err.Error()+" "+summary(evs))
	}
	ctor, open := of(evs, "ctor")[0], of(evs, "open")[0]
	if ctor.RS != 0 || open.RS != 1 {
		return suite.Failf("readyState 0 after new WebSocket(), 1 at open", "%d after the constructor, %d at open", ctor.RS, open.RS)
	}
	return suite.Pass()
}

func caseSendConnecting(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("slow")), js("call", "send", "early")); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, _ := t.events()
	th := of(evs, "throw")
	if len(th) != 1 || th[0].Ex != "InvalidStateError" || th[0].Before != 0 {
		return suite.Fail("send() while CONNECTING throws InvalidStateError", summary(evs))
	}
	return suite.Pass()
}

func caseCloseConnecting(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("slow")), js("call", "close")); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(wait, "close event", has("close"))
	if err != nil {
		return suite.Fail("a close event", err.Error()+" "+summary(evs))
	}
	calls := of(evs, "call")
	cl := of(evs, "close")[0]
	switch {
	case len(calls) != 1 || calls[0].Before != 0 || calls[0].RS != 2:
		return suite.Fail("close() moves CONNECTING (0) to CLOSING (2)", summary(evs))
	case len(of(evs, "error")) != 1:
		return suite.Fail("an error event before close (fail the WebSocket connection)", summary(evs))
	case cl.Code != 1006 || cl.WasClean:
		return suite.Fail("close event 1006, wasClean=false", summary(evs))
	}
	return suite.Pass()
}

// closeAndWait opens script, waits for open, runs the calls, and waits for
// the close event and for the peer to have seen the close frame.
func closeAndWait(t *tab, script string, calls ...string) ([]event, peerRecord, error) {
	if err := t.do(js("open", t.peerURL(script))); err != nil {
		return nil, peerRecord{}, err
	}
	if evs, err := t.waitFor(wait, "open event", has("open")); err != nil {
		return evs, peerRecord{}, err
	}
	if err := t.do(calls...); err != nil {
		return nil, peerRecord{}, err
	}
	evs, err := t.waitFor(wait, "close event", has("close"))
	if err != nil {
		return evs, peerRecord{}, err
	}
	deadline := time.Now().Add(wait)
	for !t.l.peer.record(t.id).CloseSeen && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return evs, t.l.peer.record(t.id), nil
}

func caseCloseEmpty(t *tab, env *suite.Env) suite.Result {
	evs, rec, err := closeAndWait(t, "echo", js("call", "close"))
	if err != nil {
		return suite.Fail("open, close() and a close event", err.Error()+" "+summary(evs))
	}
	cl := of(evs, "close")[0]
	if !rec.CloseSeen || rec.CloseLen != 0 {
		return suite.Failf("the server receives a close frame with an empty payload", "close seen=%t, payload %d bytes (code %d)", rec.CloseSeen, rec.CloseLen, rec.CloseCode)
	}
	if cl.Code != 1005 || !cl.WasClean {
		return suite.Fail("close event 1005 (no status received), wasClean=true", cl.String())
	}
	return suite.Pass()
}

func caseCloseBye(t *tab, env *suite.Env) suite.Result {
	evs, rec, err := closeAndWait(t, "echo", js("call", "close", 1000, "bye"))
	if err != nil {
		return suite.Fail("open, close(1000, \"bye\") and a close event", err.Error()+" "+summary(evs))
	}
	if rec.CloseCode != 1000 || rec.CloseText != "bye" {
		return suite.Failf(`the server receives close 1000 "bye"`, "code %d reason %q (seen=%t)", rec.CloseCode, rec.CloseText, rec.CloseSeen)
	}
	if cl := of(evs, "close")[0]; cl.Code != 1000 || !cl.WasClean {
		return suite.Fail("close event 1000, wasClean=true", cl.String())
	}
	return suite.Pass()
}

func caseCloseArgs(t *tab, env *suite.Env) suite.Result {
	long := strings.Repeat("x", 124)
	longUTF8 := strings.Repeat("é", 62) // 62 characters, 124 bytes
	okReason := strings.Repeat("é", 61) // 122 bytes
	evs, rec, err := closeAndWait(t, "echo",
		js("call", "close", 1001), js("call", "close", 2999), js("call", "close", 5000),
		js("call", "close", 1000, long), js("call", "close", 1000, longUTF8),
		js("call", "close", 4999, okReason))
	if err != nil {
		return suite.Fail("open, the close() calls and a close event", err.Error()+" "+summary(evs))
	}
	want := []string{"InvalidAccessError", "InvalidAccessError", "InvalidAccessError", "SyntaxError", "SyntaxError"}
	th := of(evs, "throw")
	var got []string
	for _, e := range th {
		got = append(got, e.Ex)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return suite.Failf("close(1001), close(2999), close(5000) throw InvalidAccessError; a 124-byte reason (ASCII or 62×é) throws SyntaxError", "threw %v; log %s", got, summary(evs))
	}
	for _, e := range th {
		if e.RS != 1 {
			return suite.Fail("a throwing close() leaves readyState OPEN", e.String())
		}
	}
	if rec.CloseCode != 4999 || rec.CloseText != okReason {
		return suite.Failf("the server receives close 4999 with the 122-byte reason", "code %d reason %q", rec.CloseCode, rec.CloseText)
	}
	return suite.Pass()
}

func caseCloseTwice(t *tab, env *suite.Env) suite.Result {
	evs, _, err := closeAndWait(t, "echo", js("call", "close"), js("call", "close"), js("call", "close", 4000, "again"))
	if err != nil {
		return suite.Fail("open, close() ×3 and a close event", err.Error()+" "+summary(evs))
	}
	time.Sleep(300 * time.Millisecond)
	evs, _ = t.events()
	rec := t.l.peer.record(t.id)
	switch {
	case len(of(evs, "throw")) != 0:
		return suite.Fail("repeated close() does not throw", summary(evs))
	case len(of(evs, "close")) != 1:
		return suite.Fail("exactly one close event", summary(evs))
	case rec.CloseCount != 1 || rec.CloseLen != 0:
		return suite.Failf("the server receives one close frame, the first (empty) one", "%d close frames, last %d bytes code %d", rec.CloseCount, rec.CloseLen, rec.CloseCode)
	}
	return suite.Pass()
}

func caseKicked(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("kick"))); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(wait, "close event", has("close"))
	if err != nil {
		return suite.Fail("a close event after the server's close frame", err.Error()+" "+summary(evs))
	}
	sawClosing := false
	for _, e := range evs {
		if e.Type == "state" && e.RS == 2 {
			sawClosing = true
		}
		if e.Type == "close" {
			break
		}
	}
	cl := of(evs, "close")[0]
	if cl.Code != 4001 || cl.Reason != "kicked" || !cl.WasClean || cl.RS != 3 {
		return suite.Fail(`close event code 4001 reason "kicked" wasClean=true with readyState 3`, summary(evs))
	}
	if !sawClosing {
		return suite.NonStrictf("readyState CLOSING (2) observable while the closing handshake runs (the peer holds TCP 200 ms)", "the 5 ms sampler never saw 2: %s", summary(evs))
	}
	rec := t.l.peer.record(t.id)
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("browser answered with close code %d", rec.CloseCode)}
}

func caseDrop(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("drop"))); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(wait, "close event", has("close"))
	if err != nil {
		return suite.Fail("a close event after the TCP drop", err.Error()+" "+summary(evs))
	}
	cl := of(evs, "close")[0]
	if cl.Code != 1006 || cl.WasClean {
		return suite.Fail("close 1006, wasClean=false", cl.String())
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("INFORMATIONAL: error event fired before close: %t", len(of(evs, "error")) > 0)}
}

func caseSendAfterClose(t *tab, env *suite.Env) suite.Result {
	evs, _, err := closeAndWait(t, "echo", js("call", "close"), js("call", "send", "abcd"))
	if err != nil {
		return suite.Fail("open, close(), send() and a close event", err.Error()+" "+summary(evs))
	}
	if err := t.do(js("call", "send", "efgh")); err != nil { // now CLOSED
		return suite.Fail("the probe runs", err.Error())
	}
	evs, _ = t.events()
	calls := of(evs, "call")
	if len(of(evs, "throw")) != 0 || len(calls) != 3 {
		return suite.Fail("send() while CLOSING or CLOSED does not throw", summary(evs))
	}
	closing, closed := calls[1], calls[2]
	if closing.Before != 2 || closed.Before != 3 {
		return suite.Fail("the sends ran in CLOSING and CLOSED", summary(evs))
	}
	if closing.Buffered <= closing.Buffered0 || closed.Buffered <= closed.Buffered0 {
		return suite.Fail("bufferedAmount grows by the message size", summary(evs))
	}
	if closing.Buffered-closing.Buffered0 != 4 || closed.Buffered-closed.Buffered0 != 4 {
		return suite.NonStrictf("bufferedAmount grows by exactly 4 bytes per send", "%s", summary(evs))
	}
	return suite.Pass()
}

func caseArrayBuffer(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("bin"), "arraybuffer")); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(wait, "message", has("message"))
	if err != nil {
		return suite.Fail("a binary message", err.Error()+" "+summary(evs))
	}
	if c := of(evs, "ctor")[0]; c.BinaryType != "blob" {
		return suite.Fail(`binaryType is "blob" after the constructor`, c.BinaryType)
	}
	var want strings.Builder
	for i := range 64 {
		fmt.Fprintf(&want, "%02x", i)
	}
	m := of(evs, "message")[0]
	if m.Kind != "arraybuffer" || m.Len != 256 || m.Data != want.String() {
		return suite.Failf("an ArrayBuffer of 256 bytes 00 01 … ff", "%s first bytes %s", m, m.Data)
	}
	return suite.Pass()
}

// unicodeText mixes 1-, 2-, 3- and 4-byte UTF-8 sequences and a NUL.
const unicodeText = "héllo wörld ✓ 日本語 😀🇪🇺 \u0000 end"

func caseUnicode(t *tab, env *suite.Env) suite.Result {
	if env.URL == nil {
		return suite.Skip("no server URL")
	}
	u := *env.URL
	u.Path = "/wsbench-br12-" + t.id // a room of its own
	u.RawQuery = ""
	if err := t.do(js("open", u.String())); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	if evs, err := t.waitFor(wait, "open event", has("open")); err != nil {
		return suite.Fail("an open connection to "+u.String(), err.Error()+" "+summary(evs))
	}
	if err := t.do(js("call", "send", unicodeText)); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(wait, "echo", func(evs []event) bool {
		for _, m := range of(evs, "message") {
			if m.Data == unicodeText {
				return true
			}
		}
		return false
	})
	if err != nil {
		return suite.Failf("the server relays the text back to the sender unchanged: "+fmt.Sprintf("%q", unicodeText), "%v: %s", err, summary(evs))
	}
	return suite.Pass()
}

func caseBig(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("big"))); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(2*wait, "message", has("message"))
	if err != nil {
		return suite.Fail("a message of 1 MiB + 7 bytes", err.Error()+" "+summary(evs))
	}
	m := of(evs, "message")[0]
	if m.Kind != "text" || m.Len != bigSize || m.Sum != bigChecksum() {
		return suite.Failf(fmt.Sprintf("a text message of %d characters, checksum %d", bigSize, bigChecksum()), "%s checksum %d", m, m.Sum)
	}
	return suite.Pass()
}

func caseNavigate(t *tab, env *suite.Env) suite.Result {
	if err := t.do(js("open", t.peerURL("echo"))); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	if evs, err := t.waitFor(wait, "open event", has("open")); err != nil {
		return suite.Fail("an open event", err.Error()+" "+summary(evs))
	}
	t.gone = true
	if err := t.run(wait, chromedp.Navigate("about:blank")); err != nil {
		return suite.Fail("navigation to about:blank", err.Error())
	}
	deadline := time.Now().Add(wait)
	for !t.l.peer.record(t.id).CloseSeen && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	rec := t.l.peer.record(t.id)
	if !rec.CloseSeen {
		return suite.Failf("the server receives close 1001 when the page goes away", "no close frame (TCP closed: %t)", rec.EOF)
	}
	if rec.CloseCode != 1001 {
		return suite.Failf("close code 1001 going away", "code %d reason %q", rec.CloseCode, rec.CloseText)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("reason %q", rec.CloseText)}
}

// idleCase is BR-15: an open tab that sends nothing outlives the server's
// pong timeout, because the browser answers the server's pings.
func idleCase() suite.Case {
	c := probeCase("BR-15", "an idle tab outlives the server's pong timeout: the browser answers protocol pings", refPing, caseIdle)
	c.Budget = func(env *suite.Env) time.Duration { return env.PingInterval + env.PongTimeout + 30*time.Second }
	return c
}

func caseIdle(t *tab, env *suite.Env) suite.Result {
	if env.URL == nil || env.PongTimeout <= 0 || env.PingInterval <= 0 {
		return suite.Skip("needs --ping-interval and --pong-timeout of the server under test")
	}
	u := *env.URL
	u.Path = "/wsbench-br15-" + url.PathEscape(t.id)
	u.RawQuery = ""
	if err := t.do(js("open", u.String())); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	if evs, err := t.waitFor(wait, "open event", has("open")); err != nil {
		return suite.Fail("an open connection to "+u.String(), err.Error()+" "+summary(evs))
	}
	idle := env.PongTimeout + env.PingInterval + time.Second
	if env.Logf != nil {
		env.Logf("BR-15: idling %v", idle)
	}
	select {
	case <-time.After(idle):
	case <-t.ctx.Done():
		return suite.Fail("the case runs to the end", t.ctx.Err().Error())
	}
	evs, _ := t.events()
	if len(of(evs, "close")) > 0 {
		return suite.Failf(fmt.Sprintf("still OPEN after idling %v (pong timeout %v)", idle, env.PongTimeout), "%s", summary(evs))
	}
	if err := t.do(js("call", "send", "still here "+t.id)); err != nil {
		return suite.Fail("the probe runs", err.Error())
	}
	evs, err := t.waitFor(wait, "echo", func(evs []event) bool {
		for _, m := range of(evs, "message") {
			if m.Data == "still here "+t.id {
				return true
			}
		}
		return false
	})
	if err != nil {
		return suite.Fail("the server still relays to the idle tab", err.Error()+" "+summary(evs))
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("idle %v", idle)}
}
