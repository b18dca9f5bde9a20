package gemini

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUsageCountsAgreesWithUsageOf(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	files2, _ := filepath.Glob("testdata/*/*.json")
	seen := 0
	for _, f := range append(files, files2...) {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		u, ok := UsageOf(body)
		p, c, th, ok2 := UsageCounts(body)
		if ok != ok2 {
			t.Errorf("%s: UsageCounts ok = %v, UsageOf ok = %v", f, ok2, ok)
			continue
		}
		if !ok {
			continue
		}
		seen++
		if p != int64(u.PromptTokenCount) || c != int64(u.CandidatesTokenCount) || th != int64(u.ThoughtsTokenCount) {
			t.Errorf("%s: UsageCounts = %d,%d,%d, want %d,%d,%d", f, p, c, th, u.PromptTokenCount, u.CandidatesTokenCount, u.ThoughtsTokenCount)
		}
	}
	if seen == 0 {
		t.Fatal("no fixture with usageMetadata was compared")
	}
}

func TestUsageCountsShapes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		p, c, t int64
		ok      bool
	}{
		{`{"usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 10, "totalTokenCount": 17}}`, 7, 10, 0, true},
		{`[{"usageMetadata":{"promptTokenCount":1}},{"usageMetadata":{"promptTokenCount":2,"thoughtsTokenCount":5,"promptTokensDetails":[{"modality":"TEXT","tokenCount":2}]}}]`, 2, 0, 5, true},
		{`{"candidates":[]}`, 0, 0, 0, false},
		{`{"usageMetadata": null}`, 0, 0, 0, false},
		{`{"usageMetadata": {"promptTokenCount": 3`, 0, 0, 0, false},
	} {
		p, c, th, ok := UsageCounts([]byte(tc.in))
		if p != tc.p || c != tc.c || th != tc.t || ok != tc.ok {
			t.Errorf("UsageCounts(%s) = %d,%d,%d,%v, want %d,%d,%d,%v", tc.in, p, c, th, ok, tc.p, tc.c, tc.t, tc.ok)
		}
	}
}

func BenchmarkUsageCounts(b *testing.B) {
	body, err := os.ReadFile("testdata/native/generateContent.thinking+functionCall.gemini-2.5-pro.json")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		UsageCounts(body)
	}
}
