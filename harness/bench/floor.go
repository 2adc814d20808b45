package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/harness/target"
)

// The floor is the least CPU a server can spend per delivery when it
// makes one system call per delivery: a bare non-blocking write(2) of one
// frame to a connected loopback TCP socket, nothing else (no framing, no
// locks, no queues, no timers). Two processes of the bench binary measure
// it, split over the CPUs as a bench run is:
//
//	FloorDrainCommand  (loadgen's CPU)  accepts N connections and reads
//	                                    everything they receive, so that no
//	                                    socket buffer fills
//	FloorWriteCommand  (server's CPU)   dials them, then at R writes/s sends
//	                                    one frame to every socket in turn,
//	                                    in bursts of N (as a broadcast of
//	                                    R/N messages/s to N clients does),
//	                                    and reports its own CPU time
//	                                    (getrusage) per write
//
// The writer runs with GOMAXPROCS=1, as our server does, and sleeps between
// bursts on the Go timer, so its wake-ups are in the figure as a server's
// are. Its report is a JSON line per rate: FloorResult.
const (
	FloorDrainCommand = "floor-drain"
	FloorWriteCommand = "floor-write"
)

// FloorResult is the bare-write floor at one rate.
type FloorResult struct {
	Sockets    int     `json:"sockets"`
	FrameBytes int     `json:"frame_bytes"`
	Rate       float64 `json:"rate"` // writes per second asked for
	Writes     int64   `json:"writes"`
	// Short counts writes the kernel did not take whole (EAGAIN or a
	// partial write): the drain fell behind, and the figure is then not
	// the floor. It should be 0.
	Short         int64   `json:"short"`
	WallSeconds   float64 `json:"wall_s"`
	CPUSeconds    float64 `json:"cpu_s"`
	CPUUsPerWrite float64 `json:"cpu_us_per_write"`
	// MaxLagMs is the writer's largest delay behind its timetable.
	MaxLagMs float64 `json:"max_lag_ms"`
}

// FloorDrainMain is FloorDrainCommand: it listens on 127.0.0.1:0, writes
// "listening ADDR" to stdout, accepts --conns connections and discards
// what they send until stdin closes.
func FloorDrainMain(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) int {
	fs := pflag.NewFlagSet(FloorDrainCommand, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("conns", 1000, "connections to accept")
	if err := fs.Parse(args); err != nil || *n < 1 {
		fmt.Fprintln(stderr, "usage: harness bench "+FloorDrainCommand+" --conns N (drains until stdin closes)")
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	stopDrain := drainConns(ln, *n)
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(stop)
	}()
	select {
	case <-stop:
	case <-ctx.Done():
	}
	stopDrain()
	return 0
}

// drainConns accepts up to max connections on ln (0: any number) and
// discards what they send. The returned stop closes the listener and every
// connection and waits for the readers to end.
func drainConns(ln net.Listener, max int) (stop func()) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; max == 0 || i < max; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// FloorWriteMain is FloorWriteCommand: --addr, --conns, --rates, --frame,
// --duration, --warmup; one JSON FloorResult per rate on stdout.
func FloorWriteMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet(FloorWriteCommand, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "the drain's address")
	n := fs.Int("conns", 1000, "connections")
	rates := fs.Float64Slice("rates", []float64{25000, 100000}, "writes per second")
	frame := fs.Int("frame", 66, "frame bytes per write")
	dur := fs.Duration("duration", 4*time.Second, "measured time per rate")
	warm := fs.Duration("warmup", time.Second, "unmeasured time before it")
	if err := fs.Parse(args); err != nil || *addr == "" || *n < 1 || *frame < 2 || *dur <= 0 || *warm < 0 {
		fmt.Fprintln(stderr, "usage: harness bench "+FloorWriteCommand+" --addr HOST:PORT --conns N [--rates R,…] [--frame B] [--duration D] [--warmup D]")
		return 2
	}
	fds, closeAll, err := dialFDs(ctx, *addr, *n)
	defer closeAll()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	buf := make([]byte, *frame)
	buf[0] = 0x82 // FIN + binary; the drain reads bytes, it parses nothing
	enc := json.NewEncoder(stdout)
	for _, r := range *rates {
		res, err := writeFloor(ctx, fds, buf, r, *warm, *dur)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := enc.Encode(res); err != nil {
			return 1
		}
	}
	return 0
}

// dialFDs opens n TCP connections to addr and returns their descriptors
// (non-blocking, as the Go runtime leaves them; TCP_NODELAY on, as Go and
// every server under test set it). The connections stay open until
// closeAll, which keeps the descriptors valid.
func dialFDs(ctx context.Context, addr string, n int) (fds []int, closeAll func(), err error) {
	var conns []*net.TCPConn
	closeAll = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	var d net.Dialer
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, closeAll, fmt.Errorf("floor: dial %s: %w", addr, err)
		}
		tc := c.(*net.TCPConn)
		conns = append(conns, tc)
		rc, err := tc.SyscallConn()
		if err != nil {
			return nil, closeAll, err
		}
		if err := rc.Control(func(fd uintptr) { fds = append(fds, int(fd)) }); err != nil {
			return nil, closeAll, err
		}
	}
	return fds, closeAll, nil
}

// writeFloor writes buf to every fd in turn at rate writes per second, in
// bursts of len(fds) at rate/len(fds) bursts per second on an absolute
// timetable, for warm and then d; it reports the CPU time of the measured
// part.
func writeFloor(ctx context.Context, fds []int, buf []byte, rate float64, warm, d time.Duration) (FloorResult, error) {
	res := FloorResult{Sockets: len(fds), FrameBytes: len(buf), Rate: rate}
	period := time.Duration(float64(time.Second) * float64(len(fds)) / rate)
	if period <= 0 {
		return res, fmt.Errorf("floor: %g writes/s over %d sockets is too fast to pace", rate, len(fds))
	}
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+d)
	var cpu0 float64
	var wall0 time.Time
	measuring := false
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * period)
		if !due.Before(end) || ctx.Err() != nil {
			break
		}
		if !measuring && !due.Before(measureFrom) {
			measuring, cpu0, wall0 = true, selfCPU(), time.Now()
		}
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if measuring {
			res.MaxLagMs = max(res.MaxLagMs, float64(-wait)/float64(time.Millisecond))
		}
		for _, fd := range fds {
			w, err := syscall.Write(fd, buf)
			if !measuring {
				continue
			}
			res.Writes++
			if err != nil || w != len(buf) {
				if err != nil && !errors.Is(err, syscall.EAGAIN) {
					return res, fmt.Errorf("floor: write: %w", err)
				}
				res.Short++
			}
		}
	}
	if !measuring {
		return res, errors.New("floor: the measured window held no burst (duration too short for the rate)")
	}
	res.CPUSeconds = selfCPU() - cpu0
	res.WallSeconds = time.Since(wall0).Seconds()
	if res.Writes > 0 {
		res.CPUUsPerWrite = res.CPUSeconds * 1e6 / float64(res.Writes)
	}
	return res, ctx.Err()
}

// selfCPU is this process's user+system CPU seconds (getrusage), finer
// than /proc's clock ticks.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// MeasureFloor runs the floor: a drain pinned to drainCPU and a writer
// pinned to writeCPU (both self's hidden subcommands, GOMAXPROCS=1, at niceness nice).
func MeasureFloor(ctx context.Context, self []string, sockets int, rates []float64, frame int, warm, d time.Duration, writeCPU, drainCPU, nice int) ([]FloorResult, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(len(rates))*(warm+d)+time.Minute)
	defer cancel()
	drain, line, err := startHelper(ctx, self, drainCPU, nice, FloorDrainCommand, "--conns", strconv.Itoa(sockets))
	if err != nil {
		return nil, fmt.Errorf("floor: the drain: %w", err)
	}
	defer drain.stop()
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		return nil, fmt.Errorf("floor: the drain said %q", line)
	}
	rs := make([]string, len(rates))
	for i, r := range rates {
		rs[i] = strconv.FormatFloat(r, 'f', -1, 64)
	}
	argv := target.Pinned(append(slices.Clone(self), FloorWriteCommand, "--addr", addr, "--conns", strconv.Itoa(sockets), "--rates", strings.Join(rs, ","),
		"--frame", strconv.Itoa(frame), "--warmup", warm.String(), "--duration", d.String()), writeCPU, nice)
	w := exec.CommandContext(ctx, argv[0], argv[1:]...)
	w.Env, w.Stderr = append(os.Environ(), "GOMAXPROCS=1"), os.Stderr
	out, err := w.Output()
	if err != nil {
		return nil, fmt.Errorf("floor: the writer: %w", err)
	}
	var res []FloorResult
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var r FloorResult
		if err := dec.Decode(&r); err != nil {
			return res, fmt.Errorf("floor: the writer's report: %w", err)
		}
		res = append(res, r)
	}
	if len(res) != len(rates) {
		return res, fmt.Errorf("floor: %d results for %d rates", len(res), len(rates))
	}
	return res, nil
}

// FloorAt returns the floor measured nearest to deliveries per second
// (by ratio), or nil when there is none.
func FloorAt(floor []FloorResult, perS float64) *FloorResult {
	var best *FloorResult
	dist := func(r float64) float64 { return max(r/perS, perS/r) }
	for i := range floor {
		if floor[i].CPUUsPerWrite <= 0 || perS <= 0 {
			continue
		}
		if best == nil || dist(floor[i].Rate) < dist(best.Rate) {
			best = &floor[i]
		}
	}
	return best
}
