package anthropic

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gemini-balance/desktop/proxy/internal/golden"
	"github.com/gemini-balance/desktop/proxy/openai"
)

// The benchmarks run the translation as the server does (openai's fast
// Gemini decoder, AppendJSON).

// benchRequest is what build/bench sends (a Claude Code-like prompt
// without tools).
var benchRequest = []byte(`{"model":"gemini-2.5-flash","max_tokens":32000,"system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"What is the capital of Wyoming?"}]}],"temperature":0.2,"metadata":{"user_id":"bench"}}`)

func BenchmarkRequest(b *testing.B) {
	cases := map[string][]byte{"bench": benchRequest, "claude-code.turn2": golden.Read(b, "testdata/claude-code/messages.turn2.json")}
	for name, data := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := ParseRequest(data)
				if err != nil {
					b.Fatal(err)
				}
				tr, err := ToGemini(context.Background(), req, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(tr.Body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkResponse(b *testing.B) {
	for _, name := range []string{"generateContent.text.gemini-2.0-flash.json", "generateContent.thinking+functionCall.gemini-2.5-pro.json"} {
		data := golden.Read(b, "testdata/gemini/"+name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := FromGeminiJSON(data, Meta{Model: "m", Decode: openai.DecodeAnswer})
				if err != nil {
					b.Fatal(err)
				}
				r.AppendJSON(nil)
			}
		})
	}
}

func BenchmarkStream(b *testing.B) {
	for _, name := range []string{"streamGenerateContent.basic.sse.txt", "streamGenerateContent.thinking+functionCall.sse.txt"} {
		events := sseData(golden.Read(b, "testdata/gemini/"+name))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				st := NewStreamTranslator(Meta{Model: "m", Decode: openai.DecodeAnswer})
				for _, ev := range events {
					var err error
					if buf, err = st.Translate(buf[:0], ev); err != nil {
						b.Fatal(err)
					}
				}
				buf = st.Finish(buf[:0])
			}
		})
	}
}
