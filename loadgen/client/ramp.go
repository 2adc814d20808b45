package client

import (
	"context"
	"sync"
	"time"
)

// MaxInFlight bounds the handshakes in progress at once during a ramp.
const MaxInFlight = 256

// Ramp calls dial(i) for i = 0…n-1, starting dial i at start + i/rate
// (rate connections per second; rate <= 0 means as fast as MaxInFlight
// allows), with at most MaxInFlight dials running. It returns when every
// started dial has returned; dials not yet started when ctx ends are not
// started.
func Ramp(ctx context.Context, n int, rate float64, dial func(i int)) {
	start := time.Now()
	sem := make(chan struct{}, MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; i < n; i++ {
		if rate > 0 {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dial(i)
		}()
	}
}
