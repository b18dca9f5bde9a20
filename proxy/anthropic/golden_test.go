package anthropic

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fakePNG is what the fake fetcher serves for https://example.com/cat.png.
var fakePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func fakeFetch(_ context.Context, url string) (*gemini.Blob, error) {
	if url == "https://example.com/cat.png" {
		return &gemini.Blob{MIMEType: "image/png", Data: base64.StdEncoding.EncodeToString(fakePNG)}, nil
	}
	return nil, errors.New("HTTP 404 Not Found")
}

func testOptions() Options {
	return Options{
		ResolveModel: func(name string) (string, error) {
			if name == "claude-sonnet-4-5" {
				return "gemini-2.5-flash", nil
			}
			return name, nil
		},
		Fetch: fakeFetch,
	}
}

// counterIDs makes deterministic ids: toolu_0001, msg_0002, …
func counterIDs() func(string) string {
	n := 0
	return func(prefix string) string {
		n++
		return fmt.Sprintf("%s%04d", prefix, n)
	}
}

func testMeta() Meta { return Meta{Model: "claude-test", NewID: counterIDs()} }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares got with the golden file (JSON semantically, any
// other bytes exactly), or rewrites the file with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
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
	t.Errorf("%s differs; got:\n%s", path, got)
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenRequests translates the hand-written requests in
// testdata/golden/request and the real Claude Code captures in
// testdata/claude-code.
func TestGoldenRequests(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/golden/request/*.json")
	cc, _ := filepath.Glob("testdata/claude-code/*.json")
	inputs = append(inputs, cc...)
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		if strings.Contains(in, "claude-code") {
			name = "claude-code." + name
		}
		t.Run(name, func(t *testing.T) {
			req, err := ParseRequest(readFile(t, in))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := ToGemini(context.Background(), req, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata/golden/request", name+".gemini.golden.json"), indent(t, tr))
		})
	}
	if n < 5 {
		t.Fatalf("only %d request cases", n)
	}
}

// TestGoldenResponses translates every captured generateContent answer.
func TestGoldenResponses(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*.json")
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "error.") {
			continue
		}
		t.Run(base, func(t *testing.T) {
			resp, err := FromGeminiJSON(readFile(t, f), testMeta())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata/golden/response", strings.TrimSuffix(base, ".json")+".golden.json"), indent(t, resp))
		})
	}
}

// sseData returns the data of each event of an SSE capture.
func sseData(raw []byte) [][]byte {
	var out [][]byte
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			out = append(out, bytes.TrimSpace(d))
		}
	}
	return out
}

// streamOf translates a whole SSE capture.
func streamOf(t *testing.T, raw []byte, meta Meta) []byte {
	t.Helper()
	st := NewStreamTranslator(meta)
	var out []byte
	for _, d := range sseData(raw) {
		var err error
		if out, err = st.Translate(out, d); err != nil {
			t.Fatal(err)
		}
	}
	return st.Finish(out)
}

// TestGoldenStreams translates every captured stream; the golden files are
// the exact bytes the client gets.
func TestGoldenStreams(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*.sse.txt")
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			got := streamOf(t, readFile(t, f), testMeta())
			checkGolden(t, filepath.Join("testdata/golden/stream", strings.TrimSuffix(base, ".sse.txt")+".golden.sse"), got)
		})
	}
}

// TestGoldenErrors maps Google's captured error answers.
func TestGoldenErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/error.*.json")
	var got []any
	for _, f := range files {
		var status int
		fmt.Sscanf(strings.TrimPrefix(filepath.Base(f), "error."), "%d", &status)
		e := FromGeminiError(status, readFile(t, f))
		b, _ := e.MarshalJSON()
		got = append(got, map[string]any{"fixture": filepath.Base(f), "status": e.Status, "body": json.RawMessage(b)})
	}
	if len(got) == 0 {
		t.Fatal("no error fixtures")
	}
	checkGolden(t, "testdata/golden/response/errors.golden.json", indent(t, got))
}
