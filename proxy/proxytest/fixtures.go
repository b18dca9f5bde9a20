package proxytest

import (
	"bytes"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strings"

	"github.com/gemini-balance/desktop/proxy/sse"
)

// fixtureFS holds the captured Gemini answers the fake serves; see
// testdata/SOURCES.md for where each one comes from.
//
//go:embed testdata/native testdata/errors testdata/synthesized
var fixtureFS embed.FS

// Fixture names used by the fake (relative to testdata/).
const (
	fxGenerate       = "native/generateContent.text.gemini-2.0-flash.json"
	fxStream         = "native/streamGenerateContent.basic.sse.txt"
	fxCountTokens    = "native/countTokens.gemini-2.5-flash.recorded.json"
	fxModelsPage1    = "native/models.list.v1beta.page1.EXCERPT.json"
	fxModelsPage2    = "synthesized/models.list.v1beta.page2.SHAPE.json"
	fxHeaders        = "native/response-headers.recorded.json"
	fxEmpty          = "synthesized/generateContent.empty.SHAPE.json"
	fxFileDenied     = "synthesized/403-PERMISSION_DENIED-file.json"
	fxCacheDenied    = "synthesized/403-PERMISSION_DENIED-cachedContent.SHAPE.json"
	fxBadJSON        = "synthesized/400-INVALID_ARGUMENT-json-payload.SHAPE.json"
	fxBadPageToken   = "synthesized/400-INVALID_ARGUMENT-page-token.SHAPE.json"
	fxNotFoundHTML   = "synthesized/404-not-found.html"
	fxUnregistered   = "errors/403-PERMISSION_DENIED-unregistered-callers.json"
	fxKeyInvalid     = "errors/400-INVALID_ARGUMENT-API_KEY_INVALID.json"
	fxKeyExpired     = "errors/400-INVALID_ARGUMENT-API_KEY_INVALID.expired.json"
	fxDisabled       = "errors/403-PERMISSION_DENIED-SERVICE_DISABLED.json"
	fxRateLimited    = "errors/429-RESOURCE_EXHAUSTED.quota-2025-06.json"
	fxDailyQuota     = "errors/429-RESOURCE_EXHAUSTED.quota-2025-late.json"
	fxBare429        = "errors/429-RESOURCE_EXHAUSTED.bare.json"
	fxUnavailable    = "errors/503-UNAVAILABLE-overloaded.json"
	fxInternal       = "errors/500-INTERNAL.json"
	fxRegion         = "errors/400-FAILED_PRECONDITION-user-location.json"
	fxModelNotFound  = "errors/404-NOT_FOUND-model.v1beta.no-details.json"
	fxNotFoundModel  = "models/gemini-1.5-flash" // the model named in fxModelNotFound
	fxNotFoundAPIVer = "API version v1beta"
)

// FixtureBody returns the embedded fixture name, a path relative to the
// package's testdata directory, e.g.
// "native/generateContent.thinking+functionCall.gemini-2.5-pro.json" or
// "errors/503-UNAVAILABLE-high-demand.json". Tests of other packages use it
// with Fixture or StreamFixture to serve any captured answer. It panics when
// there is no such fixture (a bug in the calling test).
func FixtureBody(name string) []byte {
	b, err := fixtureFS.ReadFile("testdata/" + name)
	if err != nil {
		panic("proxytest: no fixture " + name)
	}
	return b
}

// FixtureNames lists the embedded fixtures, as FixtureBody takes them.
func FixtureNames() []string {
	var names []string
	_ = fs.WalkDir(fixtureFS, "testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(p, "testdata/"))
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// splitEvents cuts an SSE capture into its events' raw bytes. A final
// event without its blank line gets one ("\r\n" like Gemini's framing).
func splitEvents(stream []byte) [][]byte {
	r := sse.NewReader(bytes.NewReader(stream))
	var out [][]byte
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		if ev.Data == nil {
			continue
		}
		raw := ev.Raw
		if ev.Unterminated {
			raw = append(bytes.TrimRight(raw, "\r\n"), "\r\n\r\n"...)
		}
		out = append(out, raw)
	}
	return out
}

// eventData returns the data of one raw SSE event.
func eventData(raw []byte) []byte {
	ev, err := sse.NewReader(bytes.NewReader(raw)).Next()
	if err != nil && err != io.EOF {
		return nil
	}
	return ev.Data
}

// sseEvent frames data the way Gemini does: "data: …\r\n\r\n".
func sseEvent(data []byte) []byte {
	out := make([]byte, 0, len(data)+10)
	out = append(out, "data: "...)
	out = append(out, data...)
	return append(out, "\r\n\r\n"...)
}

// compactJSON returns b without insignificant white space.
func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// recordedHeaders reads the headers Google sent with the recorded answers,
// without those that describe one particular answer (Date, length,
// encoding, timing).
func recordedHeaders() (unary, stream http.Header) {
	var all map[string]map[string]string
	if err := json.Unmarshal(FixtureBody(fxHeaders), &all); err != nil {
		panic("proxytest: " + fxHeaders + ": " + err.Error())
	}
	pick := func(name string) http.Header {
		h := http.Header{}
		for k, v := range all[name] {
			switch k {
			case "Date", "Content-Length", "Content-Encoding", "Server-Timing", "Content-Type":
				continue
			}
			h.Set(k, v)
		}
		return h
	}
	return pick("generateContent 200"), pick("streamGenerateContent 200")
}
