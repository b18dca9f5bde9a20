package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// testAliases is the alias table of the request golden tests.
var testAliases = map[string]string{"gpt-4o-mini": "gemini-2.5-flash"}

// fakePNG is a 1×1 PNG, what the fake image fetcher serves.
var fakePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

// fakeFetch serves fakePNG typed as the proxy's fetcher would (it sniffs
// the type when the server gives none), and a JPEG with a parameter.
func fakeFetch(_ context.Context, url string) (*gemini.Blob, error) {
	switch url {
	case "https://example.com/cat.png":
		return &gemini.Blob{MIMEType: "image/png", Data: base64.StdEncoding.EncodeToString(fakePNG)}, nil
	case "https://example.com/typed.jpg":
		return &gemini.Blob{MIMEType: "image/jpeg; charset=binary", Data: base64.StdEncoding.EncodeToString([]byte{0xff, 0xd8, 0xff})}, nil
	}
	return nil, errors.New("HTTP 404 Not Found")
}

func testRequestOptions() RequestOptions {
	return RequestOptions{Aliases: testAliases, FetchImage: fakeFetch}
}

func testMeta() ResponseMeta {
	return ResponseMeta{Created: 1700000000, NewID: golden.IDs()}
}

// sseEvents splits an SSE capture into the data of its events.
func sseEvents(t testing.TB, raw []byte) [][]byte {
	t.Helper()
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	var out [][]byte
	for _, block := range bytes.Split(raw, []byte("\n\n")) {
		block = bytes.TrimSpace(block)
		if len(block) == 0 {
			continue
		}
		var data []byte
		for _, line := range bytes.Split(block, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				data = append(data, bytes.TrimPrefix(d, []byte(" "))...)
			}
		}
		if data == nil {
			t.Fatalf("SSE block without data: %q", block)
		}
		out = append(out, data)
	}
	return out
}

type requestGolden struct {
	Model        string                         `json:"model"`
	Stream       bool                           `json:"stream"`
	IncludeUsage bool                           `json:"include_usage"`
	Body         *gemini.GenerateContentRequest `json:"body"`
}

func TestGoldenRequests(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/request/*.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			req, err := ParseChatRequest(golden.Read(t, f))
			if err != nil {
				t.Fatalf("ParseChatRequest(%s) = %v", name, err)
			}
			tr, err := ToGemini(context.Background(), req, testRequestOptions())
			if err != nil {
				t.Fatalf("ToGemini(%s) = %v", name, err)
			}
			golden.CheckJSON(t, strings.TrimSuffix(f, ".json")+".gemini.golden.json",
				requestGolden{tr.Model, tr.Stream, tr.IncludeUsage, tr.Body})
		})
	}
	if n == 0 {
		t.Fatal("no request cases")
	}
}

// responseFixtures are the unary Gemini answers turned into golden
// completions.
var responseFixtures = []string{
	"generateContent.text.gemini-2.0-flash.json",
	"generateContent.thinking-reply.json",
	"generateContent.thinking+functionCall.gemini-2.5-pro.json",
	"generateContent.functionCall.gemini-2.0-flash.recorded.json",
	"generateContent.finishReason-SAFETY.json",
	"generateContent.gemini-2.5-flash.recorded.json",
	"generateContent.promptFeedback-only.json",
	"generateContent.finishReason-OTHER-no-content.json",
	"fb.unary-success-code-execution.json",
	"gajs.unary-failure-prompt-blocked-safety.json",
	"gajs.unary-failure-empty-content.json",
}

func TestGoldenResponses(t *testing.T) {
	for _, name := range responseFixtures {
		t.Run(name, func(t *testing.T) {
			got, err := FromGeminiJSON(golden.Read(t, "testdata/gemini/"+name), testMeta())
			if err != nil {
				t.Fatalf("FromGeminiJSON(%s) = %v", name, err)
			}
			golden.CheckJSON(t, "testdata/golden/response/"+strings.TrimSuffix(name, ".json")+".golden.json", got)
		})
	}
}

// streamFixtures are the Gemini SSE captures turned into golden chunk
// sequences.
var streamFixtures = []string{
	"streamGenerateContent.basic.sse.txt",
	"streamGenerateContent.thinking-reply.sse.txt",
	"streamGenerateContent.thinking+functionCall.sse.txt",
	"streamGenerateContent.functionCall.gemini-2.0-flash.sse.txt",
	"streamGenerateContent.functionCall.gemini-1.x.sse.txt",
	"streamGenerateContent.gemini-2.5-flash.MAX_TOKENS.sse.txt",
	"streamGenerateContent.gemini-2.5-flash.STOP.sse.txt",
	"streamGenerateContent.prompt-blocked.sse.txt",
	"fb.streaming-success-empty-parts.txt",
	"fb.streaming-success-no-content-parts.txt",
	"fb.streaming-failure-recitation-no-content.txt",
	"fb.streaming-success-code-execution.txt",
	"fb.streaming-success-finish-message.txt",
}

func translateStream(t testing.TB, raw []byte, includeUsage bool) []ChatCompletionChunk {
	t.Helper()
	st := NewStreamTranslator(testMeta(), includeUsage)
	var all []ChatCompletionChunk
	for _, ev := range sseEvents(t, raw) {
		chunks, err := st.Translate(ev)
		if err != nil {
			t.Fatalf("Translate(%.60s…) = %v", ev, err)
		}
		all = append(all, chunks...)
	}
	return append(all, st.Finish()...)
}

func TestGoldenStreams(t *testing.T) {
	for _, name := range streamFixtures {
		t.Run(name, func(t *testing.T) {
			got := translateStream(t, golden.Read(t, "testdata/gemini/"+name), true)
			golden.CheckJSON(t, "testdata/golden/stream/"+strings.TrimSuffix(name, ".txt")+".golden.json", got)
		})
	}
}
