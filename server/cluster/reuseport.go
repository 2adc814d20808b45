package cluster

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// ListenReusePort listens on the TCP address addr with SO_REUSEPORT set, so
// that several server processes (nodes) can listen on the same port and
// the kernel spreads new connections over them. Every listener on the port
// must set the option (all nodes use ListenReusePort). A port of 0 picks a
// free one, which other nodes can then share.
func ListenReusePort(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("setsockopt SO_REUSEPORT: %w", serr)
		}
		return nil
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s with SO_REUSEPORT: %w", addr, err)
	}
	return ln, nil
}
