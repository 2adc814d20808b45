package serve_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/serve"
	"github.com/wsbench/wsbench/conformance/suite"
	"github.com/wsbench/wsbench/internal/backoff"
	"github.com/wsbench/wsbench/internal/reconnect"
)

// fastConfig shrinks the session's timing so a run takes seconds; the
// clients below are configured to match (backoff base 100 ms, cap 1.6 s,
// stable 1 s, dead link after 800 ms of silence).
func fastConfig() serve.Config {
	cfg := serve.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Timeout = 90 * time.Second
	cfg.Idle = 600 * time.Millisecond
	cfg.PingEvery = 200 * time.Millisecond
	cfg.MaxDelay = 4 * time.Second
	cfg.RetryAfter = time.Second
	cfg.HeartbeatBound = 3 * time.Second
	cfg.Stable = 1500 * time.Millisecond
	cfg.CloseWait = time.Second
	cfg.Quiet = time.Second
	return cfg
}

// runSession starts serve with cfg, hands the session URL to client (which
// runs until its context ends) and returns the verdicts by case ID and the
// printed output.
func runSession(t *testing.T, cfg serve.Config, agent string, client func(ctx context.Context, url string)) (map[string]suite.Result, string) {
	t.Helper()
	return runServe(t, cfg, func(ctx context.Context, base string) { client(ctx, base+"/session/"+agent) })
}

// runServe is runSession for any client: it gets ws://ADDR.
func runServe(t *testing.T, cfg serve.Config, client func(ctx context.Context, base string)) (map[string]suite.Result, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	cfg.Ready = func(a net.Addr) { urls <- "ws://" + a.String() }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case u := <-urls:
			client(ctx, u)
		case <-ctx.Done():
		}
	}()
	var out bytes.Buffer
	entries, err := serve.Run(context.Background(), cfg, &out, t.Logf)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	got := map[string]suite.Result{}
	for _, e := range entries {
		got[e.Case.ID] = e.Result
	}
	t.Logf("output:\n%s", out.String())
	if !strings.Contains(out.String(), report.Count(entries).String()) {
		t.Errorf("output lacks the closing line %q", report.Count(entries))
	}
	return got, out.String()
}

func projectClient(t *testing.T, closeAtLast bool, last <-chan struct{}) func(ctx context.Context, url string) {
	return func(ctx context.Context, url string) {
		rnd := rand.New(rand.NewPCG(1, 2))
		c, err := reconnect.New(reconnect.Config{
			URL:         url,
			Backoff:     backoff.Config{Base: 100 * time.Millisecond, Cap: 1600 * time.Millisecond, Stable: time.Second},
			Rand:        rnd.Float64,
			DialTimeout: 2 * time.Second,
			Heartbeat:   200 * time.Millisecond,
			DeadAfter:   800 * time.Millisecond,
		})
		if err != nil {
			t.Error(err)
			return
		}
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		select {
		case <-last:
			if closeAtLast {
				_ = c.Close()
			}
		case <-ctx.Done():
		}
		err = <-done
		if closeAtLast && !errors.Is(err, reconnect.ErrClosed) {
			t.Errorf("Run = %v; want ErrClosed", err)
		}
		if !closeAtLast && !errors.Is(err, reconnect.ErrDoNotRetry) {
			t.Errorf("Run = %v; want ErrDoNotRetry after close 4000", err)
		}
	}
}

// TestProjectClientPasses drives internal/reconnect through the session
// twice: once closing it at the last connection (CR-10 runs), once leaving
// it open so the suite closes with 4000 (CR-11 runs).
func TestProjectClientPasses(t *testing.T) {
	for _, closeAtLast := range []bool{true, false} {
		name := map[bool]string{true: "closes", false: "stays"}[closeAtLast]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := fastConfig()
			last := make(chan struct{})
			var once sync.Once
			cfg.OnPhase = func(_, phase string) {
				if phase == serve.PhaseLast {
					once.Do(func() { close(last) })
				}
			}
			got, _ := runSession(t, cfg, "go-"+name, projectClient(t, closeAtLast, last))
			skipped := map[bool]string{true: "CR-11", false: "CR-10"}[closeAtLast]
			for id, r := range got {
				want := suite.OK
				if id == skipped {
					want = suite.Skipped
				}
				if r.Verdict != want {
					t.Errorf("%s = %v (%s); want %v", id, r.Verdict, report.Detail(r), want)
				}
			}
			if len(got) != 11 {
				t.Errorf("%d cases; want 11", len(got))
			}
		})
	}
}

// brokenClient reconnects 100 ms after every end, whatever the reason
// (a 503, its own close 1000, a close 4000), sends no heartbeat, and closes
// on its own when the suite says it is the last connection.
func brokenClient(ctx context.Context, url string) {
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		nc, br, _, err := ws.Dial(dctx, url)
		cancel()
		if err == nil {
			stop := context.AfterFunc(ctx, func() { nc.Close() })
			var rw io.ReadWriter = nc
			if br != nil { // frames that came with the 101
				rw = struct {
					io.Reader
					io.Writer
				}{io.MultiReader(br, nc), nc}
			}
			for {
				p, err := wsutil.ReadServerText(rw)
				if err != nil {
					break
				}
				if string(p) == serve.LastMessage {
					_ = ws.WriteFrame(nc, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))))
					_, _ = wsutil.ReadServerText(rw) // the echoed close
					break
				}
			}
			stop()
			nc.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestBrokenClientFails: the fixed 100 ms retry fails growth, jitter and
// Retry-After, the missing heartbeat fails the frozen link, and coming
// back after its own close fails CR-10; nothing else fails.
func TestBrokenClientFails(t *testing.T) {
	t.Parallel()
	got, _ := runSession(t, fastConfig(), "broken", brokenClient)
	want := map[string]suite.Verdict{
		"CR-01": suite.OK, "CR-02": suite.OK, "CR-03": suite.Failed, "CR-04": suite.Failed,
		"CR-05": suite.OK, "CR-06": suite.Failed, "CR-07": suite.Failed, "CR-08": suite.Informational,
		"CR-09": suite.OK, "CR-10": suite.Failed, "CR-11": suite.Skipped,
	}
	for id, v := range want {
		if got[id].Verdict != v {
			t.Errorf("%s = %v (%s); want %v", id, got[id].Verdict, report.Detail(got[id]), v)
		}
	}
}

// brokenEchoClient runs every protocol case and echoes every data frame as
// it came (masked, as a client must, but with its RSV bits and opcode),
// answers pings whatever their size and answers every close with 1000: it
// validates nothing.
func brokenEchoClient(ctx context.Context, base string) {
	run := func(path string) {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		nc, br, _, err := ws.Dial(dctx, base+path)
		cancel()
		if err != nil {
			return
		}
		defer nc.Close()
		stop := context.AfterFunc(ctx, func() { nc.Close() })
		defer stop()
		var r io.Reader = nc
		if br != nil {
			r = io.MultiReader(br, nc)
		}
		for {
			h, err := ws.ReadHeader(r)
			if err != nil {
				return
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(r, p); err != nil {
				return
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			out := ws.Header{Fin: h.Fin, Rsv: h.Rsv, OpCode: h.OpCode}
			switch h.OpCode {
			case ws.OpPong:
				continue
			case ws.OpPing:
				out = ws.Header{Fin: true, OpCode: ws.OpPong}
			case ws.OpClose:
				p = ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
				out = ws.Header{Fin: true, OpCode: ws.OpClose}
			}
			out.Masked, out.Mask, out.Length = true, ws.NewMask(), int64(len(p))
			ws.Cipher(p, out.Mask, 0)
			if ws.WriteHeader(nc, out) != nil {
				return
			}
			if _, err := nc.Write(p); err != nil || h.OpCode == ws.OpClose {
				return
			}
		}
	}
	run("/getCaseCount") // the count is known: serve.ProtocolCaseCount
	for i := 1; i <= serve.ProtocolCaseCount(); i++ {
		run(fmt.Sprintf("/runCase?case=%d&agent=broken-echo", i))
	}
	run("/updateReports?agent=broken-echo")
}

// TestBrokenProtocolClientFails: a client that validates nothing passes
// the echo, ping and close cases, is NON-STRICT where it answers a broken
// close with 1000 or waits for a whole message, and FAILS every case where
// it should have failed the connection but echoed or waited instead; the
// deflate case is skipped, as it offers no permessage-deflate.
func TestBrokenProtocolClientFails(t *testing.T) {
	t.Parallel()
	got, _ := runServe(t, fastConfig(), brokenEchoClient)
	want := map[string]suite.Verdict{}
	for i := 1; i <= serve.ProtocolCaseCount(); i++ {
		want[fmt.Sprintf("CP-%02d", i)] = suite.OK
	}
	for _, id := range []string{"CP-08", "CP-09", "CP-10", "CP-20", "CP-21"} {
		want[id] = suite.NonStrict
	}
	for i := 11; i <= 19; i++ {
		want[fmt.Sprintf("CP-%02d", i)] = suite.Failed
	}
	want["CP-26"] = suite.Skipped // it offers no permessage-deflate
	for id, v := range want {
		if got[id].Verdict != v {
			t.Errorf("%s = %v (%s); want %v", id, got[id].Verdict, report.Detail(got[id]), v)
		}
	}
}
