package nats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Write writes the merged report as JSON in the report schema, with the
// agents' clocks added as generator.agents (readers of the schema that do
// not know the field ignore it).
func (o *Outcome) Write(w io.Writer) error {
	var buf bytes.Buffer
	if err := o.Report.Write(&buf); err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		return fmt.Errorf("annotate report: %w", err)
	}
	if g, ok := m["generator"].(map[string]any); ok {
		g["agents"] = o.Clocks
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// WriteFile writes the annotated report to path.
func (o *Outcome) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := o.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
