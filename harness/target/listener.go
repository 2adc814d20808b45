package target

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listenerPID returns the process that holds a TCP socket listening on
// port. ok is false when no listener is visible in /proc (the caller keeps
// the command's own pid).
func listenerPID(port int) (pid int, ok bool) {
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
		if err != nil {
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

// startedBy reports whether pid is the command cmdPid or was started by it:
// in its process group (a wrapper such as sh -c or npm start forked it) or
// a descendant that left the group.
func startedBy(pid, cmdPid int) bool {
	if pid == cmdPid || processGroup(pid) == cmdPid {
		return true
	}
	for p, hops := pid, 0; p > 1 && hops < 64; hops++ {
		if p = parentPID(p); p == cmdPid {
			return true
		}
	}
	return false
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
func processGroup(pid int) int { return statField(pid, 2) }

// parentPID reads a process's parent from /proc/PID/stat (-1 if
// unreadable).
func parentPID(pid int) int { return statField(pid, 1) }

// statField reads the integer field i after the command name in
// /proc/PID/stat (0 is the state, 1 the parent, 2 the group), -1 if
// unreadable.
func statField(pid, i int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	j := strings.LastIndexByte(s, ')')
	if j < 0 {
		return -1
	}
	f := strings.Fields(s[j+1:])
	if len(f) <= i {
		return -1
	}
	v, err := strconv.Atoi(f[i])
	if err != nil {
		return -1
	}
	return v
}

// ErrAddrTaken is returned by Start when another process, not the started
// command, listens on the server's address (a port taken between FreeAddr
// and the command's bind, or a stale server left running).
var ErrAddrTaken = errors.New("address held by another process")

// commName is a process's command name from /proc/PID/comm ("?" if
// unreadable).
func commName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
