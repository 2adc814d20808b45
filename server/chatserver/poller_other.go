//go:build !linux

package chatserver

import "errors"

// poller is Linux-only (epoll); elsewhere every connection keeps its
// reader goroutine.
type poller struct{}

var errNoPoller = errors.New("idle parking needs epoll (Linux)")

func newPoller() (*poller, error) { return nil, errNoPoller }
func (p *poller) run()            {}
func (p *poller) stop()           {}
func (p *poller) arm(*conn) error { return errNoPoller }
func (p *poller) forget(*conn)    {}
