package browser

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/serve"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/chatpage"
)

// TestChatPageAgainstServe opens the chat page in headless Chromium, with
// short timings given as the page's query parameters and seeded jitter,
// and requires every behaviour case to pass: once as serve shows it at its
// session URL, clicking #leave when the session reaches its last
// connection (CR-10 runs, CR-11 is skipped); once served from another
// origin and pointed at the session with ?ws=, staying (the suite closes
// with 4000: CR-11 runs, CR-10 is skipped; CR-06 needs the page's
// cross-origin /healthz fetch).
func TestChatPageAgainstServe(t *testing.T) {
	requireChromium(t)
	if testing.Short() {
		t.Skip("about 20 s in a browser; not in -short")
	}
	defer Close()
	for _, leave := range []bool{true, false} {
		name := map[bool]string{true: "leaves", false: "stays"}[leave]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			entries, out := chatPageSession(t, leave)
			skipped := map[bool]string{true: "CR-11", false: "CR-10"}[leave]
			if len(entries) != 11 {
				t.Errorf("%d cases; want 11\n%s", len(entries), out)
			}
			for _, e := range entries {
				want := suite.OK
				if e.Case.ID == skipped {
					want = suite.Skipped
				}
				if e.Result.Verdict != want {
					t.Errorf("%s; want %v", report.Line(e), want)
				}
				// The page learns of the 503 only from /healthz (the
				// WebSocket API hides the status), also cross-origin.
				if e.Case.ID == "CR-06" && !strings.Contains(e.Result.Detail, "asked /healthz") {
					t.Errorf("%s; want the page to ask /healthz", report.Line(e))
				}
			}
		})
	}
}

// chatPageSession runs one serve session with the chat page as the client.
func chatPageSession(t *testing.T, leave bool) ([]report.Entry, string) {
	cfg := serve.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Timeout = 2 * time.Minute
	cfg.Idle = 600 * time.Millisecond
	cfg.PingEvery = 200 * time.Millisecond
	cfg.MaxDelay = 5 * time.Second
	cfg.RetryAfter = time.Second
	cfg.HeartbeatBound = 4 * time.Second
	cfg.Stable = 1500 * time.Millisecond
	cfg.CloseWait = 2 * time.Second
	cfg.Quiet = 2 * time.Second

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	last := make(chan struct{})
	var once sync.Once
	const timing = "hb=300&hbTimeout=600&base=200&cap=3200&stable=1000&slow=1000"
	cfg.Ready = func(a net.Addr) {
		if leave {
			urls <- "http://" + a.String() + "/session/chat-page?" + timing
			return
		}
		elsewhere := httptest.NewServer(http.HandlerFunc(chatpage.Serve))
		t.Cleanup(elsewhere.Close)
		urls <- elsewhere.URL + "/?ws=" + url.QueryEscape("ws://"+a.String()+"/session/chat-page-elsewhere") + "&" + timing
	}
	cfg.OnPhase = func(_, phase string) {
		if phase == serve.PhaseLast {
			once.Do(func() { close(last) })
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var u string
		select {
		case u = <-urls:
		case <-ctx.Done():
			return
		}
		p, err := OpenChatPage(ctx, u, 42)
		if err != nil {
			t.Errorf("open the chat page: %v", err)
			return
		}
		defer p.Close()
		select {
		case <-last:
			if leave {
				time.Sleep(300 * time.Millisecond) // as a person would, a moment later
				if err := p.Leave(); err != nil {
					t.Errorf("click #leave: %v", err)
				}
			}
			time.Sleep(cfg.CloseWait + time.Second)
			t.Logf("page: %s", p.Debug())
		case <-ctx.Done():
		}
		<-ctx.Done()
	}()
	var out bytes.Buffer
	entries, err := serve.Run(context.Background(), cfg, &out, t.Logf)
	cancel()
	wg.Wait()
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	return entries, out.String()
}
