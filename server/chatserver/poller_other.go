//go:build !linux

package chatserver

import "errors"

// poller is Linux-only (epoll); elsewhere every connection keeps its
// reader goroutine.
type poller struct{}

var errNoPoller = errors.New("idle parking needs epoll (Linux)")

func newPoller() (*poller, error)      { return nil, errNoPoller }
func (p *poller) run()                 {}
func (p *poller) stop()                {}
func (p *poller) prepare(*conn) int    { return 0 }
func (p *poller) arm(*conn, int) error { return errNoPoller }
func addOp(int) bool                   { return false }
func (p *poller) forget(*conn)         {}
