package abuse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Slowloris attackers spread over this many loopback source addresses
// (127.0.1.20 …), so that 10,000 held connections re-opened many times
// do not run out of ephemeral ports on one address.
const slowlorisSources = 8

// newcomerEvery is how often the newcomer connects, and /healthz is asked.
const newcomerEvery = 100 * time.Millisecond

// HoldStats is what HoldStalled counted.
type HoldStats struct {
	Held         int            `json:"held"`          // connections open when ready was called
	Opens        int64          `json:"opens"`         // connections opened after ready
	ServerClosed int64          `json:"server_closed"` // of all, closed by the server, after ready
	Seconds      float64        `json:"seconds"`       // from ready to the end
	Fails        map[string]int `json:"fails,omitempty"`
}

// HoldStalled opens n TCP connections to t, spread over slowlorisSources
// loopback source addresses, each sending the start of a request and then
// nothing, and re-opens each one as soon as the server closes it, until
// ctx ends. It calls ready once, when all n have been opened (or after
// 30 s), with how many were. The slowloris scenario runs it in a process
// of its own (the abuse command's "hold" subcommand), so that its
// thousands of goroutines do not delay the newcomers it is judged by.
func HoldStalled(ctx context.Context, t *Target, n int, ready func(held int)) HoldStats {
	var (
		opens, serverClosed atomic.Int64
		fails               counter
		wg                  sync.WaitGroup
		readyAt             time.Time
	)
	first := make(chan struct{}, n)
	start := time.Now()
	for i := range n {
		d := dialer{target: t, source: sourceIP(t, 20+i%slowlorisSources)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Ramp at 5,000 per second: a queue for accept, not a SYN
			// flood that only measures the kernel.
			sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*time.Second/5000)))
			opened := false
			for ctx.Err() == nil {
				nc, err := d.tcp(ctx)
				if err != nil {
					if ctx.Err() == nil {
						fails.add("dial-" + codeKey(-1, err))
						sleepCtx(ctx, 50*time.Millisecond)
					}
					continue
				}
				nc.SetWriteDeadline(time.Now().Add(time.Second))
				io.WriteString(nc, "GET /abuse-slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
				if opened {
					opens.Add(1)
				} else {
					first <- struct{}{}
					opened = true
				}
				stop := context.AfterFunc(ctx, func() { nc.SetReadDeadline(time.Now()) })
				_, err = io.Copy(io.Discard, io.LimitReader(nc, 1<<16))
				stop()
				if ctx.Err() == nil && !isTimeout(err) {
					serverClosed.Add(1)
				}
				closeHard(nc)
			}
		}()
	}
	held := 0
	rampDone := time.After(30 * time.Second)
wait:
	for held < n {
		select {
		case <-first:
			held++
		case <-rampDone:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	// Count from here: what happened while the newcomers were measured.
	readyAt = time.Now()
	opens.Store(0)
	serverClosed.Store(0)
	ready(held)
	<-ctx.Done()
	wg.Wait()
	return HoldStats{Held: held, Opens: opens.Load(), ServerClosed: serverClosed.Load(), Seconds: time.Since(readyAt).Seconds(), Fails: fails.snapshot()}
}

// slowloris holds Config.SlowlorisConns stalled connections (HoldStalled)
// for twice Config.Window after they are all open. Meanwhile a newcomer
// connects every 100 ms, joins a room, sends a message and reads its echo,
// and /healthz is asked on a new connection as often. Expectation: every
// newcomer gets in (handshake, message and echo), its handshake p99 stays
// under Config.NewcomerMaxP99, and every /healthz answers 200. A server
// that refuses newcomers while its pending slots are held (the lock-out of
// issue 17) fails here.
func slowloris(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	n := e.cfg.SlowlorisConns
	out.Attempted = n
	start := time.Now()
	var nr newcomers
	measure := func(held int) {
		out.Facts["ramp_seconds"] = time.Since(start).Seconds()
		e.logf("slowloris: %d of %d stalled connections open in %.1fs; newcomer every %v for %v", held, n, time.Since(start).Seconds(), newcomerEvery, 2*e.cfg.Window)
		nr = runNewcomers(ctx, e, 2*e.cfg.Window)
	}
	hs, err := e.hold(ctx, n, measure)
	if err != nil {
		out.Failures = append(out.Failures, "attacker: "+err.Error())
		return out
	}
	maps.Copy(out.Codes, hs.Fails)
	out.Codes["server-closed"] = int(hs.ServerClosed)
	out.Facts["attacker_process"] = len(e.cfg.HoldCommand) > 0
	if hs.Seconds > 0 {
		out.Facts["attacker_reopens_per_s"] = float64(hs.Opens) / hs.Seconds
		out.Facts["server_closed_per_s"] = float64(hs.ServerClosed) / hs.Seconds
	}
	out.Facts["newcomer_attempts"] = nr.attempts
	out.Facts["newcomer_ok"] = nr.ok
	out.Facts["newcomer_success_pct"] = pct(nr.ok, nr.attempts)
	out.Facts["newcomer_handshake_p50_ms"] = ms(quantile(nr.handshakes, 0.50))
	out.Facts["newcomer_handshake_p99_ms"] = ms(quantile(nr.handshakes, 0.99))
	out.Facts["newcomer_handshake_max_ms"] = ms(quantile(nr.handshakes, 1))
	out.Facts["healthz_attempts"] = nr.healthAttempts
	out.Facts["healthz_ok"] = nr.healthOK
	out.Facts["healthz_p99_ms"] = ms(quantile(nr.health, 0.99))
	for k, v := range nr.errs {
		out.Codes["newcomer-"+k] = v
	}
	if hs.Held < n {
		out.Failures = append(out.Failures, fmt.Sprintf("only %d of %d stalled connections could be opened in 30 s", hs.Held, n))
	}
	if nr.attempts == 0 || nr.ok < nr.attempts {
		out.Failures = append(out.Failures, fmt.Sprintf("newcomers: %d of %d joined and chatted (%.1f %%); want all", nr.ok, nr.attempts, pct(nr.ok, nr.attempts)))
	}
	if p99 := quantile(nr.handshakes, 0.99); p99 > e.cfg.NewcomerMaxP99 {
		out.LatencyFailures = append(out.LatencyFailures, fmt.Sprintf("newcomer handshake p99 %.1f ms exceeds %v", ms(p99), e.cfg.NewcomerMaxP99))
	}
	if nr.healthOK < nr.healthAttempts {
		out.Failures = append(out.Failures, fmt.Sprintf("/healthz: %d of %d answered 200", nr.healthOK, nr.healthAttempts))
	}
	return out
}

// hold runs HoldStalled, in a process of its own when Config.HoldCommand
// is set (else in this one), and calls measure once the connections are
// open; the attacker stops when measure returns.
func (e *env) hold(ctx context.Context, n int, measure func(held int)) (HoldStats, error) {
	if len(e.cfg.HoldCommand) == 0 {
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		return HoldStalled(hctx, e.target, n, func(held int) { measure(held); cancel() }), nil
	}
	argv := append(slices.Clone(e.cfg.HoldCommand), "--url", e.cfg.URL, "--conns", strconv.Itoa(n), "--max-duration", (2*e.cfg.Window + time.Minute).String())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return HoldStats{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return HoldStats{}, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return HoldStats{}, fmt.Errorf("start %q: %w", argv, err)
	}
	sc := bufio.NewScanner(stdout)
	var hs HoldStats
	measured := false
	for sc.Scan() {
		line := sc.Text()
		if held, ok := strings.CutPrefix(line, "ready "); ok && !measured {
			h, _ := strconv.Atoi(held)
			measure(h)
			measured = true
			stdin.Close() // stops the holder
			continue
		}
		if err := json.Unmarshal([]byte(line), &hs); err != nil {
			return hs, fmt.Errorf("holder said %q: %w", line, err)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return hs, fmt.Errorf("%q: %w (%s)", argv, err, strings.TrimSpace(stderr.String()))
	}
	if !measured {
		return hs, fmt.Errorf("holder ended without opening its connections (%s)", strings.TrimSpace(stderr.String()))
	}
	return hs, nil
}

// newcomers is what runNewcomers saw.
type newcomers struct {
	attempts, ok             int
	handshakes               []time.Duration // of every successful handshake
	errs                     map[string]int
	healthAttempts, healthOK int
	health                   []time.Duration // of every 200
}

// runNewcomers connects a newcomer every newcomerEvery for d: handshake
// (timed), a text message, its echo, a close; and asks /healthz on a new
// connection beside it.
func runNewcomers(ctx context.Context, e *env, d time.Duration) newcomers {
	var (
		mu sync.Mutex
		r  = newcomers{errs: map[string]int{}}
		wg sync.WaitGroup
	)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer hc.CloseIdleConnections()
	tick := time.NewTicker(newcomerEvery)
	defer tick.Stop()
	end := time.After(d)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return r
		case <-end:
			wg.Wait()
			return r
		case <-tick.C:
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			hs, err := newcomer(ctx, dialer{target: e.target}, i)
			mu.Lock()
			defer mu.Unlock()
			r.attempts++
			if err != nil {
				r.errs[errKey(err)]++
				return
			}
			r.ok++
			r.handshakes = append(r.handshakes, hs)
		}()
		go func() {
			defer wg.Done()
			t0 := time.Now()
			err := healthOnce(ctx, hc, e.target)
			mu.Lock()
			defer mu.Unlock()
			r.healthAttempts++
			if err == nil {
				r.healthOK++
				r.health = append(r.health, time.Since(t0))
			}
		}()
	}
}

// newcomer joins a room, sends one message and reads its echo; it returns
// how long the TCP connect and upgrade took.
func newcomer(ctx context.Context, d dialer, i int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t0 := time.Now()
	rc, err := d.ws(ctx, "/abuse-newcomer")
	hs := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("handshake: %w", err)
	}
	defer closeHard(rc.nc)
	rc.nc.SetDeadline(time.Now().Add(5 * time.Second))
	msg := fmt.Sprintf("newcomer %d", i)
	if err := rc.writeFrame(true, ws.OpText, []byte(msg)); err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	for {
		b, op, err := wsutil.ReadServerData(struct {
			io.Reader
			io.Writer
		}{rc.br, rc.nc})
		if err != nil {
			return 0, fmt.Errorf("echo: %w", err)
		}
		if op == ws.OpText && string(b) == msg {
			break // others' messages may come first
		}
	}
	rc.nc.SetWriteDeadline(time.Now().Add(time.Second))
	rc.writeFrame(true, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	return hs, nil
}

// healthOnce asks /healthz once; nil on 200.
func healthOnce(ctx context.Context, hc *http.Client, t *Target) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.HostPort+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// errKey names a newcomer failure for the tally.
func errKey(err error) string {
	var ref errRefused
	var ne net.Error
	switch {
	case errors.As(err, &ref):
		return fmt.Sprintf("http-%d", ref.status)
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return codeKey(-1, err)
}

// quantile returns the q-quantile of ds (nearest rank; 1 is the maximum),
// or 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q * float64(len(s))))
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
