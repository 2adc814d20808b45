package browser

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/server/chatserver"
)

// The chat-page cases (BR-CP-xx) test the wsbench chat page, which only our
// server serves. They run when the server under test serves that page
// (GET / contains window.chatDebug); otherwise they are skipped. Because
// they must restart the server and cut its network, they never touch the
// server under test: each starts its own chatserver in-process on
// 127.0.0.1:0, with the same page compiled in.

// chatCases returns the BR-CP cases.
func chatCases() []suite.Case {
	return []suite.Case{
		chatCase("BR-CP-01", "two chat pages in one room each show every typed line in order (broadcast includes the sender)", "WHATWG WebSockets §3.1 (send()); "+refFeedback+"; wsbench contract: broadcast", caseChatBroadcast),
		chatCase("BR-CP-02", "after a server restart the page reconnects with full-jitter backoff and shows OPEN again", refFeedback+" (close 1001); wsbench page contract: backoff within [0, min(cap, base·2^n)]", caseChatRestart),
		chatCase("BR-CP-03", "a frozen network (no FIN, no RST) is detected by the page heartbeat within hb+hbTimeout, then it reconnects", "wsbench page contract: app heartbeat __ping__/__pong__ (the browser exposes no protocol ping to pages, "+refPing+")", caseChatFrozen),
		chatCase("BR-CP-04", "after an intentional leave the page does not reconnect", refIface+" (close(1000)); wsbench page contract: #leave", caseChatLeave),
		chatCase("BR-CP-05", "a dropped link (proxy closes both ends) is seen at once as close 1006 and the page reconnects", refFeedback+" (connection closed, not clean); wsbench page contract", caseChatDropped),
	}
}

// chatCase wraps a chat-page case: it checks that env.URL is a wsbench
// server, gets the lane and runs body.
func chatCase(id, title, ref string, body func(ctx context.Context, l *lane, env *suite.Env) suite.Result) suite.Case {
	return suite.Case{
		ID: id, Group: "browser", Title: title, Ref: ref, Serial: true,
		Budget: func(*suite.Env) time.Duration { return 60 * time.Second },
		Run: func(ctx context.Context, env *suite.Env) suite.Result {
			if ok, why := servesOurPage(ctx, env); !ok {
				return suite.Skip("the chat-page cases test the wsbench chat page; " + why)
			}
			l, err := shared.get()
			if err != nil {
				return laneErr(err)
			}
			return body(ctx, l, env)
		},
	}
}

// servesOurPage reports whether env.URL's server serves the wsbench chat
// page, and why not.
func servesOurPage(ctx context.Context, env *suite.Env) (bool, string) {
	if env.URL == nil {
		return false, "no server URL"
	}
	u := *env.URL
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path, u.RawQuery = "/", ""
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err.Error()
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return false, "GET " + u.String() + ": " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if !strings.Contains(string(body), "window.chatDebug") {
		return false, "GET " + u.String() + " does not serve it (no window.chatDebug)"
	}
	return true, ""
}

// refServer is an in-process reference server that can be restarted on
// the same address.
type refServer struct {
	cfg  chatserver.Config
	logf func(string, ...any)
	addr string
	s    *chatserver.Server
	done chan error
}

func startRef(cfg chatserver.Config, addr string, logf func(string, ...any)) (*refServer, error) {
	r := &refServer{cfg: cfg, logf: logf, addr: addr}
	return r, r.start()
}

func (r *refServer) start() error {
	var ln net.Listener
	var err error
	for range 40 { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("listen %s: %w", r.addr, err)
	}
	r.addr = ln.Addr().String()
	r.s, err = chatserver.New(r.cfg, r.logf)
	if err != nil {
		ln.Close()
		return err
	}
	r.done = make(chan error, 1)
	go func() { r.done <- r.s.Serve(ln) }()
	return nil
}

// stop shuts the server down (clients get 1001) and waits for Serve.
func (r *refServer) stop() {
	if r.s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.s.Shutdown(ctx)
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	r.s = nil
}

// refConfig is the reference server's configuration for the chat cases.
func refConfig() chatserver.Config {
	cfg := chatserver.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.ShutdownGrace = time.Second
	cfg.AppHeartbeat = true
	return cfg
}

func quiet(string, ...any) {}

// chatTab is a tab showing the chat page.
type chatTab struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// openChat opens the chat page at http://addr/room?query and waits for OPEN.
func openChat(ctx context.Context, l *lane, addr, room string, q url.Values) (*chatTab, error) {
	tctx, cancel, err := l.newTab(ctx)
	if err != nil {
		return nil, err
	}
	c := &chatTab{ctx: tctx, cancel: cancel}
	u := "http://" + addr + "/" + room + "?" + q.Encode()
	if err := c.do(10*time.Second, chromedp.Navigate(u)); err != nil {
		cancel()
		return nil, fmt.Errorf("load %s: %w", u, err)
	}
	if err := c.waitState(10*time.Second, "OPEN"); err != nil {
		cancel()
		return nil, err
	}
	return c, nil
}

func (c *chatTab) do(d time.Duration, a chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(c.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, a)
}

func eval[T any](c *chatTab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// waitState waits until #state starts with want (e.g. "OPEN").
func (c *chatTab) waitState(d time.Duration, want string) error {
	_, err := c.waitJS(d, "#state "+want, fmt.Sprintf("document.getElementById('state').textContent.startsWith(%q)", want))
	return err
}

// waitJS polls a boolean expression; it returns the time it took.
func (c *chatTab) waitJS(d time.Duration, what, expr string) (time.Duration, error) {
	start := time.Now()
	for {
		ok, err := eval[bool](c, expr)
		if err == nil && ok {
			return time.Since(start), nil
		}
		if c.ctx.Err() != nil {
			return time.Since(start), c.ctx.Err()
		}
		if time.Since(start) > d {
			st, _ := eval[string](c, "document.getElementById('state').textContent")
			return time.Since(start), fmt.Errorf("no %s within %v (#state %q)", what, d, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// messages returns the texts shown in #messages.
func (c *chatTab) messages() ([]string, error) {
	return eval[[]string](c, `Array.from(document.querySelectorAll("#messages li"), (li) => li.textContent)`)
}

// say types text into #text1 and presses Enter, as a person would.
func (c *chatTab) say(text string) error {
	return c.do(5*time.Second, chromedp.SendKeys(chromedp.ID("text1"), text+"\r"))
}

func caseChatBroadcast(ctx context.Context, l *lane, env *suite.Env) suite.Result {
	ref, err := startRef(refConfig(), "127.0.0.1:0", quiet)
	if err != nil {
		return suite.Fail("a reference server", err.Error())
	}
	defer ref.stop()
	_, err = chatConversation(ctx, l, ref.addr, nil)
	if err != nil {
		return suite.Fail("both pages show both messages", err.Error())
	}
	return suite.Pass()
}

// chatConversation opens two pages in one room, has each say something and
// waits until both show both lines. With shot set, it then calls shot with
// the first tab (to take a screenshot) before closing the tabs.
func chatConversation(ctx context.Context, l *lane, addr string, shot func(*chatTab) error) ([]string, error) {
	room := fmt.Sprintf("lobby-%d", tabSeq.Add(1))
	a, err := openChat(ctx, l, addr, room, nil)
	if err != nil {
		return nil, err
	}
	defer a.cancel()
	b, err := openChat(ctx, l, addr, room, nil)
	if err != nil {
		return nil, err
	}
	defer b.cancel()
	lines := []string{"alice: hello from tab A", "bob: hi A, this is tab B", "alice: ünïcødé and <b>markup</b> stay text", "bob: both tabs see every line, in order"}
	for i, line := range lines {
		who := a
		if i%2 == 1 {
			who = b
		}
		if err := who.say(line); err != nil {
			return nil, fmt.Errorf("type into #text1: %w", err)
		}
	}
	want := fmt.Sprintf("document.querySelectorAll('#messages li').length >= %d", len(lines))
	for _, c := range []*chatTab{a, b} {
		if _, err := c.waitJS(10*time.Second, "all messages", want); err != nil {
			got, _ := c.messages()
			return got, fmt.Errorf("%w; shown %q", err, got)
		}
		got, err := c.messages()
		if err != nil {
			return nil, err
		}
		if strings.Join(got, "\n") != strings.Join(lines, "\n") {
			return got, fmt.Errorf("a page shows %q; want %q in order", got, lines)
		}
	}
	if shot != nil {
		if err := shot(a); err != nil {
			return nil, err
		}
	}
	return lines, nil
}

func caseChatRestart(ctx context.Context, l *lane, env *suite.Env) suite.Result {
	ref, err := startRef(refConfig(), "127.0.0.1:0", quiet)
	if err != nil {
		return suite.Fail("a reference server", err.Error())
	}
	defer func() { ref.stop() }()
	const base, capMs = 100, 800
	q := url.Values{"base": {fmt.Sprint(base)}, "cap": {fmt.Sprint(capMs)}, "stable": {"60000"}, "hb": {"0"}}
	c, err := openChat(ctx, l, ref.addr, "restart", q)
	if err != nil {
		return suite.Fail("the chat page OPEN", err.Error())
	}
	defer c.cancel()
	ref.stop()
	if _, err := c.waitJS(5*time.Second, "#state reconnecting", `document.getElementById("state").textContent.includes("reconnecting in")`); err != nil {
		return suite.Fail(`#state says "reconnecting in …" while the server is down`, err.Error())
	}
	// Stay down long enough for several attempts to fail.
	if _, err := c.waitJS(10*time.Second, "three reconnect delays", "chatDebug.reconnectDelays.length >= 3"); err != nil {
		return suite.Fail("the page retries while the server is down", err.Error())
	}
	if err := ref.start(); err != nil {
		return suite.Fail("the reference server restarts on "+ref.addr, err.Error())
	}
	if err := c.waitState(15*time.Second, "OPEN"); err != nil {
		return suite.Fail("#state OPEN again after the restart", err.Error())
	}
	delays, err := eval[[]float64](c, "chatDebug.reconnectDelays")
	if err != nil {
		return suite.Fail("chatDebug.reconnectDelays", err.Error())
	}
	for n, d := range delays {
		limit := math.Min(capMs, base*math.Pow(2, float64(n)))
		if d < 0 || d > limit {
			return suite.Failf(fmt.Sprintf("delay n within [0, min(%d, %d·2^n)] ms", capMs, base), "delay %d = %.0f ms > %.0f; all %v", n, d, limit, delays)
		}
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("reconnect delays %s ms", fmtDelays(delays))}
}

func fmtDelays(ds []float64) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.0f", d)
	}
	return strings.Join(parts, ",")
}

func caseChatFrozen(ctx context.Context, l *lane, env *suite.Env) suite.Result {
	ref, err := startRef(refConfig(), "127.0.0.1:0", quiet)
	if err != nil {
		return suite.Fail("a reference server", err.Error())
	}
	defer ref.stop()
	px, err := NewProxy(ref.addr)
	if err != nil {
		return suite.Fail("a TCP proxy", err.Error())
	}
	defer px.Close()
	const hb, hbTimeout = 500, 1000
	slack := 3 * time.Second // timers on a busy 2-core machine, the poll step
	q := url.Values{"hb": {fmt.Sprint(hb)}, "hbTimeout": {fmt.Sprint(hbTimeout)}, "base": {"100"}, "cap": {"500"}}
	c, err := openChat(ctx, l, px.Addr(), "frozen", q)
	if err != nil {
		return suite.Fail("the chat page OPEN through the proxy", err.Error())
	}
	defer c.cancel()
	if n := px.Freeze(); n == 0 {
		return suite.Fail("a link to freeze", "the proxy has no links")
	}
	limit := (hb+hbTimeout)*time.Millisecond + slack
	took, err := c.waitJS(limit, "heartbeat-timeout event", `chatDebug.events.some((e) => e.type === "heartbeat-timeout")`)
	if err != nil {
		return suite.Failf(fmt.Sprintf("the page declares the link dead within hb+hbTimeout+slack = %v", limit), "%v", err)
	}
	// New links pass the proxy, so the page must get back to OPEN.
	if err := c.waitState(10*time.Second, "OPEN"); err != nil {
		return suite.Fail("#state OPEN again through a new link", err.Error())
	}
	if err := c.say("back after the freeze"); err != nil {
		return suite.Fail("typing works after reconnecting", err.Error())
	}
	if _, err := c.waitJS(5*time.Second, "own message", `Array.from(document.querySelectorAll("#messages li")).some((li) => li.textContent === "back after the freeze")`); err != nil {
		return suite.Fail("the reconnected page sends and receives", err.Error())
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("dead link detected %v after the freeze (hb %dms + hbTimeout %dms)", took.Round(10*time.Millisecond), hb, hbTimeout)}
}

func caseChatLeave(ctx context.Context, l *lane, env *suite.Env) suite.Result {
	ref, err := startRef(refConfig(), "127.0.0.1:0", quiet)
	if err != nil {
		return suite.Fail("a reference server", err.Error())
	}
	defer ref.stop()
	q := url.Values{"base": {"50"}, "cap": {"200"}, "hb": {"200"}, "hbTimeout": {"300"}}
	c, err := openChat(ctx, l, ref.addr, "leave", q)
	if err != nil {
		return suite.Fail("the chat page OPEN", err.Error())
	}
	defer c.cancel()
	if err := c.do(5*time.Second, chromedp.Click(chromedp.ID("leave"))); err != nil {
		return suite.Fail("clicking #leave", err.Error())
	}
	if err := c.waitState(5*time.Second, "CLOSED"); err != nil {
		return suite.Fail("#state CLOSED after leave", err.Error())
	}
	// With base 50 ms and cap 200 ms a reconnect would happen within
	// 200 ms; watch ten times that.
	watch := 2 * time.Second
	select {
	case <-time.After(watch):
	case <-ctx.Done():
		return suite.Fail("the case runs to the end", ctx.Err().Error())
	}
	connects, err := eval[int](c, "chatDebug.connects")
	if err != nil {
		return suite.Fail("chatDebug.connects", err.Error())
	}
	st, _ := eval[string](c, "document.getElementById('state').textContent")
	if connects != 1 || !strings.HasPrefix(st, "CLOSED") {
		return suite.Failf(fmt.Sprintf("one connection and #state CLOSED %v after leaving", watch), "%d connections, #state %q", connects, st)
	}
	return suite.Pass()
}

func caseChatDropped(ctx context.Context, l *lane, env *suite.Env) suite.Result {
	ref, err := startRef(refConfig(), "127.0.0.1:0", quiet)
	if err != nil {
		return suite.Fail("a reference server", err.Error())
	}
	defer ref.stop()
	px, err := NewProxy(ref.addr)
	if err != nil {
		return suite.Fail("a TCP proxy", err.Error())
	}
	defer px.Close()
	// No heartbeat: only the close event can tell the page.
	q := url.Values{"hb": {"0"}, "base": {"100"}, "cap": {"500"}}
	c, err := openChat(ctx, l, px.Addr(), "dropped", q)
	if err != nil {
		return suite.Fail("the chat page OPEN through the proxy", err.Error())
	}
	defer c.cancel()
	if n := px.Drop(); n == 0 {
		return suite.Fail("a link to drop", "the proxy has no links")
	}
	if _, err := c.waitJS(5*time.Second, "close 1006", `chatDebug.events.some((e) => e.type === "close" && e.code === 1006 && e.wasClean === false)`); err != nil {
		evs, _ := eval[string](c, "JSON.stringify(chatDebug.events)")
		return suite.Failf("a close event 1006, wasClean=false right after the drop", "%v; events %s", err, evs)
	}
	if _, err := c.waitJS(10*time.Second, "second connection OPEN", `chatDebug.connects >= 2 && chatDebug.state() === "OPEN"`); err != nil {
		return suite.Fail("the page reconnects through the proxy", err.Error())
	}
	return suite.Pass()
}
