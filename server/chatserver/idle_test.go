package chatserver

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var idleConns = flag.Int("idle.conns", 10000, "connections opened by BenchmarkIdleConnections")

// BenchmarkIdleConnections measures the memory an idle WebSocket connection
// costs the server. It starts the server in a separate process (this test
// binary re-executed, see TestMain), records its RSS, opens -idle.conns
// upgraded connections from this process, lets them sit idle, and reports
// the RSS growth per connection together with the Go heap and stack growth
// read from /metrics, with idle parking (Config.ParkIdle) on and off, and
// at the server command's GOGC (50, its --gc-percent default) and Go's
// (100). Run it alone:
//
//	go test -run XXX -bench BenchmarkIdleConnections -benchtime 1x ./server/chatserver/
func BenchmarkIdleConnections(b *testing.B) {
	for _, tc := range []struct {
		park bool
		gogc int
	}{{true, 50}, {true, 100}, {false, 50}} {
		b.Run(fmt.Sprintf("park-idle=%v/gogc=%d", tc.park, tc.gogc), func(b *testing.B) { benchmarkIdle(b, tc.park, tc.gogc) })
	}
}

func benchmarkIdle(b *testing.B, park bool, gogc int) {
	n := *idleConns
	for b.Loop() {
		exe, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), serverProcessEnv+"=1", fmt.Sprintf("%s=%v", parkIdleEnv, park), fmt.Sprintf("GOGC=%d", gogc))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var addr string
		if _, err := fmt.Fscanf(bufio.NewReader(out), "listening %s\n", &addr); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatalf("server process: %v", err)
		}
		pid := cmd.Process.Pid
		forceGC(b, addr)
		before := rss(b, pid)
		mBefore := scrape(b, addr)

		conns := openIdle(b, addr, n)
		time.Sleep(2 * time.Second) // idle
		forceGC(b, addr)
		after := rss(b, pid)
		mAfter := scrape(b, addr)

		for _, c := range conns {
			c.Close()
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()

		per := func(k string) float64 { return (mAfter[k] - mBefore[k]) / float64(n) }
		b.ReportMetric(float64(after-before)/float64(n), "RSS-B/conn")
		b.ReportMetric(per("go_memstats_heap_inuse_bytes"), "heap-B/conn")
		b.ReportMetric(per("go_memstats_stack_inuse_bytes"), "stack-B/conn")
		b.ReportMetric(per("go_goroutines"), "goroutines/conn")
		b.Logf("%d idle connections: server RSS %d -> %d KiB (%.0f B/conn); open=%v", n, before>>10, after>>10, float64(after-before)/float64(n), mAfter["wsbench_connections_open"])
		if got := mAfter["wsbench_connections_open"]; got != float64(n) {
			b.Fatalf("server reports %v open connections; want %d", got, n)
		}
	}
}

// openIdle opens n upgraded connections with 16 dialers in parallel.
func openIdle(b *testing.B, addr string, n int) []net.Conn {
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := 0
	for range 16 {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				c, err := rawUpgrade(addr, "/idle")
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		b.Fatal(firstErr)
	}
	return conns
}

// rawUpgrade performs a WebSocket handshake without keeping any buffer.
func rawUpgrade(addr, path string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + goodKey + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("handshake: %v %v", resp, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// rss returns the resident set size of process pid in bytes.
func rss(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// forceGC makes the server collect garbage (handshake buffers), so that
// what remains is what idle connections really hold.
func forceGC(b *testing.B, addr string) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond)
}

// scrape reads the server's /metrics into name -> value (unlabelled series).
func scrape(b *testing.B, addr string) map[string]float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			m[name] = v
		}
	}
	return m
}
