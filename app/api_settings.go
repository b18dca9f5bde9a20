package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// The management API's settings routes, and starting the server again
// after a failed start.

// settingsView is the settings as the API shows them: the admin password
// is write-only (the app keeps only its hash).
func settingsView(s Settings) Settings {
	s.AdminPassword = ""
	return s
}

// settingsAnswer is the answer of every settings change.
type settingsAnswer struct {
	SettingsChange
	// AdminPasswordChanged: every other session was logged out.
	AdminPasswordChanged bool `json:"adminPasswordChanged,omitempty"`
}

func (a *App) apiGetSettings(w http.ResponseWriter, r *http.Request) error {
	return answer(w, settingsView(a.Settings()))
}

// settingsFields are the JSON names of the settings fields.
func settingsFields() []string {
	b, _ := json.Marshal(DefaultSettings())
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// readSettingsBody reads a JSON object body and returns its fields.
func readSettingsBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, []byte, error) {
	var raw json.RawMessage
	if err := decodeAPIBody(w, r, &raw); err != nil {
		return nil, nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, nil, httpError(http.StatusBadRequest, "send the settings as a JSON object")
	}
	return fields, raw, nil
}

// strictInto decodes data into v, refusing unknown fields and wrong types,
// with a message that names the problem and the field.
func strictInto(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// apiPutSettings replaces the settings with a full object (every field;
// "adminPassword" may be left out or empty to keep it).
func (a *App) apiPutSettings(w http.ResponseWriter, r *http.Request) error {
	fields, raw, err := readSettingsBody(w, r)
	if err != nil {
		return err
	}
	var missing []string
	for _, f := range settingsFields() {
		if _, ok := fields[f]; !ok && f != "adminPassword" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fieldError(missing[0], "PUT needs the full settings object; missing: %s (use PATCH to change some fields)", strings.Join(missing, ", "))
	}
	return a.applySettingsRequest(w, r, func(s *Settings) error {
		var next Settings
		if err := strictInto(raw, &next); err != nil {
			return err
		}
		*s = next
		return nil
	})
}

// apiPatchSettings changes the fields sent and keeps the others.
func (a *App) apiPatchSettings(w http.ResponseWriter, r *http.Request) error {
	fields, raw, err := readSettingsBody(w, r)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		return httpError(http.StatusBadRequest, "nothing to change: send the fields to change")
	}
	return a.applySettingsRequest(w, r, func(s *Settings) error {
		// Maps and lists sent replace the old ones rather than merge.
		if _, ok := fields["aliases"]; ok {
			s.Aliases = nil
		}
		if _, ok := fields["allowedHosts"]; ok {
			s.AllowedHosts = nil
		}
		return strictInto(raw, s)
	})
}

// applySettingsRequest applies edit to the settings in force, atomically,
// for a request: 400 with the message and the field when the result is
// invalid. An empty admin password keeps the old one. A changed admin
// password logs every session out except the caller's (a browser gets a
// fresh session cookie).
func (a *App) applySettingsRequest(w http.ResponseWriter, r *http.Request, edit func(*Settings) error) error {
	newPassword := false
	_, ch, err := a.EditSettings(r.Context(), func(s *Settings) error {
		if err := edit(s); err != nil {
			return err
		}
		newPassword = s.AdminPassword != ""
		return nil
	})
	if err != nil {
		return err
	}
	ans := settingsAnswer{SettingsChange: ch}
	if newPassword {
		a.keepOnlyCaller(w, r)
		ans.AdminPasswordChanged = true
	}
	ans.Settings = settingsView(ans.Settings)
	return answer(w, ans)
}

// keepOnlyCaller drops every admin session; a caller logged in by cookie
// gets a new session so that the browser that made the change stays
// logged in. Bearer callers must use the new password from now on.
func (a *App) keepOnlyCaller(w http.ResponseWriter, r *http.Request) {
	_, cookieErr := r.Cookie(sessionCookie)
	byCookie := r.Header.Get("Authorization") == "" && cookieErr == nil
	a.sessions.dropAll()
	if byCookie {
		a.startSession(w)
	}
}

func (a *App) apiRegenerateAccessKey(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	k, err := a.RegenerateAccessKey(r.Context())
	return answerOr(w, map[string]string{"accessKey": k}, err)
}

// apiRegenerateAdminPassword makes a new random admin password and answers
// it (once). Every session is logged out except the caller's browser.
func (a *App) apiRegenerateAdminPassword(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	pw, err := a.ResetAdminPassword(r.Context())
	if err != nil {
		return err
	}
	a.keepOnlyCaller(w, r)
	return answer(w, map[string]any{"adminPassword": pw, "sessionsDropped": true})
}

// apiStartServer starts serving after a failed start (a taken port, once
// the user picked another); nothing happens when the proxy serves.
func (a *App) apiStartServer(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	if err := a.RetryStart(); err != nil {
		return httpError(http.StatusConflict, "%v", err)
	}
	return answer(w, a.Status())
}
