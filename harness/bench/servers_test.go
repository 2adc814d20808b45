package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/eventually"
)

func TestParseServerCmd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     ServerCmd
		err      string // "" = no error
	}{
		{"plain", "mine=./srv --port {port}", ServerCmd{Name: "mine", Command: "./srv --port {port}"}, ""},
		{"equals in the command", "uws=PORT={port} node uws.js", ServerCmd{Name: "uws", Command: "PORT={port} node uws.js"}, ""},
		{"spaces trimmed", " mine = ./srv {port} ", ServerCmd{Name: "mine", Command: "./srv {port}"}, ""},
		{"no name", "./srv {port}", ServerCmd{}, "want NAME="},
		{"no command", "mine=", ServerCmd{}, "want NAME="},
		{"no port", "mine=./srv --port 8080", ServerCmd{}, "{port}"},
		{"path in name", "../x=./srv {port}", ServerCmd{}, "lower-case"},
		{"upper case", "Mine=./srv {port}", ServerCmd{}, "lower-case"},
		{"built in", "ours=./srv {port}", ServerCmd{}, "built in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseServerCmd(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseServerCmd(%q) = %v, %v; want an error mentioning %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseServerCmd(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestServerCmdArgv(t *testing.T) {
	t.Parallel()
	c := ServerCmd{Name: "x", Command: "srv --addr 127.0.0.1:{port} --metrics {port}"}
	got := c.Argv("4242")
	want := []string{"/bin/sh", "-c", "srv --addr 127.0.0.1:4242 --metrics 4242"}
	if !slices.Equal(got, want) {
		t.Fatalf("Argv = %q; want %q", got, want)
	}
}

func TestMeasured(t *testing.T) {
	t.Parallel()
	c := Config{Servers: []string{Ours, "b"}, Commands: []ServerCmd{{Name: "a"}, {Name: "b"}}}
	if got, want := c.Measured(), []string{Ours, "b", "a"}; !slices.Equal(got, want) {
		t.Fatalf("Measured() = %q; want %q", got, want)
	}
}

// TestPeersInstallable checks that every peer recipe names files that exist
// in the tree, so a renamed folder fails here rather than in make bench.
func TestPeersInstallable(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	for _, p := range Peers {
		if _, err := os.Stat(filepath.Join(root, p.Install)); err != nil {
			t.Errorf("peer %s: install script: %v", p.Name, err)
		}
		if !strings.Contains(p.Command, PortPlaceholder) {
			t.Errorf("peer %s: command %q has no %s", p.Name, p.Command, PortPlaceholder)
		}
		dir := filepath.Dir(p.Install)
		if _, err := os.Stat(filepath.Join(root, dir, "go.mod")); err == nil {
			if !strings.Contains(p.Command, dir+"/bin/") {
				t.Errorf("peer %s: a Go peer's command should run the binary its install.sh builds into %s/bin/", p.Name, dir)
			}
		}
	}
}

func TestInstallReportsEveryFailure(t *testing.T) {
	t.Parallel()
	c := Config{Servers: []string{Ours, "gws", "nbio", "mine"}, Commands: []ServerCmd{{Name: "mine", Command: "x {port}"}}}
	var ran []string
	err := c.install(func(name string, argv ...string) error {
		ran = append(ran, name)
		return syscall.ENOENT
	})
	if want := []string{"gws", "nbio"}; !slices.Equal(ran, want) {
		t.Errorf("install ran %q; want %q (peers with an install step only)", ran, want)
	}
	if err == nil || !strings.Contains(err.Error(), "peer gws") || !strings.Contains(err.Error(), "peer nbio") {
		t.Errorf("install = %v; want both failures named", err)
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
	pid, ok := listenerPID(processGroup(os.Getpid()), port)
	if !ok || pid != os.Getpid() {
		t.Fatalf("listenerPID(own group, %d) = %d, %v; want %d, true", port, pid, ok, os.Getpid())
	}
	if _, ok := listenerPID(processGroup(os.Getpid())+1_000_000, port); ok {
		t.Fatal("listenerPID found a listener in a process group that does not exist")
	}
}

// TestStartServerForkedListener starts a server through a shell that forks
// it (two commands), as --server commands may: the bench must measure the
// forked listener, not the shell, and Stop must leave neither behind.
func TestStartServerForkedListener(t *testing.T) {
	t.Parallel()
	py := "python3"
	spec := ServerSpec{
		Name: "forked",
		Argv: func(addr string) []string {
			_, port, _ := net.SplitHostPort(addr)
			return ServerCmd{Command: py + " -m http.server --bind 127.0.0.1 {port}; true"}.Argv(port)
		},
		CPU: -1,
		Log: filepath.Join(t.TempDir(), "forked.log"),
	}
	srv, err := StartServer(context.Background(), spec)
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
