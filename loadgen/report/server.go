package report

// Server is the server's CPU time over the measured window, read from
// /proc/PID/stat when the loadgen was given --server-pid (the server runs
// on the same machine). CPU per delivery is the noise-robust number: on a
// shared machine latency percentiles swing with the neighbours' load,
// while the server's CPU time per delivered message barely moves.
type Server struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_s"` // utime+stime during the measured window
	// CPUUsPerDelivery is CPUSeconds in µs over the deliveries of the
	// window (to every receiver, dropped ones included).
	CPUUsPerDelivery float64 `json:"cpu_us_per_delivery"`
}
