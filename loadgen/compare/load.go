package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/wsbench/wsbench/loadgen/report"
)

// Key is what reports are matched by: the folder they were found in below
// the directory given on the command line (the server and kind of run, e.g.
// "matrix/ours"; empty for a file given directly) and the load they ran.
type Key struct {
	Group   string
	Clients int
	Senders int
	Rate    float64
	Size    int
}

// KeyOf returns the key of r found in group.
func KeyOf(group string, r *report.Report) Key {
	return Key{Group: group, Clients: r.Config.Clients, Senders: r.Config.Senders, Rate: r.Config.Rate, Size: r.Config.Size}
}

// String renders k as "matrix/ours clients=100 senders=100 rate=200/s size=64B".
func (k Key) String() string {
	var b strings.Builder
	if k.Group != "" {
		b.WriteString(k.Group)
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "clients=%d senders=%d rate=%s/s size=%dB", k.Clients, k.Senders, strconv.FormatFloat(k.Rate, 'f', -1, 64), k.Size)
	return b.String()
}

// less orders keys by group, then clients, senders, rate and size.
func (k Key) less(o Key) bool {
	switch {
	case k.Group != o.Group:
		return k.Group < o.Group
	case k.Clients != o.Clients:
		return k.Clients < o.Clients
	case k.Senders != o.Senders:
		return k.Senders < o.Senders
	case k.Rate != o.Rate:
		return k.Rate < o.Rate
	default:
		return k.Size < o.Size
	}
}

// Entry is one report and where it came from.
type Entry struct {
	Path   string
	Key    Key
	Report *report.Report
}

// ErrNoReports is returned by Load for a directory holding no reports.
var ErrNoReports = errors.New("compare: no loadgen reports found")

// Load reads path: a report file, or a directory searched recursively for
// *.json files that are loadgen reports (other JSON files, such as the
// bench's runs.json, are skipped). Entries are sorted by key, then path.
func Load(path string) ([]Entry, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		r, err := report.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return []Entry{{Path: path, Key: KeyOf("", r), Report: r}}, nil
	}
	var out []Entry
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		if !isReport(p) {
			return nil
		}
		r, err := report.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(path, filepath.Dir(p))
		if err != nil {
			return err
		}
		group := filepath.ToSlash(rel)
		if group == "." {
			group = ""
		}
		out = append(out, Entry{Path: p, Key: KeyOf(group, r), Report: r})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoReports)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key.less(out[j].Key)
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// isReport reports whether the JSON file at path says it is a loadgen
// report (its "tool" field), so that other JSON in a results directory —
// the bench's runs.json, abuse or soak results — is skipped, whatever its
// shape.
func isReport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head struct {
		Tool string `json:"tool"`
	}
	return json.NewDecoder(f).Decode(&head) == nil && head.Tool == report.Tool
}

// Pair is the reports of one key on both sides; Old or New is empty when the
// key was found on one side only.
type Pair struct {
	Key      Key
	Old, New []*report.Report
}

// Match groups old and new entries by key, in key order. Two single files
// (both with an empty group) are always paired, whatever their configs.
func Match(old, new []Entry) []Pair {
	if len(old) == 1 && len(new) == 1 && old[0].Key.Group == "" && new[0].Key.Group == "" {
		return []Pair{{Key: new[0].Key, Old: []*report.Report{old[0].Report}, New: []*report.Report{new[0].Report}}}
	}
	byKey := map[Key]*Pair{}
	var keys []Key
	add := func(es []Entry, isNew bool) {
		for _, e := range es {
			p, ok := byKey[e.Key]
			if !ok {
				p = &Pair{Key: e.Key}
				byKey[e.Key] = p
				keys = append(keys, e.Key)
			}
			if isNew {
				p.New = append(p.New, e.Report)
			} else {
				p.Old = append(p.Old, e.Report)
			}
		}
	}
	add(old, false)
	add(new, true)
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	out := make([]Pair, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}
