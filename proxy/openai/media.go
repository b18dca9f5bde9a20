package openai

import (
	"context"
	"encoding/base64"
	"net/url"
	"path"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// parseDataURI splits "data:<mime>[;params][;base64],<data>" into its MIME
// type and base64 data. Percent-encoded (non-base64) payloads are decoded and
// re-encoded as base64.
func parseDataURI(s string) (mime, b64 string, ok bool) {
	rest, found := strings.CutPrefix(s, "data:")
	if !found {
		rest, found = strings.CutPrefix(s, "DATA:")
		if !found {
			return "", "", false
		}
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	isB64 := false
	params := strings.Split(meta, ";")
	mime = strings.TrimSpace(params[0])
	for _, p := range params[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isB64 = true
		}
	}
	if isB64 {
		return mime, strings.TrimSpace(data), true
	}
	raw, err := url.PathUnescape(data)
	if err != nil {
		return "", "", false
	}
	return mime, base64.StdEncoding.EncodeToString([]byte(raw)), true
}

// imagePart converts an image_url to a Gemini part.
func imagePart(ctx context.Context, raw string, param string, fetch gemini.FetchFunc) (gemini.Part, *Error) {
	u := strings.TrimSpace(raw)
	switch {
	case u == "":
		return gemini.Part{}, invalid(param, "%s: the image URL is empty", param)
	case len(u) > 5 && strings.EqualFold(u[:5], "data:"):
		mime, data, ok := parseDataURI(u)
		if !ok {
			return gemini.Part{}, invalid(param, "%s: malformed data URI; expected data:<mime type>;base64,<data>", param)
		}
		if mime == "" {
			return gemini.Part{}, invalid(param, "%s: the data URI has no MIME type", param)
		}
		if data == "" {
			return gemini.Part{}, invalid(param, "%s: the data URI holds no data", param)
		}
		return gemini.Part{InlineData: &gemini.Blob{MIMEType: mime, Data: data}}, nil
	case gemini.IsFilesURI(u):
		return gemini.Part{FileData: &gemini.FileData{FileURI: u}}, nil
	case hasScheme(u, "http") || hasScheme(u, "https"):
		if fetch == nil {
			return gemini.Part{}, invalid(param, "%s: image URLs are not supported here; send the image as a data URI", param)
		}
		blob, err := fetch(ctx, u)
		if err != nil {
			return gemini.Part{}, invalid(param, "%s: could not fetch the image: %s", param, gemini.Redact(err.Error()))
		}
		if blob == nil || blob.Data == "" {
			return gemini.Part{}, invalid(param, "%s: the image URL returned no data", param)
		}
		blob.MIMEType = strings.TrimSpace(strings.Split(blob.MIMEType, ";")[0])
		if blob.MIMEType == "" {
			blob.MIMEType = "application/octet-stream"
		}
		return gemini.Part{InlineData: blob}, nil
	default:
		return gemini.Part{}, invalid(param, "%s: unsupported image URL; use a data URI or an http(s) URL", param)
	}
}

func hasScheme(u, scheme string) bool {
	return len(u) > len(scheme)+3 && strings.EqualFold(u[:len(scheme)+3], scheme+"://")
}

// audioMIME maps input_audio formats to Gemini MIME types.
var audioMIME = map[string]string{
	"wav":   "audio/wav",
	"mp3":   "audio/mp3",
	"aiff":  "audio/aiff",
	"aac":   "audio/aac",
	"ogg":   "audio/ogg",
	"flac":  "audio/flac",
	"m4a":   "audio/m4a",
	"webm":  "audio/webm",
	"pcm16": "audio/pcm",
}

func audioPart(a *InputAudio, param string) (gemini.Part, *Error) {
	if a == nil {
		return gemini.Part{}, invalid(param, "%s: input_audio is missing", param)
	}
	data := strings.TrimSpace(a.Data)
	mime := audioMIME[strings.ToLower(a.Format)]
	if m, d, ok := parseDataURI(data); ok {
		data = d
		if mime == "" {
			mime = m
		}
	}
	if mime == "" {
		return gemini.Part{}, invalid(param+".format", "%s.format %q is not supported; use wav, mp3, aiff, aac, ogg, flac, m4a, webm or pcm16", param, a.Format)
	}
	if data == "" {
		return gemini.Part{}, invalid(param+".data", "%s.data is empty", param)
	}
	return gemini.Part{InlineData: &gemini.Blob{MIMEType: mime, Data: data}}, nil
}

// fileMIME types a bare base64 file by its name.
var fileMIME = map[string]string{
	".pdf":  "application/pdf",
	".txt":  "text/plain",
	".md":   "text/markdown",
	".html": "text/html",
	".htm":  "text/html",
	".csv":  "text/csv",
	".xml":  "text/xml",
	".json": "application/json",
	".rtf":  "text/rtf",
	".js":   "text/javascript",
	".py":   "text/x-python",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".webp": "image/webp",
	".gif":  "image/gif",
	".heic": "image/heic",
	".mp3":  "audio/mp3",
	".wav":  "audio/wav",
	".mp4":  "video/mp4",
}

func filePart(f *FilePart, param string) (gemini.Part, *Error) {
	if f == nil {
		return gemini.Part{}, invalid(param, "%s: file is missing", param)
	}
	if f.FileData != "" {
		if mime, data, ok := parseDataURI(f.FileData); ok {
			if mime == "" {
				mime = mimeForName(f.Filename)
			}
			if data == "" {
				return gemini.Part{}, invalid(param+".file_data", "%s.file_data holds no data", param)
			}
			return gemini.Part{InlineData: &gemini.Blob{MIMEType: mime, Data: data}}, nil
		}
		return gemini.Part{InlineData: &gemini.Blob{MIMEType: mimeForName(f.Filename), Data: strings.TrimSpace(f.FileData)}}, nil
	}
	if id, ok := strings.CutPrefix(f.FileID, "files/"); ok && id != "" {
		return gemini.Part{FileData: &gemini.FileData{
			MIMEType: mimeForNameOrEmpty(f.Filename),
			FileURI:  "https://generativelanguage.googleapis.com/v1beta/files/" + id,
		}}, nil
	}
	if f.FileID != "" {
		return gemini.Part{}, invalid(param+".file_id", "%s.file_id %q is not supported: only Gemini file names (\"files/…\") can be referenced; send the file as file_data", param, f.FileID)
	}
	return gemini.Part{}, invalid(param, "%s needs file_data (a data URI) or file_id", param)
}

func mimeForNameOrEmpty(name string) string {
	return fileMIME[strings.ToLower(path.Ext(name))]
}

func mimeForName(name string) string {
	if m := mimeForNameOrEmpty(name); m != "" {
		return m
	}
	return "application/pdf"
}
