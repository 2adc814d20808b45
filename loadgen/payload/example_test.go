package payload_test

import (
	"fmt"

	"github.com/wsbench/wsbench/loadgen/payload"
)

func Example() {
	msg := make([]byte, 64) // --size 64: header plus padding
	_ = payload.Encode(msg, payload.Header{RunID: 7, Sender: 3, Seq: 41, Intended: 1_764_057_600_000_000_000})
	h, err := payload.Decode(msg)
	fmt.Println(h.RunID, h.Sender, h.Seq, h.Intended, err)
	_, err = payload.Decode([]byte("__pong__"))
	fmt.Println(err)
	// Output:
	// 7 3 41 1764057600000000000 <nil>
	// payload: shorter than the header
}

// A JSON chat message around the text token, as --template builds it for
// client 7 in room 2, and a receiver finding the token inside the envelope
// a server wrapped around it.
func ExampleParseTemplate() {
	tpl, err := payload.ParseTemplate(`{"type":"msg","room":"r{{room}}","text":"{{token}}"}`, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := payload.Header{RunID: 7, Sender: 7, Seq: 41, Intended: 1_764_057_600_000_000_000}
	msg := tpl.Bind(7, 2).Append(nil, h, 0, nil)
	fmt.Println(string(msg))
	wrapped := `{"from":"10.0.0.9:51234","time":1764057600001,"text":` + fmt.Sprintf("%q", msg) + `}`
	got, err := payload.FindToken([]byte(wrapped))
	fmt.Println(got.Sender, got.Seq, got.Intended, err)
	_, err = payload.ParseTemplate(`{"text":"hello"}`, true)
	fmt.Println(err != nil)
	// Output:
	// {"type":"msg","room":"r2","text":"wsb1.0000000000000007.00000007.0000000000000029.187b310a73540000"}
	// 7 41 1764057600000000000 <nil>
	// true
}
