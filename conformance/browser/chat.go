package browser

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsbench/wsbench/conformance/suite"
)

// The chat-page case BR-CP-01 tests the wsbench chat page as the server
// under test serves it: it runs when that server serves the page (GET /
// contains window.chatDebug), otherwise it is skipped. The page's reconnect
// and heartbeat behaviour is judged by conformance serve instead (cases
// CR-01..CR-11, the page as a client: see OpenChatPage and serve_test.go).

// chatCases returns the BR-CP cases.
func chatCases() []suite.Case {
	return []suite.Case{
		chatCase("BR-CP-01", "two chat pages in one room each show every typed line in order (broadcast includes the sender)", "WHATWG WebSockets §3.1 (send()); "+refFeedback+"; wsbench contract: broadcast", caseChatBroadcast),
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
	_, err := chatConversation(ctx, l, env.URL.Host, nil)
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
