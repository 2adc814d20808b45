package page_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/page"
)

const chromium = "/usr/bin/chromium"

// browser starts a headless Chromium for the test and returns a function
// that opens a new tab on url.
func browser(t *testing.T) func(url string) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the page tests need Chromium at %s: %v", chromium, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // start the browser
		t.Fatal(err)
	}
	return func(url string) context.Context {
		tctx, tcancel := chromedp.NewContext(bctx)
		t.Cleanup(tcancel)
		if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("navigate %s: %v", url, err)
		}
		return tctx
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func waitJS(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
			return fmt.Errorf("%s is not true yet (%v)", js, err)
		}
		return nil
	})
}

func startServer(t *testing.T, addr string) *chatserver.Server {
	t.Helper()
	cfg := chatserver.DefaultConfig()
	cfg.ShutdownGrace = 2 * time.Second
	s, err := chatserver.New(cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	eventually.True(t, 5*time.Second, time.Millisecond, func() error {
		if s.Addr() == nil {
			return fmt.Errorf("server not serving yet")
		}
		return nil
	})
	return s
}

const messagesJS = `[...document.querySelectorAll("#messages li")].map(li => li.textContent)`

// TestChat: two tabs in a room see each other's messages (typed with Enter,
// rendered as text, never HTML) and binary messages as text.
func TestChat(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	base := "http://" + s.Addr().String()
	open := browser(t)
	a, b := open(base+"/room1?hb=0"), open(base+"/room1?hb=0")
	for _, tab := range []context.Context{a, b} {
		waitJS(t, tab, `chatDebug.state() === "OPEN"`)
	}
	if got := eval[string](t, a, `document.getElementById("state").textContent`); got != "OPEN" {
		t.Fatalf("#state = %q; want OPEN", got)
	}
	evil := `<img src=x onerror="window.pwned=1">hi`
	if err := chromedp.Do(a, chromedp.SendKeys(chromedp.ID("text1"), evil+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	// Messages of different senders have no order between them: wait for
	// the typed one before sending the binary one.
	waitJS(t, a, `document.querySelectorAll("#messages li").length >= 1`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := ws.Dial(ctx, "ws://"+s.Addr().String()+"/room1")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := wsutil.WriteClientBinary(nc, []byte("binary ✓")); err != nil {
		t.Fatal(err)
	}
	for name, tab := range map[string]context.Context{"a": a, "b": b} {
		waitJS(t, tab, `document.querySelectorAll("#messages li").length >= 2`)
		got := eval[[]string](t, tab, messagesJS)
		if strings.Join(got, "|") != evil+"|binary ✓" {
			t.Fatalf("tab %s messages = %q; want %q then %q", name, got, evil, "binary ✓")
		}
		if n := eval[int](t, tab, `document.querySelectorAll("#messages img").length + (window.pwned ? 100 : 0)`); n != 0 {
			t.Fatalf("tab %s: message was rendered as HTML", name)
		}
	}
}

// TestReconnectAndLeave: the page reconnects after a server restart with
// short backoff, and never after #leave.
func TestReconnectAndLeave(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	addr := s.Addr().String()
	tab := browser(t)("http://" + addr + "/?hb=0&base=50&cap=100&stable=300")
	waitJS(t, tab, `chatDebug.state() === "OPEN"`)
	s.Shutdown(context.Background())
	waitJS(t, tab, `chatDebug.events.some(e => e.type === "close" && e.code === 1001)`)
	waitJS(t, tab, `chatDebug.reconnectDelays.length >= 1`)
	startServer(t, addr)
	waitJS(t, tab, `chatDebug.state() === "OPEN" && chatDebug.connects >= 2`)
	waitJS(t, tab, `chatDebug.attempts === 0`) // reset after 300 ms of stable uptime
	for _, d := range eval[[]float64](t, tab, `chatDebug.reconnectDelays`) {
		// An attempt that lands while the old server drains gets 503 and
		// the documented longer wait (Retry-After 5 s); any other delay is
		// full jitter within the cap.
		if d < 0 || (d > 100 && d < 5000) {
			t.Fatalf("reconnect delay %v ms outside [0, cap=100] and not a 503 wait", d)
		}
	}
	connects := eval[int](t, tab, `chatDebug.connects`)
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("leave"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `chatDebug.events.some(e => e.type === "close" && e.code === 1000)`)
	time.Sleep(300 * time.Millisecond) // three backoff caps: a reconnect would have started
	if got := eval[int](t, tab, `chatDebug.connects`); got != connects {
		t.Fatalf("connects went from %d to %d after #leave", connects, got)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("join"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `chatDebug.state() === "OPEN"`)
}

// TestDeadLinkAndDoNotRetry uses a server that serves the page but whose
// WebSocket on /dead never sends anything (the heartbeat must notice and
// reconnect) and on /noretry closes with 4001 (the page must not retry).
func TestDeadLinkAndDoNotRetry(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			page.Serve(w, r)
			return
		}
		nc, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer nc.Close()
		if r.URL.Path == "/noretry" {
			wsutil.WriteServerMessage(nc, ws.OpClose, ws.NewCloseFrameBody(4001, "go away"))
		}
		<-done // silent: never answers anything
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { close(done); srv.Close() })
	open := browser(t)
	base := "http://" + ln.Addr().String()

	dead := open(base + "/dead?hb=200&hbTimeout=300&base=10&cap=20")
	waitJS(t, dead, `chatDebug.events.some(e => e.type === "heartbeat-timeout") && chatDebug.connects >= 2`)

	noretry := open(base + "/noretry?hb=0&base=10&cap=20")
	waitJS(t, noretry, `chatDebug.events.some(e => e.type === "close" && e.code === 4001)`)
	time.Sleep(200 * time.Millisecond) // ten backoff caps
	if got := eval[int](t, noretry, `chatDebug.connects`); got != 1 {
		t.Fatalf("connects = %d after close 4001; want 1 (do-not-retry)", got)
	}
	if got := eval[string](t, noretry, `document.getElementById("state").textContent`); !strings.Contains(got, "not reconnecting") {
		t.Fatalf("#state = %q; want it to say it is not reconnecting", got)
	}
}
