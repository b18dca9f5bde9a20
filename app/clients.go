package app

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The Connect screen and `connect TOOL`: ready settings per client tool,
// filled with this machine's Base URL and access key. This file is the one
// source of the templates; the UI and the CLI only show what it renders.

// Default models the templates name (any Gemini model works).
const (
	ClientModel     = "gemini-2.5-flash" // the everyday model
	ClientProModel  = "gemini-2.5-pro"   // the bigger one (Claude Code's main model)
	CodexProviderID = "gbd"              // the Codex model_providers table
	codexKeyEnv     = "GBD_ACCESS_KEY"   // the variable the printed Codex setup reads
)

// Client kinds.
const (
	ClientKindApp  = "app"  // a GUI app configured by hand (fields to copy)
	ClientKindCLI  = "cli"  // a CLI whose config file we can write
	ClientKindSDK  = "sdk"  // code snippets
	ClientKindCurl = "curl" // shell one-liners
)

// Dialects of the test request (and of the routes a client speaks).
const (
	DialectGemini    = "gemini"    // native Gemini REST
	DialectOpenAI    = "openai"    // OpenAI Chat Completions
	DialectResponses = "responses" // OpenAI Responses
	DialectAnthropic = "anthropic" // Anthropic Messages
)

// Dialects lists the dialects in the order the UI shows them.
var dialects = []string{DialectGemini, DialectOpenAI, DialectResponses, DialectAnthropic}

// Dialects returns the dialects a test request can use.
func Dialects() []string { return slices.Clone(dialects) }

// ClientParams fill the templates.
type ClientParams struct {
	// BaseURL is the proxy's root, e.g. http://127.0.0.1:8321.
	BaseURL   string
	AccessKey string
}

// ClientField is one setting to type into a GUI app.
type ClientField struct {
	// ID names the field for the UI's translations (e.g. "apiHost").
	ID    string `json:"id"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// ClientSnippet is a block of text to copy (code, shell, a config file).
type ClientSnippet struct {
	Title string `json:"title"`
	// Lang is the snippet's language: sh, python, js, json, toml, env.
	Lang string `json:"lang"`
	Text string `json:"text"`
}

// ConfigSetting is one key a config file edit sets. Key is its path in
// the file, dotted (JSON, TOML) or the variable name (.env).
type ConfigSetting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ClientFile is a config file of a CLI tool that `connect --write` and the
// UI's "Write config" edit.
type ClientFile struct {
	// Home is the file's place under the user's home, slash-separated
	// (".claude/settings.json"); EnvDir names the variable that moves its
	// directory (CODEX_HOME), if any.
	Home   string `json:"home"`
	EnvDir string `json:"envDir,omitempty"`
	// Format is json, toml or env.
	Format string `json:"format"`
	// Set are the keys the edit sets (in this order); everything else in
	// the file is kept.
	Set []ConfigSetting `json:"set"`
}

// edit is what the writer does to the file.
func (f ClientFile) edit() configEdit {
	e := configEdit{format: f.Format}
	for _, s := range f.Set {
		path := []string{s.Key}
		if f.Format != "env" {
			path = strings.Split(s.Key, ".")
		}
		e.sets = append(e.sets, editSet{path: path, value: s.Value})
	}
	return e
}

// ClientSetup is the ready settings of one tool.
type ClientSetup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Dialect is the API the tool speaks through the proxy.
	Dialect string `json:"dialect"`
	// Note says where the settings go (English; the UI has translations
	// by ID).
	Note     string          `json:"note"`
	Fields   []ClientField   `json:"fields,omitempty"`
	Snippets []ClientSnippet `json:"snippets"`
	// Files are what "Write config" edits (CLIs only).
	Files []ClientFile `json:"files,omitempty"`
}

// clientIDs lists the tools in the order they are shown.
var clientIDs = []string{
	"cherry-studio", "chatbox", "gemini-cli", "claude-code", "codex",
	"openai-sdk", "google-sdk", "langchain", "vercel-ai", "curl",
}

// ClientIDs returns the ids of every tool with settings.
func ClientIDs() []string { return slices.Clone(clientIDs) }

// ErrNoSuchClient is returned for an unknown tool id.
var ErrNoSuchClient = fmt.Errorf("no such client tool; use one of: %s", strings.Join(clientIDs, ", "))

// RenderClients renders every tool's settings.
func RenderClients(p ClientParams) []ClientSetup {
	out := make([]ClientSetup, 0, len(clientIDs))
	for _, id := range clientIDs {
		s, _ := RenderClient(id, p)
		out = append(out, s)
	}
	return out
}

// RenderClient renders the settings of tool id.
func RenderClient(id string, p ClientParams) (ClientSetup, error) {
	base := strings.TrimRight(p.BaseURL, "/")
	v1 := base + "/v1"
	key := p.AccessKey
	switch id {
	case "cherry-studio":
		return ClientSetup{
			ID: id, Name: "Cherry Studio", Kind: ClientKindApp, Dialect: DialectGemini,
			Note: "Settings → Model Provider → Add: provider type Gemini, then the API key and API host below; " +
				"press Manage to list the models. (Provider type OpenAI works too, with the same host.)",
			Fields: []ClientField{
				{ID: "providerType", Label: "Provider type", Value: "Gemini"},
				{ID: "apiKey", Label: "API key", Value: key},
				{ID: "apiHost", Label: "API host", Value: base},
				{ID: "model", Label: "Model", Value: ClientModel},
			},
			Snippets: []ClientSnippet{},
		}, nil
	case "chatbox":
		return ClientSetup{
			ID: id, Name: "ChatBox", Kind: ClientKindApp, Dialect: DialectGemini,
			Note: "Settings → Model Provider → Gemini: paste the API key, set the API host below, then pick a model. " +
				"(Or add a custom OpenAI API-compatible provider with the OpenAI Base URL.)",
			Fields: []ClientField{
				{ID: "provider", Label: "Model provider", Value: "Gemini"},
				{ID: "apiKey", Label: "API key", Value: key},
				{ID: "apiHost", Label: "API host", Value: base},
				{ID: "openaiHost", Label: "OpenAI-compatible API host", Value: v1},
				{ID: "model", Label: "Model", Value: ClientModel},
			},
			Snippets: []ClientSnippet{},
		}, nil
	case "gemini-cli":
		settings := configEdit{format: "json", sets: []editSet{
			{path: []string{"security", "auth", "selectedType"}, value: "gemini-api-key"},
		}}
		env := configEdit{format: "env", sets: []editSet{
			{path: []string{"GEMINI_API_KEY"}, value: key},
			{path: []string{"GOOGLE_GEMINI_BASE_URL"}, value: base},
		}}
		return ClientSetup{
			ID: id, Name: "Gemini CLI", Kind: ClientKindCLI, Dialect: DialectGemini,
			Note: "gemini-cli reads the key and the Base URL from the environment, or from ~/.gemini/.env in the folders you " +
				"trust (a .env in your project comes first). With GOOGLE_GEMINI_BASE_URL set it also needs " +
				"security.auth.selectedType \"gemini-api-key\" in ~/.gemini/settings.json, or it exits with \"Invalid auth method selected\".",
			Snippets: []ClientSnippet{
				{Title: "~/.gemini/settings.json", Lang: "json", Text: settings.fresh()},
				{Title: "~/.gemini/.env", Lang: "env", Text: env.fresh()},
				{Title: "or in the shell", Lang: "sh", Text: fmt.Sprintf("export GEMINI_API_KEY=%s\nexport GOOGLE_GEMINI_BASE_URL=%s\ngemini -m %s", key, base, ClientModel)},
			},
			Files: []ClientFile{
				settings.file(".gemini/settings.json", ""),
				env.file(".gemini/.env", ""),
			},
		}, nil
	case "claude-code":
		ed := configEdit{format: "json"}
		for _, kv := range [][2]string{
			{"ANTHROPIC_BASE_URL", base},
			{"ANTHROPIC_AUTH_TOKEN", key},
			{"ANTHROPIC_MODEL", ClientProModel},
			{"ANTHROPIC_SMALL_FAST_MODEL", ClientModel},
			{"ANTHROPIC_DEFAULT_OPUS_MODEL", ClientProModel},
			{"ANTHROPIC_DEFAULT_SONNET_MODEL", ClientProModel},
			{"ANTHROPIC_DEFAULT_HAIKU_MODEL", ClientModel},
			{"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
		} {
			ed.sets = append(ed.sets, editSet{path: []string{"env", kv[0]}, value: kv[1]})
		}
		var sh strings.Builder
		for _, s := range ed.sets {
			fmt.Fprintf(&sh, "export %s=%s\n", s.path[1], s.value)
		}
		sh.WriteString(`claude -p "Say hello"`)
		return ClientSetup{
			ID: id, Name: "Claude Code", Kind: ClientKindCLI, Dialect: DialectAnthropic,
			Note: "Claude Code speaks the Anthropic Messages API (/v1/messages); the models are Gemini models by name. " +
				"The settings go under \"env\" in ~/.claude/settings.json (or CLAUDE_CONFIG_DIR), or export them in the shell.",
			Snippets: []ClientSnippet{
				{Title: "~/.claude/settings.json", Lang: "json", Text: ed.fresh()},
				{Title: "or in the shell", Lang: "sh", Text: sh.String()},
			},
			Files: []ClientFile{ed.file(".claude/settings.json", "CLAUDE_CONFIG_DIR")},
		}, nil
	case "codex":
		ed := configEdit{format: "toml", sets: []editSet{
			{path: []string{"model"}, value: ClientModel},
			{path: []string{"model_provider"}, value: CodexProviderID},
			{path: []string{"model_providers", CodexProviderID, "name"}, value: "Gemini Balance Desktop"},
			{path: []string{"model_providers", CodexProviderID, "base_url"}, value: v1},
			{path: []string{"model_providers", CodexProviderID, "wire_api"}, value: "responses"},
			{path: []string{"model_providers", CodexProviderID, "experimental_bearer_token"}, value: key},
		}}
		envKey := ed
		envKey.sets = slices.Clone(ed.sets)
		envKey.sets[len(envKey.sets)-1] = editSet{path: []string{"model_providers", CodexProviderID, "env_key"}, value: codexKeyEnv}
		return ClientSetup{
			ID: id, Name: "Codex CLI", Kind: ClientKindCLI, Dialect: DialectResponses,
			Note: "Codex speaks the OpenAI Responses API (wire_api = \"responses\"). Write config sets model, model_provider " +
				"and the [model_providers." + CodexProviderID + "] table of ~/.codex/config.toml (or CODEX_HOME) with the key in it; " +
				"everything else in the file is kept. To keep the key out of the file, use env_key instead.",
			Snippets: []ClientSnippet{
				{Title: "~/.codex/config.toml", Lang: "toml", Text: ed.fresh()},
				{Title: "or with the key in the environment (env_key)", Lang: "toml", Text: envKey.fresh()},
				{Title: "then", Lang: "sh", Text: fmt.Sprintf("export %s=%s\ncodex exec \"Say hello\"", codexKeyEnv, key)},
			},
			Files: []ClientFile{ed.file(".codex/config.toml", "CODEX_HOME")},
		}, nil
	case "openai-sdk":
		return ClientSetup{
			ID: id, Name: "OpenAI SDK", Kind: ClientKindSDK, Dialect: DialectOpenAI,
			Note: "Any OpenAI SDK: set the base URL and the API key; Chat Completions, Responses, embeddings and models work.",
			Snippets: []ClientSnippet{
				{Title: "Python (pip install openai)", Lang: "python", Text: fmt.Sprintf(`from openai import OpenAI

client = OpenAI(base_url=%q, api_key=%q)
r = client.chat.completions.create(
    model=%q,
    messages=[{"role": "user", "content": "Hello"}],
)
print(r.choices[0].message.content)`, v1, key, ClientModel)},
				{Title: "Node (npm install openai)", Lang: "js", Text: fmt.Sprintf(`import OpenAI from 'openai'

const client = new OpenAI({ baseURL: %q, apiKey: %q })
const r = await client.chat.completions.create({
  model: %q,
  messages: [{ role: 'user', content: 'Hello' }],
})
console.log(r.choices[0].message.content)`, v1, key, ClientModel)},
				{Title: "environment", Lang: "sh", Text: fmt.Sprintf("export OPENAI_BASE_URL=%s\nexport OPENAI_API_KEY=%s", v1, key)},
			},
		}, nil
	case "google-sdk":
		return ClientSetup{
			ID: id, Name: "Google GenAI SDK", Kind: ClientKindSDK, Dialect: DialectGemini,
			Note: "The Google GenAI SDKs: the access key as the API key and the Base URL in the HTTP options (the SDK adds /v1beta).",
			Snippets: []ClientSnippet{
				{Title: "Python (pip install google-genai)", Lang: "python", Text: fmt.Sprintf(`from google import genai
from google.genai import types

client = genai.Client(api_key=%q, http_options=types.HttpOptions(base_url=%q))
r = client.models.generate_content(model=%q, contents="Hello")
print(r.text)`, key, base, ClientModel)},
				{Title: "Node (npm install @google/genai)", Lang: "js", Text: fmt.Sprintf(`import { GoogleGenAI } from '@google/genai'

const ai = new GoogleGenAI({ apiKey: %q, httpOptions: { baseUrl: %q } })
const r = await ai.models.generateContent({ model: %q, contents: 'Hello' })
console.log(r.text)`, key, base, ClientModel)},
			},
		}, nil
	case "langchain":
		return ClientSetup{
			ID: id, Name: "LangChain", Kind: ClientKindSDK, Dialect: DialectOpenAI,
			Note: "LangChain's OpenAI chat model with the OpenAI Base URL (or ChatGoogleGenerativeAI with the Gemini one).",
			Snippets: []ClientSnippet{
				{Title: "Python (pip install langchain-openai)", Lang: "python", Text: fmt.Sprintf(`from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model=%q, base_url=%q, api_key=%q)
print(llm.invoke("Hello").content)`, ClientModel, v1, key)},
				{Title: "Node (npm install @langchain/openai)", Lang: "js", Text: fmt.Sprintf(`import { ChatOpenAI } from '@langchain/openai'

const llm = new ChatOpenAI({ model: %q, apiKey: %q, configuration: { baseURL: %q } })
console.log((await llm.invoke('Hello')).content)`, ClientModel, key, v1)},
			},
		}, nil
	case "vercel-ai":
		return ClientSetup{
			ID: id, Name: "Vercel AI SDK", Kind: ClientKindSDK, Dialect: DialectGemini,
			Note: "The AI SDK's Google provider with the proxy's Gemini Base URL (it calls /v1beta/models/…).",
			Snippets: []ClientSnippet{
				{Title: "Node (npm install ai @ai-sdk/google)", Lang: "js", Text: fmt.Sprintf(`import { createGoogleGenerativeAI } from '@ai-sdk/google'
import { generateText } from 'ai'

const google = createGoogleGenerativeAI({ baseURL: %q, apiKey: %q })
const { text } = await generateText({ model: google(%q), prompt: 'Hello' })
console.log(text)`, base+"/v1beta", key, ClientModel)},
				{Title: "or the OpenAI-compatible provider (npm install @ai-sdk/openai-compatible)", Lang: "js", Text: fmt.Sprintf(`import { createOpenAICompatible } from '@ai-sdk/openai-compatible'

const gbd = createOpenAICompatible({ name: 'gbd', baseURL: %q, apiKey: %q })
// generateText({ model: gbd(%q), prompt: 'Hello' })`, v1, key, ClientModel)},
			},
		}, nil
	case "curl":
		return ClientSetup{
			ID: id, Name: "curl", Kind: ClientKindCurl, Dialect: DialectGemini,
			Note: "One request per API the proxy speaks.",
			Snippets: []ClientSnippet{
				{Title: "Gemini (native)", Lang: "sh", Text: fmt.Sprintf(`curl '%s/v1beta/models/%s:generateContent' \
  -H 'x-goog-api-key: %s' -H 'Content-Type: application/json' \
  -d '{"contents":[{"parts":[{"text":"Hello"}]}]}'`, base, ClientModel, key)},
				{Title: "OpenAI Chat Completions", Lang: "sh", Text: fmt.Sprintf(`curl %s/chat/completions \
  -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
  -d '{"model":"%s","messages":[{"role":"user","content":"Hello"}]}'`, v1, key, ClientModel)},
				{Title: "OpenAI Responses", Lang: "sh", Text: fmt.Sprintf(`curl %s/responses \
  -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
  -d '{"model":"%s","input":"Hello"}'`, v1, key, ClientModel)},
				{Title: "Anthropic Messages", Lang: "sh", Text: fmt.Sprintf(`curl %s/messages \
  -H 'x-api-key: %s' -H 'anthropic-version: 2023-06-01' -H 'Content-Type: application/json' \
  -d '{"model":"%s","max_tokens":256,"messages":[{"role":"user","content":"Hello"}]}'`, v1, key, ClientModel)},
			},
		}, nil
	}
	return ClientSetup{}, fmt.Errorf("client %q: %w", id, ErrNoSuchClient)
}

// clientParams are this instance's Base URL and access key.
func (a *App) clientParams() ClientParams {
	return ClientParams{BaseURL: a.BaseURL(), AccessKey: a.AccessKey()}
}

// apiClients is GET /api/clients: every tool's settings.
func (a *App) apiClients(w http.ResponseWriter, r *http.Request) error {
	return answer(w, map[string]any{"clients": RenderClients(a.clientParams()), "dialects": dialects})
}

// apiClient is GET /api/clients/{tool}.
func (a *App) apiClient(w http.ResponseWriter, r *http.Request) error {
	s, err := RenderClient(r.PathValue("tool"), a.clientParams())
	if err != nil {
		return httpError(http.StatusNotFound, "%v", err)
	}
	return answer(w, s)
}

// clientHome is the home the config files are written in.
func (a *App) clientHome() (string, error) {
	a.mu.Lock()
	home := a.opts.ClientHome
	a.mu.Unlock()
	if home != "" {
		return home, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find your home folder: %w", err)
	}
	return h, nil
}

// PlanClientConfig returns the changes writing tool's config files would
// make in paths (nil: each file's place in the user's home). It fails,
// changing nothing, when a file cannot be read or parsed.
func PlanClientConfig(s ClientSetup, paths []string) ([]ConfigChange, error) {
	if len(s.Files) == 0 {
		return nil, fmt.Errorf("%s has no config file to write: copy its settings", s.Name)
	}
	var out []ConfigChange
	for i, f := range s.Files {
		c, err := PlanConfigWrite(f, paths[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ClientConfigPaths are where tool's files go for a user whose home is
// home; override, when set, is the first file's path and the others go
// beside it.
func ClientConfigPaths(s ClientSetup, home, override string, getenv func(string) string) []string {
	var out []string
	for i, f := range s.Files {
		switch {
		case override != "" && i == 0:
			out = append(out, override)
		case override != "":
			out = append(out, filepath.Join(filepath.Dir(override), path.Base(f.Home)))
		default:
			out = append(out, ResolveConfigPath(f, home, getenv))
		}
	}
	return out
}

// WriteClientConfig writes planned changes (made by PlanClientConfig).
func WriteClientConfig(changes []ConfigChange, now time.Time) ([]ConfigChange, error) {
	out := make([]ConfigChange, 0, len(changes))
	for _, c := range changes {
		w, err := WriteConfig(c, now)
		if err != nil {
			return out, err
		}
		out = append(out, w)
	}
	return out, nil
}

// apiWriteClient is POST /api/clients/{tool}/write {"dryRun"?: bool,
// "expect"?: {path: beforeHash}}: the changes writing the tool's config
// files makes, and with dryRun false, the write (refused with 409 when a
// file changed since the dry run named in expect).
func (a *App) apiWriteClient(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DryRun bool              `json:"dryRun"`
		Expect map[string]string `json:"expect"`
	}
	if err := decodeOptionalBody(w, r, &in); err != nil {
		return err
	}
	s, err := RenderClient(r.PathValue("tool"), a.clientParams())
	if err != nil {
		return httpError(http.StatusNotFound, "%v", err)
	}
	if len(s.Files) == 0 {
		return httpError(http.StatusBadRequest, "%s has no config file to write: copy its settings", s.Name)
	}
	home, err := a.clientHome()
	if err != nil {
		return err
	}
	changes, err := PlanClientConfig(s, ClientConfigPaths(s, home, "", os.Getenv))
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, "%v", err)
	}
	if !in.DryRun {
		for _, c := range changes {
			if h, ok := in.Expect[c.Path]; ok && h != c.BeforeHash {
				return httpError(http.StatusConflict, "%s: %v", c.Path, ErrConfigChanged)
			}
		}
		if changes, err = WriteClientConfig(changes, time.Now()); err != nil {
			if errors.Is(err, ErrConfigChanged) {
				return httpError(http.StatusConflict, "%v", err)
			}
			return err
		}
		a.log.Info("client config written", "tool", s.ID, "files", len(changes))
	}
	return answer(w, map[string]any{"tool": s.ID, "written": !in.DryRun, "changes": changes})
}

// Client returns tool id's settings filled with this instance's Base URL
// and access key.
func (a *App) Client(id string) (ClientSetup, error) {
	return RenderClient(id, a.clientParams())
}
