// Package report writes conformance results: one text line per case with a
// closing summary line, JUnit XML for CI, and JSON that ReadJSON reads back.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wsbench/wsbench/conformance/suite"
)

// Entry is one case with its result.
type Entry struct {
	Case   suite.Case
	Result suite.Result
}

// Counts is the closing summary; Passed counts OK, NON-STRICT and
// INFORMATIONAL.
type Counts struct{ Passed, Failed, Skipped int }

// Count sums entries by verdict.
func Count(es []Entry) Counts {
	var c Counts
	for _, e := range es {
		switch e.Result.Verdict {
		case suite.Failed:
			c.Failed++
		case suite.Skipped:
			c.Skipped++
		default:
			c.Passed++
		}
	}
	return c
}

// String is the closing line, e.g. "40 passed, 1 failed, 3 skipped".
func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.Passed, c.Failed, c.Skipped)
}

// Detail is the free-text part of a line: the detail, and for FAILED and
// NON-STRICT the expected and observed behaviour.
func Detail(r suite.Result) string {
	var parts []string
	if r.Detail != "" {
		parts = append(parts, r.Detail)
	}
	if r.Expected != "" || r.Observed != "" {
		parts = append(parts, fmt.Sprintf("expected %s; observed %s", r.Expected, r.Observed))
	}
	return strings.Join(parts, " / ")
}

// Line formats one case as printed: "ID  VERDICT  title  [detail]".
func Line(e Entry) string {
	s := fmt.Sprintf("%-8s  %-13s  %s", e.Case.ID, e.Result.Verdict, e.Case.Title)
	if d := Detail(e.Result); d != "" {
		s += "  [" + d + "]"
	}
	return s
}

// WriteText writes every line and then the closing line.
func WriteText(w io.Writer, es []Entry) error {
	for _, e := range es {
		if _, err := fmt.Fprintln(w, Line(e)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, Count(es))
	return err
}

// junit types follow the common JUnit XML schema (testsuite/testcase).
type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes es as one JUnit <testsuite>. NON-STRICT and
// INFORMATIONAL cases pass, with their verdict and detail in <system-out>.
func WriteJUnit(w io.Writer, name string, es []Entry) error {
	c := Count(es)
	js := junitSuite{Name: name, Tests: len(es), Failures: c.Failed, Skipped: c.Skipped}
	var total time.Duration
	for _, e := range es {
		total += e.Result.Elapsed
		jc := junitCase{
			Name:      e.Case.ID + " " + e.Case.Title,
			Classname: "conformance." + e.Case.Group,
			Time:      secs(e.Result.Elapsed),
		}
		d := Detail(e.Result)
		switch e.Result.Verdict {
		case suite.Failed:
			jc.Failure = &junitMessage{Message: d, Text: e.Case.Ref + ": " + d}
		case suite.Skipped:
			jc.Skipped = &junitMessage{Message: d}
		default:
			jc.SystemOut = strings.TrimSpace(e.Result.Verdict.String() + " " + e.Case.Ref + " " + d)
		}
		js.Cases = append(js.Cases, jc)
	}
	js.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(js); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// JSONCase is one case in the JSON report.
type JSONCase struct {
	ID        string  `json:"id"`
	Group     string  `json:"group"`
	Title     string  `json:"title"`
	Ref       string  `json:"ref"`
	Autobahn  string  `json:"autobahn,omitempty"`
	Verdict   string  `json:"verdict"`
	Detail    string  `json:"detail,omitempty"`
	Expected  string  `json:"expected,omitempty"`
	Observed  string  `json:"observed,omitempty"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

// JSONReport is the whole JSON report.
type JSONReport struct {
	Tool    string     `json:"tool"`
	URL     string     `json:"url"`
	Started string     `json:"started"`
	Passed  int        `json:"passed"`
	Failed  int        `json:"failed"`
	Skipped int        `json:"skipped"`
	Cases   []JSONCase `json:"cases"`
}

// NewJSON builds the JSON report for es.
func NewJSON(url string, started time.Time, es []Entry) JSONReport {
	c := Count(es)
	r := JSONReport{Tool: "wsbench-conformance", URL: url, Started: started.UTC().Format(time.RFC3339),
		Passed: c.Passed, Failed: c.Failed, Skipped: c.Skipped, Cases: []JSONCase{}}
	for _, e := range es {
		r.Cases = append(r.Cases, JSONCase{
			ID: e.Case.ID, Group: e.Case.Group, Title: e.Case.Title, Ref: e.Case.Ref, Autobahn: e.Case.Autobahn,
			Verdict: e.Result.Verdict.String(), Detail: e.Result.Detail,
			Expected: e.Result.Expected, Observed: e.Result.Observed,
			ElapsedMS: float64(e.Result.Elapsed.Microseconds()) / 1000,
		})
	}
	return r
}

// WriteJSON writes r indented.
func WriteJSON(w io.Writer, r JSONReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(r io.Reader) (JSONReport, error) {
	var rep JSONReport
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return rep, fmt.Errorf("conformance report: %w", err)
	}
	return rep, nil
}
