package openai

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// fakeClock is a settable clock for SignatureCacheOptions.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// checkInvariants walks the list both ways and checks it against the map
// and the byte count.
func checkInvariants(t *testing.T, c *SignatureCache) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n, bytes := 0, int64(0)
	var prev *sigEntry
	for e := c.head; e != nil; e = e.next {
		if e.prev != prev {
			t.Fatalf("entry %q: prev link broken", e.id)
		}
		if c.byID[e.id] != e {
			t.Fatalf("entry %q is in the list but not in the map", e.id)
		}
		n++
		bytes += e.size()
		prev = e
	}
	if prev != c.tail {
		t.Fatalf("tail is not the last entry of the list")
	}
	if n != len(c.byID) {
		t.Fatalf("list holds %d entries, map %d", n, len(c.byID))
	}
	if bytes != c.bytes {
		t.Fatalf("bytes = %d, want the sum of the entries %d", c.bytes, bytes)
	}
	if n > c.maxEntries || c.bytes > c.maxBytes {
		t.Fatalf("cache holds %d entries / %d bytes, bounds %d / %d", n, c.bytes, c.maxEntries, c.maxBytes)
	}
}

func wantLookup(t *testing.T, c *SignatureCache, id, want string) {
	t.Helper()
	got, ok := c.Lookup(id)
	if want == "" {
		if ok {
			t.Errorf("Lookup(%q) = %.20q, true, want a miss", id, got)
		}
		return
	}
	if !ok || got != want {
		t.Errorf("Lookup(%q) = %.20q, %v, want %.20q, true", id, got, ok, want)
	}
}

func TestSignatureCacheBasics(t *testing.T) {
	c := NewSignatureCache(SignatureCacheOptions{})
	if c.maxEntries != DefaultSignatureEntries || c.maxBytes != DefaultSignatureBytes || c.ttl != DefaultSignatureTTL {
		t.Errorf("defaults = %d entries, %d bytes, %v, want %d, %d, %v", c.maxEntries, c.maxBytes, c.ttl,
			DefaultSignatureEntries, DefaultSignatureBytes, DefaultSignatureTTL)
	}
	c.Remember("call_a", "sigA")
	c.Remember("call_b", "sigB")
	c.Remember("", "sigX")   // ignored
	c.Remember("call_c", "") // ignored
	wantLookup(t, c, "call_a", "sigA")
	wantLookup(t, c, "call_b", "sigB")
	wantLookup(t, c, "call_c", "")
	wantLookup(t, c, "", "")
	c.Remember("call_a", "sigA2-longer")
	wantLookup(t, c, "call_a", "sigA2-longer")
	if got := c.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2", got)
	}
	if got, want := c.Bytes(), int64(len("call_a")+len("sigA2-longer")+len("call_b")+len("sigB")+2*sigEntryOverhead); got != want {
		t.Errorf("Bytes() = %d, want %d", got, want)
	}
	checkInvariants(t, c)

	var off *SignatureCache
	off.Remember("call_a", "sig")
	if s, ok := off.Lookup("call_a"); ok || s != "" || off.Len() != 0 || off.Bytes() != 0 {
		t.Errorf("nil cache Lookup = %q, %v, want a miss", s, ok)
	}
}

func TestSignatureCacheMaxEntries(t *testing.T) {
	c := NewSignatureCache(SignatureCacheOptions{MaxEntries: 3})
	for _, id := range []string{"a", "b", "c"} {
		c.Remember(id, "sig-"+id)
	}
	wantLookup(t, c, "a", "sig-a") // a is now the most recent; b the least
	c.Remember("d", "sig-d")
	wantLookup(t, c, "b", "")
	for _, id := range []string{"a", "c", "d"} {
		wantLookup(t, c, id, "sig-"+id)
	}
	if got := c.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3", got)
	}
	// Re-remembering an id does not grow the table.
	c.Remember("c", "sig-c2")
	if got := c.Len(); got != 3 {
		t.Errorf("Len() after an update = %d, want 3", got)
	}
	for i := range 1000 {
		c.Remember(fmt.Sprintf("call_%d", i), "sig")
	}
	if got := c.Len(); got != 3 {
		t.Errorf("Len() after 1000 more = %d, want 3", got)
	}
	wantLookup(t, c, "call_999", "sig")
	wantLookup(t, c, "call_996", "")
	checkInvariants(t, c)
}

func TestSignatureCacheMaxBytes(t *testing.T) {
	const limit = 1 << 20
	c := NewSignatureCache(SignatureCacheOptions{MaxBytes: limit})
	sig := strings.Repeat("S", 8<<10) // Gemini 3 signatures run to kilobytes
	for i := range 1000 {
		c.Remember(fmt.Sprintf("call_%04d", i), sig)
		if b := c.Bytes(); b > limit {
			t.Fatalf("after %d signatures Bytes() = %d, want ≤ %d", i+1, b, limit)
		}
	}
	per := int64(len("call_0000")+len(sig)) + sigEntryOverhead
	if got, want := c.Len(), int(limit/per); got != want {
		t.Errorf("Len() = %d, want %d (as many as fit in %d bytes)", got, want, limit)
	}
	wantLookup(t, c, "call_0999", sig)
	wantLookup(t, c, "call_0000", "")
	checkInvariants(t, c)

	// A signature larger than the whole budget is not kept, and does not
	// leave an older one behind for its id.
	c.Remember("call_0999", strings.Repeat("L", limit))
	wantLookup(t, c, "call_0999", "")
	if b := c.Bytes(); b > limit {
		t.Errorf("Bytes() = %d, want ≤ %d", b, limit)
	}
	// Growing an entry in place evicts others to stay in budget.
	c.Remember("call_0998", strings.Repeat("G", limit/2))
	wantLookup(t, c, "call_0998", strings.Repeat("G", limit/2))
	checkInvariants(t, c)
}

func TestSignatureCacheTTL(t *testing.T) {
	clock := newFakeClock()
	c := NewSignatureCache(SignatureCacheOptions{TTL: time.Hour, Now: clock.Now})
	c.Remember("old", "sig-old")
	c.Remember("used", "sig-used")
	clock.Advance(50 * time.Minute)
	wantLookup(t, c, "used", "sig-used") // a hit restarts its age
	clock.Advance(20 * time.Minute)
	wantLookup(t, c, "old", "") // 70 minutes idle
	wantLookup(t, c, "used", "sig-used")
	if got := c.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1 (the expired entry dropped by Lookup)", got)
	}

	// Remember drops expired entries from the old end without a Lookup.
	for i := range 100 {
		c.Remember(fmt.Sprintf("idle_%d", i), "sig")
	}
	clock.Advance(2 * time.Hour)
	c.Remember("fresh", "sig-fresh")
	if got := c.Len(); got != 1 {
		t.Errorf("Len() after the others expired = %d, want 1", got)
	}
	wantLookup(t, c, "fresh", "sig-fresh")
	checkInvariants(t, c)
}

// TestSignatureCacheConcurrent is for -race: writers, readers and updates of
// the same ids at once, with bounds small enough to evict all the time.
func TestSignatureCacheConcurrent(t *testing.T) {
	c := NewSignatureCache(SignatureCacheOptions{MaxEntries: 64, MaxBytes: 16 << 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				id := fmt.Sprintf("call_%d", i%200)
				sig := fmt.Sprintf("sig-%d-%s", i%200, strings.Repeat("x", i%300))
				switch (g + i) % 3 {
				case 0, 1:
					c.Remember(id, sig)
				default:
					if s, ok := c.Lookup(id); ok && !strings.HasPrefix(s, fmt.Sprintf("sig-%d-", i%200)) {
						t.Errorf("Lookup(%q) = %.20q, the signature of another id", id, s)
						return
					}
				}
				_ = c.Len()
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, c)
}

// stripExtraContent returns the assistant message as a client that keeps
// only the standard fields sends it back (the OpenAI SDK's runTools).
func stripExtraContent(t *testing.T, m AssistantMessage) string {
	t.Helper()
	m.ToolCalls = slices.Clone(m.ToolCalls)
	for i := range m.ToolCalls {
		m.ToolCalls[i].ExtraContent = nil
		m.ToolCalls[i].Index = nil
	}
	m.ReasoningContent = ""
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func replayBody(msg string, ids ...string) string {
	var b strings.Builder
	b.WriteString(`{"model":"gemini-3-pro-preview","messages":[{"role":"user","content":"days?"},` + msg)
	for _, id := range ids {
		b.WriteString(`,{"role":"tool","tool_call_id":"` + id + `","content":"{\"now\":\"2025-12-01\"}"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func translateWith(t *testing.T, body string, sigs *SignatureCache) *Translated {
	t.Helper()
	req, err := ParseChatRequest([]byte(body))
	if err != nil {
		t.Fatalf("ParseChatRequest = %v", err)
	}
	opts := testRequestOptions()
	opts.Signatures = sigs
	tr, err := ToGemini(t.Context(), req, opts)
	if err != nil {
		t.Fatalf("ToGemini = %v", err)
	}
	return tr
}

func replayedSignatures(tr *Translated) []string {
	var out []string
	for _, c := range tr.Body.Contents {
		for _, p := range c.Parts {
			if p.FunctionCall != nil {
				out = append(out, p.ThoughtSignature)
			}
		}
	}
	return out
}

// TestSignatureRestore: the answer's signature is recorded by call id and
// restored when the client replays the call without extra_content.
func TestSignatureRestore(t *testing.T) {
	raw := golden.Read(t, "testdata/gemini/generateContent.thinking+functionCall.gemini-2.5-pro.json")
	var native gemini.GenerateContentResponse
	if err := json.Unmarshal(raw, &native); err != nil {
		t.Fatal(err)
	}
	wantSig := native.Candidates[0].Content.Parts[1].ThoughtSignature

	sigs := NewSignatureCache(SignatureCacheOptions{})
	meta := testMeta()
	meta.Signatures = sigs
	completion, err := FromGeminiJSON(raw, meta)
	if err != nil {
		t.Fatal(err)
	}
	msg := completion.Choices[0].Message
	id := msg.ToolCalls[0].ID
	if got := msg.ToolCalls[0].ExtraContent; got == nil || got.Google.ThoughtSignature != wantSig {
		t.Fatalf("tool call extra_content = %+v, want the signature (recording must not remove it)", got)
	}
	stripped := stripExtraContent(t, msg)

	t.Run("restored", func(t *testing.T) {
		got := replayedSignatures(translateWith(t, replayBody(stripped, id), sigs))
		if len(got) != 1 || got[0] != wantSig {
			t.Errorf("replayed signatures = %.40q, want [%.40q…]", got, wantSig)
		}
	})
	t.Run("client wins", func(t *testing.T) {
		m := msg
		m.ToolCalls = []ToolCall{msg.ToolCalls[0]}
		m.ToolCalls[0].ExtraContent = &ExtraContent{Google: &GoogleExtra{ThoughtSignature: "client-sig"}}
		b, _ := json.Marshal(m)
		got := replayedSignatures(translateWith(t, replayBody(string(b), id), sigs))
		if len(got) != 1 || got[0] != "client-sig" {
			t.Errorf("replayed signatures = %.40q, want [client-sig]", got)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		other := strings.ReplaceAll(stripped, id, "call_unknown")
		got := replayedSignatures(translateWith(t, replayBody(other, "call_unknown"), sigs))
		if len(got) != 1 || got[0] != gemini.SkipThoughtSignature {
			t.Errorf("replayed signatures = %.40q, want [%s]", got, gemini.SkipThoughtSignature)
		}
	})
	t.Run("fresh cache", func(t *testing.T) {
		got := replayedSignatures(translateWith(t, replayBody(stripped, id), NewSignatureCache(SignatureCacheOptions{})))
		if len(got) != 1 || got[0] != gemini.SkipThoughtSignature {
			t.Errorf("replayed signatures = %.40q, want [%s]", got, gemini.SkipThoughtSignature)
		}
	})
	t.Run("no cache", func(t *testing.T) {
		got := replayedSignatures(translateWith(t, replayBody(stripped, id), nil))
		if len(got) != 1 || got[0] != gemini.SkipThoughtSignature {
			t.Errorf("replayed signatures = %.40q, want [%s]", got, gemini.SkipThoughtSignature)
		}
	})
}

// TestSignatureRestoreParallel: Gemini signs only the first of parallel
// calls; the others stay unsigned on replay.
func TestSignatureRestoreParallel(t *testing.T) {
	resp := &gemini.GenerateContentResponse{Candidates: []gemini.Candidate{{
		Content: &gemini.Content{Role: "model", Parts: []gemini.Part{
			{FunctionCall: &gemini.FunctionCall{Name: "a", Args: json.RawMessage(`{}`)}, ThoughtSignature: "sig-first"},
			{FunctionCall: &gemini.FunctionCall{Name: "b", Args: json.RawMessage(`{}`)}},
		}},
		FinishReason: "STOP",
	}}}
	sigs := NewSignatureCache(SignatureCacheOptions{})
	meta := testMeta()
	meta.Signatures = sigs
	msg := FromGemini(resp, meta).Choices[0].Message
	if sigs.Len() != 1 {
		t.Errorf("cache Len() = %d, want 1 (only the signed call)", sigs.Len())
	}
	ids := []string{msg.ToolCalls[0].ID, msg.ToolCalls[1].ID}
	got := replayedSignatures(translateWith(t, replayBody(stripExtraContent(t, msg), ids...), sigs))
	if len(got) != 2 || got[0] != "sig-first" || got[1] != "" {
		t.Errorf("replayed signatures = %q, want [sig-first \"\"]", got)
	}
}

// TestSignatureRestoreStream: StreamTranslator records the signature too.
func TestSignatureRestoreStream(t *testing.T) {
	raw := golden.Read(t, "testdata/gemini/streamGenerateContent.thinking+functionCall.sse.txt")
	events, wantSig := streamSignature(t, raw)

	sigs := NewSignatureCache(SignatureCacheOptions{})
	meta := testMeta()
	meta.Signatures = sigs
	st := NewStreamTranslator(meta, false)
	var call *ToolCall
	for _, ev := range events {
		chunks, err := st.Translate(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chunks {
			for _, tc := range c.Choices[0].Delta.ToolCalls {
				call = &tc
			}
		}
	}
	if call == nil {
		t.Fatal("the stream produced no tool call")
	}
	msg := stripExtraContent(t, AssistantMessage{Role: "assistant", ToolCalls: []ToolCall{*call}})
	got := replayedSignatures(translateWith(t, replayBody(msg, call.ID), sigs))
	if len(got) != 1 || got[0] != wantSig {
		t.Errorf("replayed signatures = %.40q, want [%.40q…]", got, wantSig)
	}
}

// streamSignature returns the events of a recorded stream and the thought
// signature on the first part of its last event (where Gemini puts the
// signature of a streamed function call).
func streamSignature(t *testing.T, raw []byte) (events [][]byte, sig string) {
	t.Helper()
	events = sseEvents(t, raw)
	var last gemini.GenerateContentResponse
	if err := json.Unmarshal(events[len(events)-1], &last); err != nil {
		t.Fatal(err)
	}
	return events, last.Candidates[0].Content.Parts[0].ThoughtSignature
}
