package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

func BenchmarkRequest(b *testing.B) {
	for _, name := range []string{"basic-system-developer", "tools-roundtrip", "json-schema"} {
		data := golden.Read(b, "testdata/golden/request/"+name+".json")
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
		data := golden.Read(b, "testdata/gemini/"+name)
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
		events := sseEvents(b, golden.Read(b, "testdata/gemini/"+name))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				translateAndMarshal(b, ResponseMeta{Model: "m", Created: 1}, events)
			}
		})
	}
}

// translateAndMarshal runs one stream through a StreamTranslator and
// marshals every chunk, as the server does.
func translateAndMarshal(b *testing.B, meta ResponseMeta, events [][]byte) {
	st := NewStreamTranslator(meta, true)
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

// fullSignatureCache returns a cache filled to its entry bound with
// signatures of a realistic size, as on a busy proxy.
func fullSignatureCache() *SignatureCache {
	c := NewSignatureCache(SignatureCacheOptions{})
	sig := strings.Repeat("S", 1024)
	for i := range DefaultSignatureEntries {
		c.Remember(fmt.Sprintf("call_%024d", i), sig)
	}
	return c
}

// BenchmarkSignatures is BenchmarkRequest, BenchmarkResponse and
// BenchmarkStream with a full SignatureCache, as the server runs them:
// compare with the same names without it.
func BenchmarkSignatures(b *testing.B) {
	sigs := fullSignatureCache()
	sigs.Remember("call_c", "CiIBVKhc7vB+vaaq6rA/KC79Ts7iXagIOA4EBOyBFDpl+pxP")
	b.Run("Request/tools-roundtrip", func(b *testing.B) {
		data := golden.Read(b, "testdata/golden/request/tools-roundtrip.json")
		b.ReportAllocs()
		for b.Loop() {
			req, err := ParseChatRequest(data)
			if err != nil {
				b.Fatal(err)
			}
			tr, err := ToGemini(context.Background(), req, RequestOptions{Signatures: sigs})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(tr.Body); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"generateContent.text.gemini-2.0-flash.json", "generateContent.thinking+functionCall.gemini-2.5-pro.json"} {
		data := golden.Read(b, "testdata/gemini/"+name)
		b.Run("Response/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := FromGeminiJSON(data, ResponseMeta{Model: "m", Created: 1, Signatures: sigs})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	events := sseEvents(b, golden.Read(b, "testdata/gemini/streamGenerateContent.thinking+functionCall.sse.txt"))
	b.Run("Stream/streamGenerateContent.thinking+functionCall.sse.txt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			translateAndMarshal(b, ResponseMeta{Model: "m", Created: 1, Signatures: sigs}, events)
		}
	})
}

// BenchmarkSignatureCache measures Remember and Lookup under contention.
func BenchmarkSignatureCache(b *testing.B) {
	sigs := fullSignatureCache()
	sig := strings.Repeat("S", 1024)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			id := fmt.Sprintf("call_%024d", i%DefaultSignatureEntries)
			if i%2 == 0 {
				sigs.Remember(id, sig)
			} else {
				sigs.Lookup(id)
			}
			i++
		}
	})
}
