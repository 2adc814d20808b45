package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
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
