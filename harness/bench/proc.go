package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
	"time"

	"github.com/wsbench/wsbench/internal/procstat"
)

// Server is one running server under test.
type Server struct {
	Name string
	URL  string // ws://127.0.0.1:PORT/
	addr string
	pid  int // the process listening on addr (see listenerPID)
	cmd  *exec.Cmd
	logf *os.File
	done chan struct{}
	err  error // of Wait, valid after done is closed

	mu            sync.Mutex
	maxRSSKiB     int64
	maxGoroutines int
	stopSample    context.CancelFunc
	sampled       sync.WaitGroup
}

// ServerSpec says how to start a server.
type ServerSpec struct {
	Name string
	// Argv builds the command line for a listening address (host:port).
	Argv func(addr string) []string
	Env  []string
	CPU  int // -1: no pinning
	Nice int // niceness (negative: higher priority); 0 leaves it
	Log  string
	// Metrics is whether the server has /metrics and /healthz.
	Metrics bool
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// StartServer starts spec pinned to its CPU and waits until it accepts
// connections (and, for ours, /healthz answers 200).
func StartServer(ctx context.Context, spec ServerSpec) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	argv := spec.Argv(addr)
	argv = pinned(argv, spec.CPU, spec.Nice)
	logf, err := os.OpenFile(spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(logf, "# %s\n", strings.Join(argv, " "))
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	s := &Server{Name: spec.Name, URL: "ws://" + addr + "/", addr: addr, cmd: cmd, logf: logf, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, spec.Metrics, 15*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%s did not start (log %s): %w", spec.Name, spec.Log, err)
	}
	s.pid = cmd.Process.Pid
	if _, p, err := net.SplitHostPort(addr); err == nil {
		port, _ := strconv.Atoi(p)
		if pid, ok := listenerPID(s.pid, port); ok {
			s.pid = pid
		}
	}
	if s.pid != cmd.Process.Pid {
		fmt.Fprintf(logf, "# measuring pid %d, which listens on %s (the command's pid is %d)\n", s.pid, addr, cmd.Process.Pid)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.stopSample = cancel
	s.sampled.Add(1)
	go s.sample(sctx, spec.Metrics)
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, health bool, total time.Duration) error {
	deadline := time.Now().Add(total)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if health {
			last = s.healthy()
		} else {
			var c net.Conn
			c, last = net.DialTimeout("tcp", s.addr, time.Second)
			if c != nil {
				c.Close()
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %w", total, last)
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

func (s *Server) healthy() error {
	resp, err := httpClient.Get("http://" + s.addr + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %s", resp.Status)
	}
	return nil
}

// Goroutines reads go_goroutines from the server's /metrics or, when that
// gauge is not exported, the total of /debug/pprof/goroutine?debug=1
// (served with --pprof).
func (s *Server) Goroutines() (int, error) {
	resp, err := httpClient.Get("http://" + s.addr + "/metrics")
	if err != nil {
		return 0, err
	}
	n, err := parseGauge(resp.Body, "go_goroutines")
	resp.Body.Close()
	if err == nil {
		return n, nil
	}
	resp, perr := httpClient.Get("http://" + s.addr + "/debug/pprof/goroutine?debug=1")
	if perr != nil {
		return 0, errors.Join(err, perr)
	}
	defer resp.Body.Close()
	line, perr := bufio.NewReader(resp.Body).ReadString('\n')
	var total int
	if _, serr := fmt.Sscanf(line, "goroutine profile: total %d", &total); perr != nil || serr != nil {
		return 0, errors.Join(err, fmt.Errorf("/debug/pprof/goroutine: %q", line))
	}
	return total, nil
}

// parseGauge finds an unlabelled sample of name in Prometheus text format.
func parseGauge(r io.Reader, name string) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(name+" ")) {
			continue
		}
		f := strings.Fields(string(line))
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return int(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s not found in /metrics", name)
}

// sample records the highest RSS and goroutine count every 250 ms.
func (s *Server) sample(ctx context.Context, metrics bool) {
	defer s.sampled.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		if st, err := procstat.Read(s.Pid()); err == nil {
			s.mu.Lock()
			s.maxRSSKiB = max(s.maxRSSKiB, st.RSSKiB)
			s.mu.Unlock()
		}
		if metrics {
			if g, err := s.Goroutines(); err == nil {
				s.mu.Lock()
				s.maxGoroutines = max(s.maxGoroutines, g)
				s.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pid is the server's process id: the one listening on its address. It is
// the command's own (taskset and nice exec in place) unless the command
// forked it, as a shell running more than one command does; the CPU and
// memory the bench reports are that one process's.
func (s *Server) Pid() int {
	if s.pid != 0 {
		return s.pid
	}
	return s.cmd.Process.Pid
}

// ServerUsage is what one server used during one run.
type ServerUsage struct {
	PeakRSSKiB    int64   `json:"peak_rss_kib"`   // VmHWM at the end
	CPUSeconds    float64 `json:"cpu_s"`          // utime+stime at the end
	MaxGoroutines int     `json:"max_goroutines"` // highest go_goroutines seen (ours only)
	Threads       int     `json:"threads"`
	// CPUUsPerDelivery is the server's CPU µs per delivery over the
	// loadgen's measured window (the loadgen's report server section);
	// 0 when unknown.
	CPUUsPerDelivery float64 `json:"cpu_us_per_delivery,omitempty"`
}

// Usage reads the server's resources now.
func (s *Server) Usage() (ServerUsage, error) {
	st, err := procstat.Read(s.Pid())
	if err != nil {
		return ServerUsage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ServerUsage{PeakRSSKiB: max(st.PeakRSSKiB, s.maxRSSKiB), CPUSeconds: st.CPUSeconds, MaxGoroutines: s.maxGoroutines, Threads: st.Threads}, nil
}

// Stop sends SIGTERM to the server's process group (the command and
// anything it forked), waits up to 5 s for the group to exit, then kills
// what is left of it. It is idempotent.
func (s *Server) Stop() {
	if s.stopSample != nil {
		s.stopSample()
		s.sampled.Wait()
	}
	pgid := s.cmd.Process.Pid // Setpgid: the group is the command's
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
		}
	}
	// The command has exited; a server it forked may still be shutting
	// down. Wait for the group to empty, then make sure.
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(-pgid, 0) == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
	s.logf.Close()
}

// Exited reports whether the server has exited, and how.
func (s *Server) Exited() (bool, error) {
	select {
	case <-s.done:
		return true, s.err
	default:
		return false, nil
	}
}

// CPUTimes are the busy seconds of each CPU since boot, from /proc/stat
// (user+nice+system+irq+softirq+steal).
type CPUTimes []float64

// ReadCPUTimes reads /proc/stat.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	return parseCPUTimes(string(b))
}

func parseCPUTimes(stat string) (CPUTimes, error) {
	var out CPUTimes
	for _, line := range strings.Split(stat, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var busy int64
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("/proc/stat %s: %w", f[0], err)
			}
			busy += v
		}
		for len(out) <= n {
			out = append(out, 0)
		}
		out[n] = float64(busy) / procstat.ClockTicks
	}
	if len(out) == 0 {
		return nil, errors.New("/proc/stat: no per-CPU lines")
	}
	return out, nil
}

// Busy returns the busy seconds of cpu between t and later (0 when either
// lacks it).
func (t CPUTimes) Busy(later CPUTimes, cpu int) float64 {
	if cpu < 0 || cpu >= len(t) || cpu >= len(later) {
		return 0
	}
	return later[cpu] - t[cpu]
}

// pinned prefixes argv with taskset (cpu ≥ 0) and nice (nice ≠ 0). Both
// exec the command in place, so the process id is the command's.
func pinned(argv []string, cpu, nice int) []string {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	if nice != 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(nice)}, argv...)
	}
	return argv
}
