package proxytest

import (
	"net/http/httptest"
	"testing"
)

// TestParseRoute pins what the fake understands of each Gemini path.
func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		want           route
	}{
		{"GET", "/v1beta/models", route{action: "models.list", ver: "v1beta"}},
		{"POST", "/v1beta/models", route{ver: "v1beta"}},
		{"GET", "/v1/models/gemini-2.5-flash", route{action: "models.get", ver: "v1", model: "gemini-2.5-flash"}},
		{"POST", "/v1beta/models/gemini-2.5-flash:generateContent", route{action: "generateContent", ver: "v1beta", model: "gemini-2.5-flash"}},
		{"POST", "/v1alpha/models/m:streamGenerateContent?alt=sse", route{action: "streamGenerateContent", ver: "v1alpha", model: "m", sse: true}},
		{"GET", "/v1beta/models/m:generateContent", route{ver: "v1beta"}},
		{"POST", "/v1beta/models/:generateContent", route{ver: "v1beta"}},
		{"POST", "/v1beta/models/m:", route{ver: "v1beta"}},
		{"GET", "/v1beta/files", route{action: "files.list", ver: "v1beta"}},
		{"GET", "/v1beta/files/abc", route{action: "files.get", ver: "v1beta", id: "abc"}},
		{"DELETE", "/v1beta/files/abc", route{action: "files.delete", ver: "v1beta", id: "abc"}},
		{"POST", "/v1beta/files", route{ver: "v1beta"}},
		{"PATCH", "/v1beta/files/abc", route{ver: "v1beta"}},
		{"DELETE", "/v1beta/files", route{ver: "v1beta"}},
		{"POST", "/upload/v1beta/files", route{action: "files.upload", ver: "v1beta"}},
		{"PUT", "/upload/v1beta/files?alt=sse", route{action: "files.upload", ver: "v1beta", sse: true}},
		{"GET", "/upload/v1beta/files", route{ver: "v1beta"}},
		{"POST", "/upload/v1beta/files/x", route{ver: "v1beta"}},
		{"POST", "/upload/v1beta/models/m:generateContent", route{ver: "v1beta"}},
		{"POST", "/v1beta/cachedContents", route{action: "cachedContents.create", ver: "v1beta"}},
		{"GET", "/v1beta/cachedContents", route{action: "cachedContents.list", ver: "v1beta"}},
		{"GET", "/v1beta/cachedContents/c1", route{action: "cachedContents.get", ver: "v1beta", id: "c1"}},
		{"DELETE", "/v1beta/cachedContents/c1", route{action: "cachedContents.delete", ver: "v1beta", id: "c1"}},
		{"PATCH", "/v1beta/cachedContents/c1", route{action: "cachedContents.patch", ver: "v1beta", id: "c1"}},
		{"PATCH", "/v1beta/cachedContents", route{ver: "v1beta"}},
		{"POST", "/v1beta/cachedContents/c1", route{ver: "v1beta"}},
		{"GET", "/v1beta/tunedModels", route{ver: "v1beta"}},
		{"GET", "/v2/models", route{}},
		{"GET", "/v1beta", route{}},
		{"GET", "/", route{}},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := parseRoute(r); got != tc.want {
			t.Errorf("%s %s: got %+v, want %+v", tc.method, tc.target, got, tc.want)
		}
	}
}
