package bench

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
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
