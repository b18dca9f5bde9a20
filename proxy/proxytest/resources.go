package proxytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Uploaded files and cached contents belong to the key that created them.
// Like Google, the fake answers 403 PERMISSION_DENIED to any other key, for
// the resource itself and for requests that reference it.

// fileMeta is a File resource, shaped like synthesized/file.SHAPE.json.
type fileMeta struct {
	Name           string `json:"name"`
	DisplayName    string `json:"displayName,omitempty"`
	MimeType       string `json:"mimeType"`
	SizeBytes      string `json:"sizeBytes"`
	CreateTime     string `json:"createTime"`
	UpdateTime     string `json:"updateTime"`
	ExpirationTime string `json:"expirationTime"`
	Sha256Hash     string `json:"sha256Hash"`
	URI            string `json:"uri"`
	State          string `json:"state"`
	Source         string `json:"source"`
}

type fileRes struct {
	owner string
	seq   uint64
	meta  fileMeta
}

// cacheMeta is a CachedContent resource, shaped like
// synthesized/cachedContent.SHAPE.json.
type cacheMeta struct {
	Name          string `json:"name"`
	Model         string `json:"model"`
	CreateTime    string `json:"createTime"`
	UpdateTime    string `json:"updateTime"`
	ExpireTime    string `json:"expireTime"`
	DisplayName   string `json:"displayName,omitempty"`
	UsageMetadata struct {
		TotalTokenCount int `json:"totalTokenCount"`
	} `json:"usageMetadata"`
}

type cacheRes struct {
	owner string
	seq   uint64
	meta  cacheMeta
}

// uploadSession is a resumable upload between start and finalize.
type uploadSession struct {
	owner       string
	ver         string
	displayName string
	mimeType    string
	data        []byte
}

// timeFormat is how Google writes resource times.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// newID returns a fresh resource id of 12 lower-case letters and digits,
// like Google's "files/9x8krl3evqvv".
func (s *Server) newID() (string, uint64) {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	x := n*0x9e3779b97f4a7c15 + 0x2545f4914f6cdd1d
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	for i := range b {
		x ^= x >> 29
		x *= 0xbf58476d1ce4e5b9
		b[i] = alphabet[x%uint64(len(alphabet))]
	}
	return string(b), n
}

// newFile stores an uploaded file owned by owner.
func (s *Server) newFile(owner, displayName, mimeType string, data []byte) fileMeta {
	id, seq := s.newID()
	now := time.Now().UTC()
	sum := sha256.Sum256(data)
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	meta := fileMeta{
		Name: "files/" + id, DisplayName: displayName, MimeType: mimeType,
		SizeBytes:  strconv.Itoa(len(data)),
		CreateTime: now.Format(timeFormat), UpdateTime: now.Format(timeFormat),
		ExpirationTime: now.Add(48 * time.Hour).Format(timeFormat),
		// Google's sha256Hash is the base64 of the hex digest.
		Sha256Hash: base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:]))),
		URI:        "https://generativelanguage.googleapis.com/v1beta/files/" + id,
		State:      "ACTIVE", Source: "UPLOADED",
	}
	s.mu.Lock()
	s.files[id] = &fileRes{owner: owner, seq: seq, meta: meta}
	s.mu.Unlock()
	return meta
}

// fileMetadata is the JSON metadata part of an upload.
type fileMetadata struct {
	File struct {
		DisplayName      string `json:"displayName"`
		DisplayNameSnake string `json:"display_name"`
		MimeType         string `json:"mimeType"`
		MimeTypeSnake    string `json:"mime_type"`
	} `json:"file"`
}

func parseFileMetadata(b []byte) (displayName, mimeType string) {
	var m fileMetadata
	if len(bytes.TrimSpace(b)) == 0 || json.Unmarshal(b, &m) != nil {
		return "", ""
	}
	return firstNonEmpty(m.File.DisplayName, m.File.DisplayNameSnake), firstNonEmpty(m.File.MimeType, m.File.MimeTypeSnake)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// upload answers POST /upload/{ver}/files: the resumable protocol (start,
// then upload/finalize on the session URL) and single-request multipart or
// raw uploads.
func (c *call) upload() {
	h := c.r.Header
	q := c.r.URL.Query()
	if id := q.Get("upload_id"); id != "" {
		c.uploadChunk(id)
		return
	}
	if strings.EqualFold(h.Get("X-Goog-Upload-Protocol"), "resumable") {
		if !strings.Contains(strings.ToLower(h.Get("X-Goog-Upload-Command")), "start") {
			c.writeGoogleError(http.StatusBadRequest, "INVALID_ARGUMENT", "Resumable upload requires X-Goog-Upload-Command: start.")
			return
		}
		name, mt := parseFileMetadata(c.body)
		mt = firstNonEmpty(h.Get("X-Goog-Upload-Header-Content-Type"), mt)
		id, _ := c.s.newID()
		c.s.mu.Lock()
		c.s.uploads[id] = &uploadSession{owner: c.key, ver: c.rt.ver, displayName: name, mimeType: mt}
		c.s.mu.Unlock()
		u := c.s.URL() + "/upload/" + c.rt.ver + "/files?upload_id=" + id + "&upload_protocol=resumable"
		c.setHeaders("", false)
		rh := c.w.Header()
		rh.Set("X-Goog-Upload-Status", "active")
		rh.Set("X-Goog-Upload-URL", u)
		rh.Set("X-Goog-Upload-Control-URL", u)
		rh.Set("X-Goog-Upload-Chunk-Granularity", "8388608")
		rh.Set("X-GUploader-UploadID", id)
		rh.Set("Content-Length", "0")
		c.w.WriteHeader(http.StatusOK)
		return
	}
	// Single request: multipart (metadata part, then the bytes) or raw bytes.
	name, mt, data := "", h.Get("Content-Type"), c.body
	if mediaType, params, err := mime.ParseMediaType(mt); err == nil && strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
		name, mt, data = "", "", nil
		for i := 0; ; i++ {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if i == 0 {
				name, mt = parseFileMetadata(b)
				continue
			}
			mt, data = firstNonEmpty(p.Header.Get("Content-Type"), mt), b
		}
	}
	c.writeUploaded(c.s.newFile(c.key, name, mt, data))
}

// writeUploaded answers the final upload request.
func (c *call) writeUploaded(meta fileMeta) {
	c.w.Header().Set("X-Goog-Upload-Status", "final")
	c.writeIndented(struct {
		File fileMeta `json:"file"`
	}{meta})
}

// uploadChunk answers a request on a resumable session URL: X-Goog-Upload-
// Command "upload", "finalize" (or both), "query" or "cancel".
func (c *call) uploadChunk(id string) {
	cmd := strings.ToLower(c.r.Header.Get("X-Goog-Upload-Command"))
	offset := c.r.Header.Get("X-Goog-Upload-Offset")
	var (
		state     = "active"
		received  int
		badOffset bool
		finalize  bool
		sess      uploadSession
	)
	c.s.mu.Lock()
	p := c.s.uploads[id]
	denied := p != nil && c.key != "" && c.key != p.owner
	if p != nil && !denied {
		switch {
		case strings.Contains(cmd, "cancel"):
			delete(c.s.uploads, id)
			state = "cancelled"
		case strings.Contains(cmd, "query"):
		default:
			if strings.Contains(cmd, "upload") {
				if offset != "" && offset != strconv.Itoa(len(p.data)) {
					badOffset = true
				} else {
					p.data = append(p.data, c.body...)
				}
			}
			if !badOffset && strings.Contains(cmd, "finalize") {
				delete(c.s.uploads, id)
				finalize = true
			}
		}
		received = len(p.data)
		sess = *p
	}
	c.s.mu.Unlock()

	switch {
	case p == nil:
		c.writeGoogleError(http.StatusNotFound, "NOT_FOUND", "Upload session not found.")
	case denied:
		c.writeGoogleError(http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission")
	case badOffset:
		c.writeGoogleError(http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid X-Goog-Upload-Offset.")
	case finalize:
		c.writeUploaded(c.s.newFile(sess.owner, sess.displayName, sess.mimeType, sess.data))
	default:
		h := c.w.Header()
		h.Set("X-Goog-Upload-Status", state)
		h.Set("X-Goog-Upload-Size-Received", strconv.Itoa(received))
		h.Set("Content-Length", "0")
		c.w.WriteHeader(http.StatusOK)
	}
}

// files answers GET/DELETE /{ver}/files/{id} and GET /{ver}/files.
func (c *call) files() {
	if c.rt.action == "files.list" {
		c.s.mu.Lock()
		var own []*fileRes
		for _, f := range c.s.files {
			if f.owner == c.key {
				own = append(own, f)
			}
		}
		c.s.mu.Unlock()
		sort.Slice(own, func(i, j int) bool { return own[i].seq > own[j].seq })
		var resp struct {
			Files []fileMeta `json:"files,omitempty"`
		}
		for _, f := range own {
			resp.Files = append(resp.Files, f.meta)
		}
		c.writeIndented(resp)
		return
	}
	id := strings.TrimPrefix(c.rt.id, "files/")
	c.s.mu.Lock()
	f := c.s.files[id]
	allowed := f != nil && f.owner == c.key
	if allowed && c.rt.action == "files.delete" {
		delete(c.s.files, id)
	}
	c.s.mu.Unlock()
	switch {
	case !allowed:
		c.denyFile(id)
	case c.rt.action == "files.delete":
		c.writeJSON(http.StatusOK, []byte("{}\n"))
	default:
		c.writeIndented(f.meta)
	}
}

// denyFile answers Google's 403 for a file the key may not use.
func (c *call) denyFile(id string) {
	c.writeError(http.StatusForbidden, bytes.Replace(FixtureBody(fxFileDenied), []byte("abc123xyz789"), []byte(id), 1))
}

// cachedContents answers the /{ver}/cachedContents routes.
func (c *call) cachedContents() {
	switch c.rt.action {
	case "cachedContents.create":
		c.createCache()
		return
	case "cachedContents.list":
		c.s.mu.Lock()
		var own []*cacheRes
		for _, r := range c.s.caches {
			if r.owner == c.key {
				own = append(own, r)
			}
		}
		c.s.mu.Unlock()
		sort.Slice(own, func(i, j int) bool { return own[i].seq > own[j].seq })
		var resp struct {
			CachedContents []cacheMeta `json:"cachedContents,omitempty"`
		}
		for _, r := range own {
			resp.CachedContents = append(resp.CachedContents, r.meta)
		}
		c.writeIndented(resp)
		return
	}
	id := strings.TrimPrefix(c.rt.id, "cachedContents/")
	c.s.mu.Lock()
	r := c.s.caches[id]
	allowed := r != nil && r.owner == c.key
	var meta cacheMeta
	if allowed {
		switch c.rt.action {
		case "cachedContents.delete":
			delete(c.s.caches, id)
		case "cachedContents.patch":
			now := time.Now().UTC()
			r.meta.UpdateTime = now.Format(timeFormat)
			if exp, ok := cacheExpiry(c.body, now); ok {
				r.meta.ExpireTime = exp
			}
		}
		meta = r.meta
	}
	c.s.mu.Unlock()
	switch {
	case !allowed:
		c.writeError(http.StatusForbidden, FixtureBody(fxCacheDenied))
	case c.rt.action == "cachedContents.delete":
		c.writeJSON(http.StatusOK, []byte("{}\n"))
	default:
		c.writeIndented(meta)
	}
}

// cacheExpiry reads ttl ("300s") or expireTime from a cachedContent body.
func cacheExpiry(body []byte, now time.Time) (string, bool) {
	var req struct {
		TTL        string `json:"ttl"`
		ExpireTime string `json:"expireTime"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "", false
	}
	if req.ExpireTime != "" {
		return req.ExpireTime, true
	}
	if d, err := time.ParseDuration(req.TTL); err == nil && strings.HasSuffix(req.TTL, "s") {
		return now.Add(d).Format(timeFormat), true
	}
	return "", false
}

// createCache answers POST /{ver}/cachedContents.
func (c *call) createCache() {
	var req struct {
		Model       string `json:"model"`
		DisplayName string `json:"displayName"`
	}
	if json.Unmarshal(c.body, &req) != nil || req.Model == "" {
		c.writeError(http.StatusBadRequest, FixtureBody(fxBadJSON))
		return
	}
	if !c.checkReferences() {
		return
	}
	id, seq := c.s.newID()
	now := time.Now().UTC()
	meta := cacheMeta{
		Name: "cachedContents/" + id, Model: "models/" + strings.TrimPrefix(req.Model, "models/"),
		CreateTime: now.Format(timeFormat), UpdateTime: now.Format(timeFormat),
		ExpireTime: now.Add(time.Hour).Format(timeFormat), DisplayName: req.DisplayName,
	}
	if exp, ok := cacheExpiry(c.body, now); ok {
		meta.ExpireTime = exp
	}
	meta.UsageMetadata.TotalTokenCount = max(len(c.body)/4, 1)
	c.s.mu.Lock()
	c.s.caches[id] = &cacheRes{owner: c.key, seq: seq, meta: meta}
	c.s.mu.Unlock()
	c.writeIndented(meta)
}

var (
	// fileURIRef finds files named by fileData.fileUri in a request body.
	fileURIRef = regexp.MustCompile(`"file_?[uU]ri"\s*:\s*"[^"]*?\bfiles/([a-z0-9-]+)"`)
	// cacheRef finds the cachedContent a request body uses.
	cacheRef = regexp.MustCompile(`"cached_?[cC]ontent"\s*:\s*"(?:cachedContents/)?([^"]+)"`)
)

// checkReferences answers 403, as Google does, when the body uses a file or
// cached content that does not exist or belongs to another key; it reports
// whether the request may go on.
func (c *call) checkReferences() bool {
	if !bytes.Contains(c.body, []byte("files/")) && !bytes.Contains(c.body, []byte("ached")) {
		return true
	}
	for _, m := range fileURIRef.FindAllSubmatch(c.body, -1) {
		id := string(m[1])
		c.s.mu.Lock()
		f := c.s.files[id]
		c.s.mu.Unlock()
		if f == nil || f.owner != c.key {
			c.denyFile(id)
			return false
		}
	}
	if c.rt.action == "cachedContents.create" {
		return true
	}
	for _, m := range cacheRef.FindAllSubmatch(c.body, -1) {
		c.s.mu.Lock()
		r := c.s.caches[string(m[1])]
		c.s.mu.Unlock()
		if r == nil || r.owner != c.key {
			c.writeError(http.StatusForbidden, FixtureBody(fxCacheDenied))
			return false
		}
	}
	return true
}
