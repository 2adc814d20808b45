package receive

import (
	"time"

	"github.com/wsbench/wsbench/loadgen/client"
)

// enableRx puts kernel receive timestamps under the connection
// (Options.RxTimestamps); where there are none the Reader keeps the
// user-space clock and RxErr says why.
func (r *Reader) enableRx() {
	if r.conn == nil {
		return
	}
	r.rx, r.RxErr = client.EnableRxTimestamps(r.conn)
}

// now is the receipt time of the message just parsed: the kernel's
// receive stamp of its last byte when there is one, else the time now.
func (r *Reader) now() int64 {
	if r.rx != nil {
		if ns := r.rx.StampAt(r.conn.Reader.Buffered()); ns != 0 {
			r.RxStamped++
			return ns
		}
	}
	return time.Now().UnixNano()
}
