package report

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/suite"
)

func TestAutobahnKeys(t *testing.T) {
	t.Parallel()
	es := []Entry{
		{Case: suite.Case{ID: "PV-08", Autobahn: "6.4.1"}},
		{Case: suite.Case{ID: "PP-01", Autobahn: "2.1-2.4"}},
		{Case: suite.Case{ID: "HS-01"}},
		{Case: suite.Case{ID: "UT-010", Autobahn: "6.4.1"}},
	}
	want := []string{"PV-08", "PP-01", "HS-01", "6.4.1"}
	if got := AutobahnKeys(es); !reflect.DeepEqual(got, want) {
		t.Errorf("AutobahnKeys = %q; want %q (the last claimant of a single case number owns it, ranges keep their id)", got, want)
	}
}

// TestWriteAutobahn: index.json has Autobahn's shape and reads back, every
// reportfile exists and holds the wire log, and the HTML page is
// self-contained, escaped, and shows the wire log of the failure.
func TestWriteAutobahn(t *testing.T) {
	t.Parallel()
	es := sample()
	es[0].Case.Autobahn = "1.1.1"
	es[4].Result.Wire = []string{"0.1ms :1 → text masked 3 bytes \"<x>\"", "0.2ms :1 ← close 2 bytes: code 1005"}
	es[4].Result.RemoteClose = 1005
	dir := t.TempDir()
	if err := WriteAutobahn(dir, "my server", "ws://h/", time.Unix(0, 0), es); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := ReadAutobahnIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	cases := idx["my server"]
	if len(cases) != len(es) {
		t.Fatalf("index has %d cases; want %d: %v", len(cases), len(es), idx)
	}
	want := map[string]string{"1.1.1": "OK", "MS-09": "NON-STRICT", "HS-08": "INFORMATIONAL", "PP-05": "UNIMPLEMENTED", "CL-10": "FAILED"}
	for key, b := range want {
		c, ok := cases[key]
		if !ok || c.Behavior != b || c.BehaviorClose != b {
			t.Errorf("case %s = %+v; want behavior %s", key, c, b)
		}
		if _, err := os.Stat(filepath.Join(dir, c.ReportFile)); err != nil {
			t.Errorf("case %s: reportfile: %v", key, err)
		}
	}
	if c := cases["CL-10"]; c.RemoteCloseCode == nil || *c.RemoteCloseCode != 1005 || c.ReportFile != "my_server_case_cl_10.json" {
		t.Errorf("CL-10 = %+v; want remoteCloseCode 1005, reportfile my_server_case_cl_10.json", c)
	}
	if c := cases["1.1.1"]; c.RemoteCloseCode != nil {
		t.Errorf("1.1.1 remoteCloseCode = %d; want null (no close seen)", *c.RemoteCloseCode)
	}
	b, err := os.ReadFile(filepath.Join(dir, "my_server_case_cl_10.json"))
	if err != nil || !strings.Contains(string(b), "code 1005") {
		t.Errorf("CL-10's report file lacks its wire log: %s %v", b, err)
	}
	h, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(h)
	for _, s := range []string{"&lt;x&gt;", "title of CL-10 &lt;&amp;&gt;", "3 passed, 1 failed, 1 skipped", "<details>"} {
		if !strings.Contains(page, s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "src=") || strings.Contains(page, "<x>") {
		t.Error("index.html must be self-contained and escaped")
	}
}
