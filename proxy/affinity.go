package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// affinity remembers which pool key created a file, a cached content or a
// resumable upload. Google only lets the key (project) that made a resource
// use it, so later requests naming it must go out with the same key.
// Entries live for a week (files expire after 48 hours, caches by their own
// TTL); the table is bounded and forgets its oldest entries first.
type affinity struct {
	mu    sync.Mutex
	max   int
	byRes map[string]affinityEntry
	order []string // insertion order, for eviction
}

type affinityEntry struct {
	keyID string
	at    time.Time
}

const affinityTTL = 7 * 24 * time.Hour

func newAffinity(max int) *affinity {
	return &affinity{max: max, byRes: make(map[string]affinityEntry)}
}

// remember ties resource (e.g. "files/abc", "upload:ID") to keyID.
func (a *affinity) remember(resource, keyID string) {
	if resource == "" || keyID == "" || keyID == PassthroughKeyID {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.byRes[resource]; !ok {
		a.order = append(a.order, resource)
	}
	a.byRes[resource] = affinityEntry{keyID: keyID, at: time.Now()}
	for len(a.order) > a.max {
		delete(a.byRes, a.order[0])
		a.order = a.order[1:]
	}
}

// lookup returns the key id that owns resource, or "".
func (a *affinity) lookup(resource string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.byRes[resource]
	if !ok {
		return ""
	}
	if time.Since(e.at) > affinityTTL {
		delete(a.byRes, resource)
		return ""
	}
	return e.keyID
}

// resourceRef finds resource names in paths and request bodies:
// files/{id} (also inside a fileUri) and cachedContents/{id}.
var resourceRef = regexp.MustCompile(`(?:^|[/"])((?:files|cachedContents)/[A-Za-z0-9_-]+)`)

// forRequest returns the key that must serve a request naming a known
// resource in its path or body, or "".
func (a *affinity) forRequest(path string, body []byte) string {
	if !strings.Contains(path, "files/") && !strings.Contains(path, "cachedContents/") {
		// fast path: most requests name no resource in their path
	} else if m := resourceRef.FindStringSubmatch(path); m != nil {
		if id := a.lookup(m[1]); id != "" {
			return id
		}
	}
	if len(body) == 0 || (!bytes.Contains(body, []byte("files/")) && !bytes.Contains(body, []byte("cachedContents/"))) {
		return ""
	}
	for _, m := range resourceRef.FindAllSubmatch(body, 16) {
		if id := a.lookup(string(m[1])); id != "" {
			return id
		}
	}
	return ""
}

// learn records what a successful answer created: a resumable upload
// session (from X-Goog-Upload-Url) or a named file / cached content.
func (a *affinity) learn(r *http.Request, ans *answer) {
	if loc := ans.resp.Header.Get("X-Goog-Upload-Url"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			if id := u.Query().Get("upload_id"); id != "" {
				a.remember("upload:"+id, ans.keyID)
			}
		}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return
	}
	if len(ans.body) == 0 || !strings.Contains(r.URL.Path, "files") && !strings.Contains(r.URL.Path, "cachedContents") {
		return
	}
	var created struct {
		Name string `json:"name"`
		File struct {
			Name string `json:"name"`
		} `json:"file"`
	}
	if json.Unmarshal(ans.body, &created) != nil {
		return
	}
	for _, n := range []string{created.Name, created.File.Name} {
		if strings.HasPrefix(n, "files/") || strings.HasPrefix(n, "cachedContents/") {
			a.remember(n, ans.keyID)
		}
	}
}
