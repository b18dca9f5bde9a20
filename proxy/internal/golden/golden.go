// Package golden holds the golden-file scaffolding the dialect packages'
// tests share (proxy/openai, proxy/anthropic, proxy/responses): reading a
// file, comparing output with a golden file, rewriting it with -update, and
// deterministic ids. It is imported by tests only.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Read returns the contents of path or fails the test.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Indent marshals v as indented JSON with a final newline.
func Indent(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// CheckJSON marshals got and compares it with the golden file at path as
// JSON values (key order and spacing aside), or rewrites the file with
// -update.
func CheckJSON(t testing.TB, path string, got any) {
	t.Helper()
	Check(t, path, Indent(t, got))
}

// Check compares got with the golden file at path — as JSON values when
// path ends in .json, byte for byte otherwise — or rewrites the file with
// -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if strings.HasSuffix(path, ".json") {
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("got is not JSON: %v", err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if reflect.DeepEqual(g, w) {
			return
		}
	} else if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", path, got, want)
}

// Counter returns a deterministic id source: prefix0001, prefix0002, …
func Counter() func(prefix string) string {
	n := 0
	return func(prefix string) string {
		n++
		return fmt.Sprintf("%s%04d", prefix, n)
	}
}

// IDs returns a deterministic id source: id0001, id0002, …
func IDs() func() string {
	next := Counter()
	return func() string { return next("id") }
}
