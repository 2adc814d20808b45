package client

import "errors"

// ErrRxUnsupported is returned by EnableRxTimestamps where kernel receive
// timestamps cannot be had: not Linux, or not a plain TCP socket (TLS
// records do not map onto message bytes).
var ErrRxUnsupported = errors.New("kernel receive timestamps unsupported")

// rxRing is how many recent reads RxStamps remembers. The frame parser is
// at most a read buffer behind the socket, so a message's last byte is in
// one of the last two or three reads.
const rxRing = 8

// rxChunk is one read: the stream offsets of its bytes [start, end) and
// the kernel's receive time of its last segment (Unix ns, 0 = none).
type rxChunk struct {
	start, end, ns int64
}

// RxClock names the clock a run's latencies were taken from.
const (
	RxClockKernel = "kernel"     // SO_TIMESTAMPING software receive stamps
	RxClockUser   = "user space" // time.Now when the reader parsed the message
)
