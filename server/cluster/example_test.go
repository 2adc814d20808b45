package cluster_test

import (
	"context"
	"fmt"

	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/cluster"
)

// Two nodes on one machine: node 1 embeds NATS, both join it and share one
// port through SO_REUSEPORT.
func Example() {
	bus, err := cluster.StartNATS("127.0.0.1:0", nil)
	if err != nil {
		panic(err)
	}
	defer bus.Shutdown()
	port := "127.0.0.1:0"
	for i := 0; i < 2; i++ {
		srv, _ := chatserver.New(chatserver.DefaultConfig(), nil)
		node, err := cluster.Join(cluster.Config{URL: bus.ClientURL()}, srv, nil)
		if err != nil {
			panic(err)
		}
		defer node.Close()
		srv.SetFanout(node)
		ln, err := cluster.ListenReusePort(port)
		if err != nil {
			panic(err)
		}
		port = ln.Addr().String() // the second node shares the first one's port
		go srv.Serve(ln)
		defer srv.Shutdown(context.Background())
		fmt.Println(node.Status().Health())
	}
	// Output:
	// nats: connected
	// nats: connected
}
