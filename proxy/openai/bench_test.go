package openai

import (
	"context"
	"encoding/json"
	"testing"
)

func BenchmarkRequest(b *testing.B) {
	for _, name := range []string{"basic-system-developer", "tools-roundtrip", "json-schema"} {
		data := readFile(b, "testdata/golden/request/"+name+".json")
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := ParseChatRequest(data)
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
		})
	}
}

func BenchmarkResponse(b *testing.B) {
	for _, name := range []string{"generateContent.text.gemini-2.0-flash.json", "generateContent.thinking+functionCall.gemini-2.5-pro.json"} {
		data := readFile(b, "testdata/gemini/"+name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := FromGeminiJSON(data, ResponseMeta{Model: "m", Created: 1})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStream(b *testing.B) {
	for _, name := range []string{"streamGenerateContent.gemini-2.5-flash.STOP.sse.txt", "streamGenerateContent.thinking+functionCall.sse.txt"} {
		events := sseEvents(b, readFile(b, "testdata/gemini/"+name))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st := NewStreamTranslator(ResponseMeta{Model: "m", Created: 1}, true)
				for _, ev := range events {
					chunks, err := st.Translate(ev)
					if err != nil {
						b.Fatal(err)
					}
					for i := range chunks {
						if _, err := json.Marshal(&chunks[i]); err != nil {
							b.Fatal(err)
						}
					}
				}
				for _, c := range st.Finish() {
					if _, err := json.Marshal(&c); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
