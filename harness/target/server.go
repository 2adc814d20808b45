package target

import (
	"context"
	"fmt"
	"net"
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
	ep   *Endpoint // its HTTP side
	pid  int       // the process listening on addr (see listenerPID)
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

// Spec says how to start a server.
type Spec struct {
	Name string
	// Argv builds the command line for a listening address (host:port).
	Argv func(addr string) []string
	Env  []string
	CPU  int // -1: no pinning
	Nice int // niceness (negative: higher priority); 0 leaves it
	Log  string
	// Metrics is whether the server has /metrics and /healthz.
	Metrics bool
	// Addr, when set, is the host:port to listen on instead of a free
	// loopback port: nodes sharing one port (SO_REUSEPORT).
	Addr string
}

// Ours is the Spec of our server binary bin with flags args after its
// --addr, logging to log (empty: discarded), unpinned; callers set CPU,
// Nice, Env or Addr where they place it.
func Ours(name, bin, log string, args ...string) Spec {
	if log == "" {
		log = os.DevNull
	}
	return Spec{
		Name: name,
		Argv: func(addr string) []string {
			return append([]string{bin, "--addr", addr}, args...)
		},
		CPU:     -1,
		Log:     log,
		Metrics: true,
	}
}

// FreeAddr returns a loopback address with a free port (closed again:
// another process may take it, so bind soon).
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Start starts spec pinned to its CPU and waits until it accepts
// connections (and, for ours, /healthz answers 200).
func Start(ctx context.Context, spec Spec) (*Server, error) {
	addr := spec.Addr
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	argv := spec.Argv(addr)
	argv = Pinned(argv, spec.CPU, spec.Nice)
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
	s := &Server{Name: spec.Name, URL: "ws://" + addr + "/", addr: addr, ep: newEndpoint(addr), cmd: cmd, logf: logf, done: make(chan struct{})}
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
		if pid, ok := listenerPID(port); ok {
			if !startedBy(pid, cmd.Process.Pid) {
				s.Stop()
				return nil, fmt.Errorf("%s: %s is held by process %d (%s), which %s did not start: its numbers would be another server's (log %s): %w",
					spec.Name, addr, pid, commName(pid), spec.Name, spec.Log, ErrAddrTaken)
			}
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
			last = s.ep.Healthz(ctx)
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

// Goroutines reads go_goroutines from the server's /metrics or, when that
// gauge is not exported, the total of /debug/pprof/goroutine?debug=1
// (served with --pprof).
func (s *Server) Goroutines() (int, error) {
	return s.ep.Goroutines(context.Background())
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

// Addr is the loopback host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// Pid is the server's process id: the one listening on its address. It is
// the command's own (taskset and nice exec in place) unless the command
// forked it, as a shell running more than one command does; the CPU and
// memory the harness reports are that one process's.
func (s *Server) Pid() int {
	if s.pid != 0 {
		return s.pid
	}
	return s.cmd.Process.Pid
}

// Usage is what one server used so far.
type Usage struct {
	PeakRSSKiB    int64   `json:"peak_rss_kib"`   // VmHWM at the end
	CPUSeconds    float64 `json:"cpu_s"`          // utime+stime at the end
	MaxGoroutines int     `json:"max_goroutines"` // highest go_goroutines seen (servers with /metrics only)
	Threads       int     `json:"threads"`
}

// Usage reads the server's resources now.
func (s *Server) Usage() (Usage, error) {
	st, err := procstat.Read(s.Pid())
	if err != nil {
		return Usage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Usage{PeakRSSKiB: max(st.PeakRSSKiB, s.maxRSSKiB), CPUSeconds: st.CPUSeconds, MaxGoroutines: s.maxGoroutines, Threads: st.Threads}, nil
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

// Pinned prefixes argv with taskset (cpu ≥ 0) and nice (nice ≠ 0), the way
// every server, load generator and attacker of the harness is started, so
// that programs that split the two CPUs (server on one, load on the other)
// start theirs identically. Both exec the command in place, so the process
// id is the command's.
func Pinned(argv []string, cpu, nice int) []string {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	if nice != 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(nice)}, argv...)
	}
	return argv
}
