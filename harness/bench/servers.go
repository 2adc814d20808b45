package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ServerCmd is a server the bench starts from a shell command line: a
// peer recipe under scripts/peers/, or any server a user names with
// --server NAME='COMMAND'. The command runs under /bin/sh -c with {port}
// replaced by the port it must listen on at 127.0.0.1.
type ServerCmd struct {
	Name    string
	Command string
	// Install, when set, is a script the bench runs before measuring
	// (relative to the module root): it builds or checks the peer and
	// fails, saying what to do, when it cannot.
	Install string
}

// PortPlaceholder is what a ServerCmd's command holds where the port goes.
const PortPlaceholder = "{port}"

// Peers are the built-in peer recipes (scripts/peers/<dir>/): each is a
// broadcast chat-room server on another WebSocket library, written to the
// same contract as ours (every message to every member of the room named
// by the path, sender included, same bytes and opcode) and bounded against
// slow consumers.
var Peers = []ServerCmd{
	{Name: "gorilla", Command: "exec scripts/peers/gorilla-hub/bin/gorilla-hub --host 127.0.0.1 --port {port}", Install: "scripts/peers/gorilla-hub/install.sh"},
	{Name: "nbio", Command: "exec scripts/peers/nbio-broadcast/bin/nbio-broadcast --host 127.0.0.1 --port {port}", Install: "scripts/peers/nbio-broadcast/install.sh"},
	{Name: "gws", Command: "exec scripts/peers/gws-broadcast/bin/gws-broadcast --host 127.0.0.1 --port {port}", Install: "scripts/peers/gws-broadcast/install.sh"},
	{Name: "python", Command: "exec /usr/bin/python3 scripts/peers/python-websockets-broadcast/server.py --host 127.0.0.1 --port {port}", Install: "scripts/peers/python-websockets-broadcast/install.sh"},
}

// serverName is what a server may be called: it names folders and files.
var serverName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ParseServerCmd parses a --server value, NAME=COMMAND.
func ParseServerCmd(s string) (ServerCmd, error) {
	name, cmd, ok := strings.Cut(s, "=")
	name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
	switch {
	case !ok || cmd == "":
		return ServerCmd{}, fmt.Errorf("--server %q: want NAME='COMMAND with %s', e.g. --server mine='./mysrv --listen 127.0.0.1:%s'", s, PortPlaceholder, PortPlaceholder)
	case !serverName.MatchString(name):
		return ServerCmd{}, fmt.Errorf("--server %q: the name %q must be lower-case letters, digits, - or _ (it names result folders)", s, name)
	case name == Ours || name == Node:
		return ServerCmd{}, fmt.Errorf("--server %q: %s is built in; give your server another name", s, name)
	case !strings.Contains(cmd, PortPlaceholder):
		return ServerCmd{}, fmt.Errorf("--server %q: the command must contain %s where the port goes (the bench picks a free port per run)", s, PortPlaceholder)
	}
	return ServerCmd{Name: name, Command: cmd}, nil
}

// String is the --server form of c.
func (c ServerCmd) String() string { return c.Name + "=" + c.Command }

// Argv is the command line that starts c listening on port.
func (c ServerCmd) Argv(port string) []string {
	return []string{"/bin/sh", "-c", strings.ReplaceAll(c.Command, PortPlaceholder, port)}
}

// command returns the ServerCmd for name: a --server of c's, else a peer
// recipe. Ours and Node are not commands.
func (c Config) command(name string) (ServerCmd, bool) {
	for _, s := range c.Commands {
		if s.Name == name {
			return s, true
		}
	}
	for _, s := range Peers {
		if s.Name == name {
			return s, true
		}
	}
	return ServerCmd{}, false
}

// serverNames lists every name --servers accepts, for error messages.
func (c Config) serverNames() string {
	names := []string{Ours, Node}
	for _, p := range Peers {
		names = append(names, p.Name)
	}
	for _, s := range c.Commands {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// install runs the install script of every measured peer recipe, so that a
// missing peer stops the bench before it starts rather than mid-way.
func (c Config) install(run func(name string, argv ...string) error) error {
	var errs []error
	for _, name := range c.Servers {
		s, ok := c.command(name)
		if !ok || s.Install == "" {
			continue
		}
		if err := run(name, s.Install); err != nil {
			errs = append(errs, fmt.Errorf("peer %s: %s failed: %w (make bench measures every peer it lists; leave it out with --servers)", name, s.Install, err))
		}
	}
	return errors.Join(errs...)
}

// listenerPID returns the process of process group pgid that holds a TCP
// socket listening on port: the server itself when its command is a
// wrapper (sh -c, npm start) that forked it. ok is false when none is
// found (the caller keeps the command's own pid).
func listenerPID(pgid, port int) (pid int, ok bool) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, ino := range listeningInodes(string(b), port) {
			inodes["socket:["+ino+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return 0, false
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		n, err := strconv.Atoi(filepath.Base(p))
		if err != nil || processGroup(n) != pgid {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(p, "fd"))
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(p, "fd", fd.Name())); err == nil && inodes[l] {
				return n, true
			}
		}
	}
	return 0, false
}

// listeningInodes returns the inodes of the sockets in /proc/net/tcp text
// that listen (state 0A) on port.
func listeningInodes(table string, port int) []string {
	var out []string
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "0A" || !strings.HasSuffix(f[1], want) {
			continue
		}
		out = append(out, f[9])
	}
	return out
}

// processGroup reads a process's group id from /proc/PID/stat (-1 if
// unreadable).
func processGroup(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:]) // state ppid pgrp …
	if len(f) < 3 {
		return -1
	}
	g, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return g
}

// lookCommand checks that the program a simple command starts exists, so
// that a typo fails before the bench rather than as a server that never
// listened. Commands using shell syntax are left to the shell.
func lookCommand(cmd string) error {
	f := strings.Fields(cmd)
	if len(f) > 0 && f[0] == "exec" {
		f = f[1:]
	}
	if len(f) == 0 || strings.ContainsAny(cmd, "&|;$`<>()") || strings.Contains(f[0], "=") {
		return nil
	}
	_, err := exec.LookPath(f[0])
	return err
}
