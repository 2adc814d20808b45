package payload_test

import (
	"fmt"

	"github.com/wsbench/wsbench/loadgen/payload"
)

func Example() {
	msg := make([]byte, 64) // --size 64: header plus zero padding
	_ = payload.Encode(msg, payload.Header{RunID: 7, Sender: 3, Seq: 41, Intended: 1_764_057_600_000_000_000})
	h, err := payload.Decode(msg)
	fmt.Println(h.RunID, h.Sender, h.Seq, h.Intended, err)
	_, err = payload.Decode([]byte("__pong__"))
	fmt.Println(err)
	// Output:
	// 7 3 41 1764057600000000000 <nil>
	// payload: shorter than the header
}
