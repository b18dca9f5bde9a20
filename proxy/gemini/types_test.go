package gemini

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestUsageOf(t *testing.T) {
	tests := []struct {
		name string
		body string
		want UsageMetadata
		ok   bool
	}{
		{"unary", `{"candidates":[{"content":{"parts":[{"text":"hi"}]}}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":20,"totalTokenCount":27,"thoughtsTokenCount":3}}`,
			UsageMetadata{PromptTokenCount: 7, CandidatesTokenCount: 20, TotalTokenCount: 27, ThoughtsTokenCount: 3}, true},
		{"pretty", "{\n  \"usageMetadata\" :\n {\"promptTokenCount\": 1, \"cachedContentTokenCount\": 4}\n}", UsageMetadata{PromptTokenCount: 1, CachedContentTokenCount: 4}, true},
		{"array stream, last wins", `[{"usageMetadata":{"promptTokenCount":1,"totalTokenCount":1}},{"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":5,"totalTokenCount":6}}]`,
			UsageMetadata{PromptTokenCount: 1, CandidatesTokenCount: 5, TotalTokenCount: 6}, true},
		{"key inside text only", `{"candidates":[{"content":{"parts":[{"text":"say \"usageMetadata\": {}"}]}}]}`, UsageMetadata{}, false},
		{"key inside text and real usage", `{"candidates":[{"content":{"parts":[{"text":"x"}]}}],"usageMetadata":{"promptTokenCount":2},"modelVersion":"\"usageMetadata\": 5"}`, UsageMetadata{PromptTokenCount: 2}, true},
		{"none", `{"candidates":[]}`, UsageMetadata{}, false},
		{"garbage", `not json`, UsageMetadata{}, false},
		{"empty", ``, UsageMetadata{}, false},
	}
	for _, tt := range tests {
		got, ok := UsageOf([]byte(tt.body))
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(tt.want)
		if ok != tt.ok || string(gb) != string(wb) {
			t.Errorf("UsageOf(%s) = %s, %v, want %s, %v", tt.name, gb, ok, wb, tt.ok)
		}
	}
}

func TestResponseTypesDecode(t *testing.T) {
	// Shape of a real gemini-2.5 answer (thought part, then a function call
	// with its signature), trimmed.
	b := []byte(`{"candidates":[{"content":{"parts":[{"text":"**Thinking**","thought":true},
		{"functionCall":{"name":"now","args":{}},"thoughtSignature":"CiIBVKhc7vB+"}],"role":"model"},
		"finishReason":"STOP","index":0}],
		"usageMetadata":{"promptTokenCount":38,"candidatesTokenCount":6,"totalTokenCount":212,
		"promptTokensDetails":[{"modality":"TEXT","tokenCount":38}],"thoughtsTokenCount":168},
		"modelVersion":"gemini-2.5-flash","responseId":"48SHaPHpHKbG-8YPtZCawAk","unknownField":{"x":1}}`)
	var r GenerateContentResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	p := r.Candidates[0].Content.Parts
	if !p[0].Thought || p[1].FunctionCall == nil || p[1].FunctionCall.Name != "now" || p[1].ThoughtSignature != "CiIBVKhc7vB+" || string(p[1].FunctionCall.Args) != "{}" {
		t.Errorf("decoded parts = %+v", p)
	}
	if u, ok := UsageOf(b); !ok || !reflect.DeepEqual(u, *r.UsageMetadata) {
		t.Errorf("UsageOf = %+v, %v, want %+v", u, ok, *r.UsageMetadata)
	}
}
