package browser_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wsbench/wsbench/conformance/browser"
)

// ExampleProxy freezes a link the way a dead network does: the client's
// socket stays open but nothing comes back until Thaw.
func ExampleProxy() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()

	p, err := browser.NewProxy(ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	c, _ := net.Dial("tcp", p.Addr())
	defer c.Close()
	r := bufio.NewReader(c)

	fmt.Fprintln(c, "hello")
	line, _ := r.ReadString('\n')
	fmt.Print("echo: ", line)

	fmt.Println("frozen links:", p.Freeze())
	fmt.Fprintln(c, "anyone there?")
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = r.ReadString('\n')
	fmt.Println("while frozen:", err.(net.Error).Timeout())

	p.Thaw()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ = r.ReadString('\n')
	fmt.Print("after thaw: ", line)
	// Output:
	// echo: hello
	// frozen links: 1
	// while frozen: true
	// after thaw: anyone there?
}
