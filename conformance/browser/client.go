package browser

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChatPage is the wsbench chat page open in a tab of the lane's browser,
// used as a client under test (conformance serve judges it). Its methods
// may be called from one goroutine at a time.
type ChatPage struct {
	tab *chatTab
}

// seededRandom replaces Math.random with a small seeded generator
// (mulberry32), so that a test sees the same jitter on every run.
const seededRandom = `(() => { let a = %d >>> 0; Math.random = () => {
  a = (a + 0x6D2B79F5) >>> 0; let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; })();`

// OpenChatPage opens pageURL (the chat page, e.g. conformance serve's
// http://ADDR/session/AGENT?hb=300) in a new tab; the page connects on its
// own. A non-zero seed makes the page's jitter reproducible. The tab lives
// until Close or until ctx ends.
func OpenChatPage(ctx context.Context, pageURL string, seed uint32) (*ChatPage, error) {
	l, err := shared.get()
	if err != nil {
		return nil, err
	}
	tctx, cancel, err := l.newTab(ctx)
	if err != nil {
		return nil, err
	}
	c := &chatTab{ctx: tctx, cancel: cancel}
	if seed != 0 {
		add := chromedp.Action[chromedp.Void](func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(seededRandom, seed)})
			return chromedp.Void{}, err
		})
		if err := c.do(10*time.Second, add); err != nil {
			cancel()
			return nil, fmt.Errorf("seed Math.random: %w", err)
		}
	}
	if err := c.do(10*time.Second, chromedp.Navigate(pageURL)); err != nil {
		cancel()
		return nil, fmt.Errorf("load %s: %w", pageURL, err)
	}
	return &ChatPage{tab: c}, nil
}

// Leave clicks the page's #leave button: close 1000, no reconnect.
func (p *ChatPage) Leave() error {
	return p.tab.do(5*time.Second, chromedp.Click(chromedp.ID("leave")))
}

// Debug returns the page's reconnect delays, connection count and last
// events (window.chatDebug) as JSON, for logs.
func (p *ChatPage) Debug() string {
	s, _ := eval[string](p.tab, "JSON.stringify({delays: chatDebug.reconnectDelays, connects: chatDebug.connects, events: chatDebug.events.slice(-8)})")
	return s
}

// Close closes the tab.
func (p *ChatPage) Close() { p.tab.cancel() }
