package proxytest

import (
	"bytes"
	"strconv"
)

// The parts of the captured stream (fxStream) that synthetic chunks
// replace: the first event's text, the last event's text and its token
// counts.
const (
	tmplFirstText  = `"text": "The"`
	tmplLastText   = `"text": " is **Cheyenne**.\n"`
	tmplLastTokens = `"candidatesTokenCount": 10,"totalTokenCount": 17`
	tmplPrompt     = 7 // promptTokenCount of the capture
)

// synthKey identifies a cached synthetic stream.
type synthKey struct {
	n      int
	finish bool
}

// syntheticTemplates derives the chunk templates from the captured stream:
// its first event (a text chunk without finishReason) and its last (text,
// finishReason STOP, full usage).
func syntheticTemplates(events [][]byte) (chunk, final []byte) {
	if len(events) < 2 {
		panic("proxytest: " + fxStream + " needs at least two events")
	}
	chunk, final = events[0], events[len(events)-1]
	for _, need := range []struct {
		b    []byte
		part string
	}{{chunk, tmplFirstText}, {final, tmplLastText}, {final, tmplLastTokens}} {
		if !bytes.Contains(need.b, []byte(need.part)) {
			panic("proxytest: " + fxStream + " no longer contains " + need.part)
		}
	}
	return chunk, final
}

// SyntheticText returns the text of chunk i (1-based) of the synthetic
// streams (SSEStream, SlowStream, StreamFailAfter, SetDefaultStream):
// "chunk 1 ", "chunk 2 ", …
func SyntheticText(i int) string {
	return "chunk " + strconv.Itoa(i) + " "
}

// synthetic returns n chunk events; with finish the last one carries
// finishReason STOP and the usage totals. Results are cached per server.
func (s *Server) synthetic(n int, finish bool) [][]byte {
	k := synthKey{n, finish}
	s.mu.Lock()
	evs, ok := s.synth[k]
	s.mu.Unlock()
	if ok {
		return evs
	}
	evs = make([][]byte, 0, n)
	for i := 1; i <= n; i++ {
		text := []byte(`"text": "` + SyntheticText(i) + `"`)
		if finish && i == n {
			ev := bytes.Replace(s.finalTmpl, []byte(tmplLastText), text, 1)
			tokens := `"candidatesTokenCount": ` + strconv.Itoa(2*n) + `,"totalTokenCount": ` + strconv.Itoa(tmplPrompt+2*n)
			evs = append(evs, bytes.Replace(ev, []byte(tmplLastTokens), []byte(tokens), 1))
			continue
		}
		evs = append(evs, bytes.Replace(s.chunkTmpl, []byte(tmplFirstText), text, 1))
	}
	s.mu.Lock()
	s.synth[k] = evs
	s.mu.Unlock()
	return evs
}
