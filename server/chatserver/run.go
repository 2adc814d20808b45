package chatserver

import (
	"context"
	"net"
)

// Run serves cfg.Addr until ctx is cancelled, then shuts down gracefully
// (within cfg.ShutdownGrace) and returns nil. ready, if not nil, is called
// with the bound address once listening.
func Run(ctx context.Context, cfg Config, logf func(string, ...any), ready func(net.Addr)) error {
	s, err := New(cfg, logf)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		s.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	if err := s.Shutdown(context.Background()); err != nil {
		return err
	}
	return <-errc
}
