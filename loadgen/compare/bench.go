package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// benchFile is the part of a bench results directory's runs.json that
// compare reads: capacity and memory per connection per server. It is read
// loosely (unknown fields ignored) so that compare does not depend on the
// bench's internals.
type benchFile struct {
	Capacity []struct {
		Server         string  `json:"server"`
		Clients        int     `json:"clients"`
		Size           int     `json:"size"`
		DeliveriesPerS float64 `json:"deliveries_per_s"`
		// Min and max over the repeated searches (0 in older results).
		MinDeliveriesPerS float64 `json:"min_deliveries_per_s"`
		MaxDeliveriesPerS float64 `json:"max_deliveries_per_s"`
		CPUUsPerDelivery  float64 `json:"cpu_us_per_delivery"`
		P99Ms             float64 `json:"p99_ms"`
	} `json:"capacity"`
	Idle []struct {
		Server     string  `json:"server"`
		Conns      int     `json:"conns"`
		KiBPerConn float64 `json:"kib_per_conn"`
	} `json:"idle"`
}

// readBench reads dir/runs.json; ok is false when there is none (or dir
// is a report file).
func readBench(dir string) (benchFile, bool, error) {
	var b benchFile
	data, err := os.ReadFile(filepath.Join(dir, "runs.json"))
	if err != nil { // a report file rather than a directory, or no bench run
		return b, false, nil
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, false, fmt.Errorf("%s/runs.json: %w", dir, err)
	}
	return b, true, nil
}

// WriteBench prints the capacity and memory per connection of two bench
// results directories side by side. They are shown, not checked: the
// capacity search has the resolution of its tolerance (15 % by default).
func WriteBench(w io.Writer, oldDir, newDir string) error {
	old, okOld, err := readBench(oldDir)
	if err != nil {
		return err
	}
	new, okNew, err := readBench(newDir)
	if err != nil || !okOld || !okNew {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	wrote := false
	for _, n := range new.Capacity {
		for _, o := range old.Capacity {
			if o.Server == n.Server && o.Clients == n.Clients && o.Size == n.Size {
				if !wrote {
					fmt.Fprintln(tw, "== bench capacity and memory (shown, not checked: the search resolution is its tolerance)")
					fmt.Fprintln(tw, "  server\tmetric\tOLD\tNEW\tdelta")
					wrote = true
				}
				fmt.Fprintf(tw, "  %s\tcapacity deliveries/s (%d clients)\t%s\t%s\t%s\n", n.Server, n.Clients,
					capCell(o.DeliveriesPerS, o.MinDeliveriesPerS, o.MaxDeliveriesPerS), capCell(n.DeliveriesPerS, n.MinDeliveriesPerS, n.MaxDeliveriesPerS), relDelta(o.DeliveriesPerS, n.DeliveriesPerS))
				if o.CPUUsPerDelivery > 0 && n.CPUUsPerDelivery > 0 {
					fmt.Fprintf(tw, "  %s\tserver CPU µs/delivery at capacity\t%s\t%s\t%s\n", n.Server, num(o.CPUUsPerDelivery), num(n.CPUUsPerDelivery), relDelta(o.CPUUsPerDelivery, n.CPUUsPerDelivery))
				}
			}
		}
	}
	for _, n := range new.Idle {
		for _, o := range old.Idle {
			if o.Server == n.Server && o.Conns > 0 && n.Conns > 0 {
				if !wrote {
					fmt.Fprintln(tw, "== bench capacity and memory (shown, not checked)")
					fmt.Fprintln(tw, "  server\tmetric\tOLD\tNEW\tdelta")
					wrote = true
				}
				fmt.Fprintf(tw, "  %s\tKiB per idle connection\t%s\t%s\t%s\n", n.Server, num(o.KiBPerConn), num(n.KiBPerConn), relDelta(o.KiBPerConn, n.KiBPerConn))
			}
		}
	}
	if !wrote {
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(w)
	return err
}

func relDelta(old, new float64) string {
	if old == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", 100*(new-old)/old)
}

// capCell renders a capacity: the median, and the range of the repeated
// searches when there was one.
func capCell(median, lo, hi float64) string {
	if hi > lo {
		return fmt.Sprintf("%s (%s–%s)", num(median), num(lo), num(hi))
	}
	return num(median)
}
