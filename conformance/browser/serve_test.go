package browser_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/browser"
	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/serve"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/testenv"
)

// TestChatPageAgainstServe opens the chat page that conformance serve
// shows at its session URL in headless Chromium, with short timings given
// as the page's query parameters, clicks #leave when the session reaches
// its last connection, and requires every behaviour case to pass (CR-11,
// which needs a client that stays, is skipped).
func TestChatPageAgainstServe(t *testing.T) {
	if testing.Short() {
		t.Skip("about 25 s in a browser; not in -short")
	}
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
	cfg.Quiet = time.Second

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer browser.Close()
	urls := make(chan string, 1)
	last := make(chan struct{})
	var once sync.Once
	cfg.Ready = func(a net.Addr) {
		urls <- "http://" + a.String() + "/session/chat-page?hb=300&hbTimeout=600&base=200&cap=3200&stable=1000&slow=1000"
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
		p, err := browser.OpenChatPage(ctx, u, 42)
		if err != nil {
			testenv.Require(t, "chromium for the chat page", err)
			return
		}
		defer p.Close()
		select {
		case <-last:
			time.Sleep(300 * time.Millisecond) // the page has shown the last message
			if err := p.Leave(); err != nil {
				t.Errorf("click #leave: %v", err)
			}
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
	for _, e := range entries {
		want := suite.OK
		if e.Case.ID == "CR-11" {
			want = suite.Skipped
		}
		if e.Result.Verdict != want {
			t.Errorf("%s; want %v", report.Line(e), want)
		}
	}
}
