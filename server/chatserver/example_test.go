package chatserver_test

import (
	"context"
	"fmt"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsbench/wsbench/server/chatserver"
)

// A server on a random port; a client joins room /lobby and gets its own
// message back (the sender is included in every broadcast).
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s, err := chatserver.New(chatserver.DefaultConfig(), nil)
	if err != nil {
		panic(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(context.Background())

	conn, _, _, err := ws.Dial(context.Background(), "ws://"+ln.Addr().String()+"/lobby")
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	wsutil.WriteClientText(conn, []byte("hello, room"))
	msg, op, err := wsutil.ReadServerData(conn)
	fmt.Println(op == ws.OpText, string(msg), err)
	// Output: true hello, room <nil>
}
