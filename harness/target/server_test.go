package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/eventually"
)

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines_total 3\ngo_goroutines 1042\n" +
		"wsbench_close_codes_sent_total{code=\"1007\"} 5 1700000000000\ngarbage line\n"
	m := ParseMetrics(strings.NewReader(text))
	if m["go_goroutines"] != 1042 || m["go_goroutines_total"] != 3 || m[`wsbench_close_codes_sent_total{code="1007"}`] != 5 || len(m) != 3 {
		t.Errorf("ParseMetrics = %v; want go_goroutines 1042, go_goroutines_total 3, the labelled sample 5 (timestamp dropped), nothing else", m)
	}
}

func TestParseCPUTimes(t *testing.T) {
	t.Parallel()
	stat := "cpu  300 0 100 5000 0 0 0 0 0 0\ncpu0 100 0 50 2500 10 0 0 0 0 0\ncpu1 200 5 50 2500 0 1 2 3 0 0\nintr 1\n"
	got, err := parseCPUTimes(stat)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1.5 || got[1] != 2.61 {
		t.Errorf("parseCPUTimes = %v; want [1.5 2.61]", got)
	}
	later := CPUTimes{2.5, 2.61}
	if b := got.Busy(later, 0); b != 1 {
		t.Errorf("Busy(cpu0) = %g; want 1", b)
	}
	if b := got.Busy(later, 7); b != 0 {
		t.Errorf("Busy(missing cpu) = %g; want 0", b)
	}
}

func TestListeningInodes(t *testing.T) {
	t.Parallel()
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0
`
	if got, want := listeningInodes(table, 8080), []string{"111"}; !slices.Equal(got, want) {
		t.Errorf("listeningInodes(8080) = %q; want %q (the LISTEN row only)", got, want)
	}
	if got := listeningInodes(table, 8082); len(got) != 0 {
		t.Errorf("listeningInodes(8082) = %q; want none", got)
	}
}

func TestListenerPIDFindsThisProcess(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	pid, ok := listenerPID(port)
	if !ok || pid != os.Getpid() {
		t.Fatalf("listenerPID(%d) = %d, %v; want %d, true", port, pid, ok, os.Getpid())
	}
	if !startedBy(pid, os.Getpid()) {
		t.Error("startedBy(self, self) = false")
	}
	if startedBy(pid, os.Getpid()+1_000_000) {
		t.Error("startedBy(self, a pid that does not exist) = true")
	}
}

// TestStartRefusesAnotherProcessListener gives Start an address this test
// already listens on: the command's own bind fails, the readiness probe
// reaches the test's listener, and Start must refuse rather than measure a
// server it did not start.
func TestStartRefusesAnotherProcessListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	spec := Spec{
		Name: "squatted",
		Addr: ln.Addr().String(),
		Argv: func(string) []string { return []string{"/bin/sh", "-c", "sleep 30"} },
		CPU:  -1,
		Log:  filepath.Join(t.TempDir(), "squatted.log"),
	}
	srv, err := Start(context.Background(), spec)
	if err == nil {
		srv.Stop()
		t.Fatal("Start succeeded on an address another process listens on")
	}
	if !errors.Is(err, ErrAddrTaken) {
		t.Fatalf("Start: %v; want ErrAddrTaken", err)
	}
}

// TestStartServerForkedListener starts a server through a shell that forks
// it (two commands), as the bench's --server commands may: the harness must measure the
// forked listener, not the shell, and Stop must leave neither behind.
func TestStartServerForkedListener(t *testing.T) {
	t.Parallel()
	py := "python3"
	spec := Spec{
		Name: "forked",
		Argv: func(addr string) []string {
			_, port, _ := net.SplitHostPort(addr)
			return []string{"/bin/sh", "-c", py + " -m http.server --bind 127.0.0.1 " + port + "; true"}
		},
		CPU: -1,
		Log: filepath.Join(t.TempDir(), "forked.log"),
	}
	srv, err := Start(context.Background(), spec)
	for try := 1; errors.Is(err, ErrAddrTaken) && try < 3; try++ {
		// Another test's process took the free port before python bound
		// it (tests of other packages run beside this one): a new port.
		srv, err = Start(context.Background(), spec)
	}
	if err != nil {
		t.Fatal(err)
	}
	shell := srv.cmd.Process.Pid
	pid := srv.Pid()
	if pid == shell {
		srv.Stop()
		t.Fatalf("Pid() = the shell's pid %d; want the forked listener's", shell)
	}
	comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if !strings.HasPrefix(string(comm), "python") {
		t.Errorf("Pid() %d is %q; want the python listener", pid, comm)
	}
	srv.Stop()
	eventually.True(t, 5*time.Second, 20*time.Millisecond, func() error {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return nil // gone, or a zombie awaiting its reaper
		}
		return fmt.Errorf("the forked server %d still runs after Stop: %s", pid, stat)
	})
}
