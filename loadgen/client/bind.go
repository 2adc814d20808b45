package client

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT on a socket that is bound to a
// local address before connect, so that the ephemeral port is chosen per
// destination (as without an explicit bind). Errors are ignored: without
// the option the dial still works, with ports reserved at bind time.
func bindNoPort(network, address string, c syscall.RawConn) error {
	_ = c.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	return nil
}
