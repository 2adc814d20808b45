package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Tally counts the outcomes of a comparison.
type Tally struct {
	Compared, Regressed, Noise, Improved int
	OnlyOld, OnlyNew                     int
	Unjudged                             int // compared pairs not judged: a side invalid or overloaded
	SingleRun                            int // compared pairs with one run on each side: no noise estimate
}

// Write prints every result side by side and returns the tally. oldName and
// newName head the columns.
func Write(w io.Writer, oldName, newName string, results []Result, o Options) (Tally, error) {
	var t Tally
	var onlyOld, onlyNew []string
	for _, res := range results {
		p := res.Pair
		switch {
		case len(p.New) == 0:
			t.OnlyOld++
			onlyOld = append(onlyOld, p.Key.String())
			continue
		case len(p.Old) == 0:
			t.OnlyNew++
			onlyNew = append(onlyNew, p.Key.String())
			continue
		}
		t.Compared++
		if len(p.Old) == 1 && len(p.New) == 1 {
			t.SingleRun++
		}
		fmt.Fprintf(w, "== %s  (old %s, new %s)\n", p.Key, runs(len(p.Old)), runs(len(p.New)))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  metric\t%s\t%s\tdelta\tverdict\n", oldName, newName)
		var regressed, noise, improved bool
		for _, row := range res.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", row.Metric.Name, cell(row.Old), cell(row.New), delta(row), row.Verdict)
			switch row.Verdict {
			case Regression:
				regressed = true
			case Noise:
				noise = noise || row.Metric.Checked
			case Improved:
				improved = true
			}
		}
		if err := tw.Flush(); err != nil {
			return t, err
		}
		for _, why := range res.Unjudged {
			fmt.Fprintf(w, "  NOT JUDGED: %s\n", why)
		}
		switch {
		case len(res.Unjudged) > 0:
			t.Unjudged++
		case regressed:
			t.Regressed++
		case noise:
			t.Noise++
		case improved:
			t.Improved++
		}
		fmt.Fprintln(w)
	}
	for _, k := range onlyOld {
		fmt.Fprintf(w, "only in %s: %s\n", oldName, k)
	}
	for _, k := range onlyNew {
		fmt.Fprintf(w, "only in %s: %s\n", newName, k)
	}
	fmt.Fprintf(w, "%d configs compared: %d regressed, %d within noise, %d improved, %d not judged; %d only in %s, %d only in %s (max regress %s)\n",
		t.Compared, t.Regressed, t.Noise, t.Improved, t.Unjudged, t.OnlyOld, oldName, t.OnlyNew, newName, pct(o.MaxRegress))
	if t.SingleRun > 0 {
		fmt.Fprintf(w, "note: %d config(s) had one run per side, so their noise is unknown; repeat runs (bench --repeat 3) to tell noise from change\n", t.SingleRun)
	}
	_, err := fmt.Fprint(w)
	return t, err
}

func runs(n int) string {
	if n == 1 {
		return "1 run"
	}
	return strconv.Itoa(n) + " runs"
}

// cell renders the mean, and the min–max range when there are several runs.
func cell(s Stats) string {
	if s.N > 1 {
		return fmt.Sprintf("%s (%s–%s)", num(s.Mean), num(s.Min), num(s.Max))
	}
	return num(s.Mean)
}

// num prints 3 significant digits for small values and whole numbers for
// large ones.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func delta(r Row) string {
	if r.Metric.Loss {
		return fmt.Sprintf("%+.3fpp", r.Delta)
	}
	if math.IsNaN(r.Delta) {
		return "n/a"
	}
	return strings.Replace(fmt.Sprintf("%+.1f%%", 100*r.Delta), "+0.0%", "0.0%", 1)
}

func pct(f float64) string {
	return strconv.FormatFloat(100*f, 'f', -1, 64) + "%"
}
