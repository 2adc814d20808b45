package run_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/run"
)

// ExampleRun drives a small load in-process against a test relay.
func ExampleRun() {
	relay := &relaytest.Relay{}
	if err := relay.Start(); err != nil {
		panic(err)
	}
	defer relay.Close()
	rep, err := run.Run(context.Background(), run.Config{
		URL: relay.URL(), Clients: 4, Senders: 2, Rate: 20, Size: 64,
		Duration: time.Second, Drain: 5 * time.Second, ConnectTimeout: 5 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	m := rep.Messages
	fmt.Printf("sent %d, expected %d, delivered %d, lost %d\n", m.Sent, m.Expected, m.Delivered, m.Lost)
	// Output: sent 20, expected 80, delivered 80, lost 0
}
