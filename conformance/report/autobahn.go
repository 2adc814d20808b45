package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wsbench/wsbench/conformance/suite"
)

// AutobahnCase is one case in an Autobahn testsuite index.json: the shape
// CI scripts written for Autobahn's reports parse.
type AutobahnCase struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int64  `json:"duration"` // milliseconds
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

// AutobahnIndex is index.json: agent → case → result.
type AutobahnIndex map[string]map[string]AutobahnCase

// CaseReport is one case's own file (AutobahnCase.ReportFile): the
// verdict with its detail and the wire log.
type CaseReport struct {
	Agent           string   `json:"agent"`
	Case            string   `json:"case"`
	ID              string   `json:"id"`
	Autobahn        string   `json:"autobahn,omitempty"`
	Description     string   `json:"description"`
	Ref             string   `json:"ref"`
	Behavior        string   `json:"behavior"`
	Detail          string   `json:"detail,omitempty"`
	Expected        string   `json:"expected,omitempty"`
	Observed        string   `json:"observed,omitempty"`
	Duration        int64    `json:"duration"`
	RemoteCloseCode *int     `json:"remoteCloseCode"`
	WireLog         []string `json:"wirelog"`
}

// singleCase is an Autobahn case number (not a range such as "2.1-2.4").
var singleCase = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// AutobahnKeys names each entry in index.json: its Autobahn case number
// when it names exactly one and is the last entry to claim it (the table
// cases come after the hand-written ones that check the same behaviour),
// else its own id.
func AutobahnKeys(es []Entry) []string {
	owner := map[string]int{}
	for i, e := range es {
		if singleCase.MatchString(e.Case.Autobahn) {
			owner[e.Case.Autobahn] = i
		}
	}
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Case.ID
		if j, ok := owner[e.Case.Autobahn]; ok && j == i {
			keys[i] = e.Case.Autobahn
		}
	}
	return keys
}

// behavior maps a verdict to Autobahn's word for it (a case not run is
// UNIMPLEMENTED there).
func behavior(v suite.Verdict) string {
	if v == suite.Skipped {
		return "UNIMPLEMENTED"
	}
	return v.String()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// reportFile is the case's file name, as Autobahn names them
// ("agent_case_1_1_1.json").
func reportFile(agent, key string) string {
	return strings.ToLower(unsafeName.ReplaceAllString(agent, "_") + "_case_" + unsafeName.ReplaceAllString(key, "_") + ".json")
}

// WriteAutobahn writes dir/index.json (Autobahn's shape), one JSON file per
// case and a self-contained dir/index.html. The closing verdict covers the
// close handshake too, so behaviorClose repeats behavior.
func WriteAutobahn(dir, agent, url string, started time.Time, es []Entry) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keys := AutobahnKeys(es)
	idx := AutobahnIndex{agent: map[string]AutobahnCase{}}
	for i, e := range es {
		var code *int
		if c := e.Result.RemoteClose; c != 0 {
			code = &c
		}
		b := behavior(e.Result.Verdict)
		file := reportFile(agent, keys[i])
		ms := e.Result.Elapsed.Milliseconds()
		idx[agent][keys[i]] = AutobahnCase{Behavior: b, BehaviorClose: b, Duration: ms, RemoteCloseCode: code, ReportFile: file}
		cr := CaseReport{Agent: agent, Case: keys[i], ID: e.Case.ID, Autobahn: e.Case.Autobahn, Description: e.Case.Title, Ref: e.Case.Ref,
			Behavior: b, Detail: e.Result.Detail, Expected: e.Result.Expected, Observed: e.Result.Observed,
			Duration: ms, RemoteCloseCode: code, WireLog: e.Result.Wire}
		if cr.WireLog == nil {
			cr.WireLog = []string{}
		}
		if err := writeJSONFile(filepath.Join(dir, file), cr); err != nil {
			return err
		}
	}
	if err := writeJSONFile(filepath.Join(dir, "index.json"), idx); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return err
	}
	if err := WriteHTML(f, agent, url, started, es); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return f.Close()
}

func writeJSONFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// ReadAutobahnIndex reads an index.json written by WriteAutobahn.
func ReadAutobahnIndex(r io.Reader) (AutobahnIndex, error) {
	var idx AutobahnIndex
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("autobahn index: %w", err)
	}
	return idx, nil
}

type htmlRow struct {
	ID, Autobahn, Verdict, Class, Title, Ref, Detail string
	MS                                               int64
	Wire                                             []string
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>wsbench conformance: {{.Agent}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.v{font-weight:bold;white-space:nowrap}
.OK{color:#137333}.NON-STRICT{color:#a36200}.INFORMATIONAL{color:#1a5fb4}.SKIPPED{color:#666}.FAILED{color:#c5221f}
tr.FAILED{background:#fdecea}
pre{font-size:12px;background:#f8f8f8;padding:6px;overflow:auto;max-height:30em}
</style></head><body>
<h1>wsbench conformance: {{.Agent}}</h1>
<p>{{.URL}}, started {{.Started}}: <b>{{.Counts}}</b></p>
<table><tr><th>id</th><th>Autobahn</th><th>verdict</th><th>case</th><th>ms</th></tr>
{{range .Rows}}<tr class="{{.Class}}"><td>{{.ID}}</td><td>{{.Autobahn}}</td><td class="v {{.Class}}">{{.Verdict}}</td>
<td>{{.Title}} <small>({{.Ref}})</small>{{if .Detail}}<br><small>{{.Detail}}</small>{{end}}{{if .Wire}}
<details><summary>wire log</summary><pre>{{range .Wire}}{{.}}
{{end}}</pre></details>{{end}}</td><td>{{.MS}}</td></tr>
{{end}}</table></body></html>
`))

// WriteHTML writes a self-contained page (no scripts, no external files)
// with one row per case; FAILED and NON-STRICT rows carry their wire log.
func WriteHTML(w io.Writer, agent, url string, started time.Time, es []Entry) error {
	rows := make([]htmlRow, len(es))
	for i, e := range es {
		v := e.Result.Verdict.String()
		rows[i] = htmlRow{ID: e.Case.ID, Autobahn: e.Case.Autobahn, Verdict: v, Class: v, Title: e.Case.Title, Ref: e.Case.Ref,
			Detail: Detail(e.Result), MS: e.Result.Elapsed.Milliseconds()}
		if e.Result.Verdict == suite.Failed || e.Result.Verdict == suite.NonStrict {
			rows[i].Wire = e.Result.Wire
		}
	}
	return page.Execute(w, map[string]any{
		"Agent": agent, "URL": url, "Started": started.UTC().Format(time.RFC3339),
		"Counts": Count(es).String(), "Rows": rows,
	})
}
