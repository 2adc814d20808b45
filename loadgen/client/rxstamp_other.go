//go:build !linux

package client

// RxStamps is unavailable off Linux; EnableRxTimestamps always fails.
type RxStamps struct{ Stamped, Unstamped int64 }

// EnableRxTimestamps returns ErrRxUnsupported off Linux.
func EnableRxTimestamps(*Conn) (*RxStamps, error) { return nil, ErrRxUnsupported }

// StampAt returns 0: no stamps.
func (*RxStamps) StampAt(int) int64 { return 0 }
