// Command gorilla-echo is an echo server on gorilla/websocket, written as
// that library's Autobahn example writes one: read a message, check that a
// text message is valid UTF-8 (gorilla leaves that to the application:
// close 1007 when it is not), write it back with the same type. The
// conformance suite judges it with --profile echo
// (conformance/cases/thirdparty_test.go).
//
//	bin/gorilla-echo --port 9003 [--host 127.0.0.1] [--max-message 16777216]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen host")
	port := flag.Int("port", 9003, "listen port (0 picks a free one)")
	maxMessage := flag.Int64("max-message", 16<<20, "largest message in bytes (above: close 1009)")
	flag.Parse()

	upgrader := websocket.Upgrader{}
	echo := func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		defer c.Close()
		c.SetReadLimit(*maxMessage)
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if mt == websocket.TextMessage && !utf8.Valid(p) {
				msg := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
				_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(echo), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("gorilla-echo listening on %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
