package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/harness/target"
	"github.com/wsbench/wsbench/internal/procstat"
)

// IdleCommand is the hidden subcommand of the bench binary that holds idle
// connections; the bench runs itself with it so that the connections live
// in a process pinned to the loadgen's CPU.
const IdleCommand = "idle-connections"

// HoldIdle opens n WebSocket connections to url (up to 64 handshakes at a
// time), writes "ready K" to w when done (K = connections established),
// then holds them until stop is closed or ctx ends, and closes them.
func HoldIdle(ctx context.Context, url string, n int, w io.Writer, stop <-chan struct{}) error {
	conns := make([]net.Conn, n)
	var established, failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	d := ws.Dialer{Timeout: 10 * time.Second}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for attempt := 0; attempt < 3; attempt++ {
				c, _, _, err := d.Dial(ctx, url)
				if err == nil {
					conns[i] = c
					established.Add(1)
					return
				}
				firstErr.CompareAndSwap(nil, err.Error())
				time.Sleep(100 * time.Millisecond)
			}
			failed.Add(1)
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	msg := ""
	if e, ok := firstErr.Load().(string); ok && failed.Load() > 0 {
		msg = " first error: " + e
	}
	if _, err := fmt.Fprintf(w, "ready %d failed %d%s\n", established.Load(), failed.Load(), msg); err != nil {
		return err
	}
	select {
	case <-stop:
	case <-ctx.Done():
	}
	return nil
}

// IdleMain is the IdleCommand: --url, --conns; it holds the connections
// until its stdin is closed.
func IdleMain(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) int {
	fs := pflag.NewFlagSet(IdleCommand, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "server URL")
	n := fs.Int("conns", 1000, "connections to hold")
	if err := fs.Parse(args); err != nil || *url == "" || *n < 1 {
		fmt.Fprintln(stderr, "usage: harness bench "+IdleCommand+" --url ws://… --conns N (holds until stdin closes)")
		return 2
	}
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(stop)
	}()
	if err := HoldIdle(ctx, *url, *n, stdout, stop); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// IdleResult is the server's memory with N idle connections.
type IdleResult struct {
	Server           string  `json:"server"`
	Conns            int     `json:"conns"` // established
	Failed           int     `json:"failed"`
	RSSBeforeKiB     int64   `json:"rss_before_kib"`
	RSSAfterKiB      int64   `json:"rss_after_kib"`
	KiBPerConn       float64 `json:"kib_per_conn"`
	GoroutinesBefore int     `json:"goroutines_before,omitempty"`
	GoroutinesAfter  int     `json:"goroutines_after,omitempty"`
	Note             string  `json:"note,omitempty"`
}

// MeasureIdle reads srv's RSS, opens n idle connections from a subprocess
// (self IdleCommand, pinned to cpu at niceness nice), waits for RSS to settle, reads it
// again and closes the connections.
func MeasureIdle(ctx context.Context, self []string, srv *target.Server, n, cpu, nice int, metrics bool) (IdleResult, error) {
	res := IdleResult{Server: srv.Name}
	time.Sleep(500 * time.Millisecond) // let the server finish starting
	before, err := procstat.Read(srv.Pid())
	if err != nil {
		return res, err
	}
	res.RSSBeforeKiB = before.RSSKiB
	if metrics {
		res.GoroutinesBefore, _ = srv.Goroutines()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	idle, line, err := startHelper(ctx, self, cpu, nice, IdleCommand, "--url", srv.URL, "--conns", strconv.Itoa(n))
	if err != nil {
		return res, fmt.Errorf("idle connections: %w", err)
	}
	defer idle.stop()
	var failed int
	if _, err := fmt.Sscanf(line, "ready %d failed %d", &res.Conns, &failed); err != nil {
		return res, fmt.Errorf("idle connections: %q: %w", line, err)
	}
	res.Failed = failed
	if i := strings.Index(line, "first error:"); i >= 0 {
		res.Note = strings.TrimSpace(line[i:])
	}
	if res.Conns == 0 {
		return res, errors.New("idle connections: none established: " + strings.TrimSpace(line))
	}
	after, err := settledRSS(srv.Pid(), 5*time.Second)
	if err != nil {
		return res, err
	}
	res.RSSAfterKiB = after
	if metrics {
		res.GoroutinesAfter, _ = srv.Goroutines()
	}
	res.KiBPerConn = float64(res.RSSAfterKiB-res.RSSBeforeKiB) / float64(res.Conns)
	return res, nil
}

// settledRSS polls VmRSS every 250 ms until two readings are within 0.5 %
// of each other (or total has passed) and returns the last.
func settledRSS(pid int, total time.Duration) (int64, error) {
	deadline := time.Now().Add(total)
	var last int64 = -1
	for {
		time.Sleep(250 * time.Millisecond)
		st, err := procstat.Read(pid)
		if err != nil {
			return 0, err
		}
		if last >= 0 && abs64(st.RSSKiB-last)*200 <= last || time.Now().After(deadline) {
			return st.RSSKiB, nil
		}
		last = st.RSSKiB
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
