//go:build goexperiment.jsonv2

package openai

import (
	jsonv2 "encoding/json/v2"
	"testing"

	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// BenchmarkJSONv2 measures encoding/json/v2 on the paths the hand-written
// JSON serves (decoding a Gemini event and answer, encoding a chunk), for
// comparison with BenchmarkDecodeAnswer and BenchmarkChunkJSON. Go 1.26
// has json/v2 only with GOEXPERIMENT=jsonv2:
//
//	GOEXPERIMENT=jsonv2 go test -run '^$' -bench 'DecodeAnswer|ChunkJSON|JSONv2' ./proxy/openai
func BenchmarkJSONv2(b *testing.B) {
	event := sseEvents(b, golden.Read(b, "testdata/gemini/streamGenerateContent.gemini-2.5-flash.STOP.sse.txt"))[0]
	body := golden.Read(b, "testdata/gemini/generateContent.thinking+functionCall.gemini-2.5-pro.json")
	for name, data := range map[string][]byte{"event": event, "answer": body} {
		b.Run("decode-"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var ev streamEvent
				if err := jsonv2.Unmarshal(data, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	text := "The capital of Wyoming is **Cheyenne**.\n"
	stop := "stop"
	c := ChatCompletionChunk{ID: "chatcmpl-abc", Object: "chat.completion.chunk", Created: 1700000000, Model: "gemini-2.5-flash",
		Choices: []ChunkChoice{{Delta: Delta{Content: &text}, FinishReason: &stop}}}
	b.Run("encode-chunk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jsonv2.Marshal(&c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
