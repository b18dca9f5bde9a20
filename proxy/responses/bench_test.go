package responses

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// The translation's own cost per request, beside the proxy's (the
// end-to-end targets are in go run ./build/bench).

const benchRequest = `{"model":"gemini-2.5-flash","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"What is the capital of Wyoming?"}]}],"temperature":0.2,"store":false,"include":["reasoning.encrypted_content"],"stream":true}`

func BenchmarkRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		req, err := ParseRequest([]byte(benchRequest))
		if err != nil {
			b.Fatal(err)
		}
		tr, err := ToGemini(context.Background(), req, RequestOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(tr.Body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponse(b *testing.B) {
	body := golden.Read(b, "testdata/gemini/generateContent.text.gemini-2.0-flash.json")
	b.ReportAllocs()
	for b.Loop() {
		r, err := FromGeminiJSON(body, ResponseMeta{Model: "m"})
		if err != nil {
			b.Fatal(err)
		}
		_ = r.AppendJSON(nil)
	}
}

func BenchmarkStream(b *testing.B) {
	chunks := sseData(golden.Read(b, "testdata/gemini/streamGenerateContent.gemini-2.5-flash.MAX_TOKENS.sse.txt"))
	b.ReportAllocs()
	buf := make([]byte, 0, 8192)
	for b.Loop() {
		st := NewStreamTranslator(ResponseMeta{Model: "m"})
		for _, c := range chunks {
			evs, err := st.Translate(c)
			if err != nil {
				b.Fatal(err)
			}
			buf = buf[:0]
			for i := range evs {
				buf = evs[i].AppendSSE(buf)
			}
		}
		buf = buf[:0]
		for _, e := range st.Finish() {
			buf = e.AppendSSE(buf)
		}
	}
}
