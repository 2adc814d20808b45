package client

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Ephemeral port range of Linux by default (net.ipv4.ip_local_port_range);
// each local address can hold at most EphemeralPorts connections to one
// server address.
const (
	EphemeralLow   = 32768
	EphemeralHigh  = 60999
	EphemeralPorts = EphemeralHigh - EphemeralLow + 1
)

// FDReserve is how many descriptors the loadgen keeps for itself (files,
// pipes, the runtime) when computing how many connections fit.
const FDReserve = 64

// RaiseNoFile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the resulting soft limit.
func RaiseNoFile() (uint64, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
			return rl.Cur, fmt.Errorf("setrlimit nofile %d: %w", rl.Max, err)
		}
		rl = want
	}
	return rl.Cur, nil
}

// Capacity explains what caps a run of clients connections in one process
// with the given descriptor limit and local addresses (empty = one, chosen
// by the kernel). It returns the number that fit and warnings for the user.
func Capacity(clients int, fdLimit uint64, sources []net.IP) (fit int, warnings []string) {
	fit = clients
	if fdLimit > FDReserve && uint64(clients) > fdLimit-FDReserve {
		fit = int(fdLimit - FDReserve)
		warnings = append(warnings, fmt.Sprintf(
			"file descriptors cap this process at %d connections (RLIMIT_NOFILE %d, %d reserved): %d clients cannot all connect; use --procs N to spread them over processes",
			fit, fdLimit, FDReserve, clients))
	}
	addrs := len(sources)
	if addrs == 0 {
		addrs = 1
	}
	if ports := addrs * EphemeralPorts; clients > ports {
		if ports < fit {
			fit = ports
		}
		warnings = append(warnings, fmt.Sprintf(
			"ephemeral ports (%d–%d, %d per source address) cap %d source address(es) at %d connections to one server address: %d clients cannot all connect; add --source-ips (e.g. 127.0.0.2-127.0.0.9)",
			EphemeralLow, EphemeralHigh, EphemeralPorts, addrs, ports, clients))
	}
	return fit, warnings
}
