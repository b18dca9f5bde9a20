package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Writing a CLI tool's config file: the change is computed first (a plan
// with the keys set, before and after, and a line diff), shown, and only
// then written, with a backup of the old file beside it. The edit merges
// into what is there: JSON keys are set in place (the rest of the object,
// and its key order, kept), TOML and .env files are edited line by line
// (every other line kept byte for byte). A file that does not parse is
// refused untouched.

// maxConfigFile bounds the config files read (they are a few KiB).
const maxConfigFile = 1 << 20

// ErrConfigUnparsable is returned when the existing file cannot be parsed:
// nothing is written.
var ErrConfigUnparsable = errors.New("cannot parse the existing file")

// ErrConfigChanged is returned when the file changed since the plan.
var ErrConfigChanged = errors.New("the file changed since the change was shown; look at it again")

// editSet sets one key: path is the dotted key (JSON objects, TOML
// tables) or the variable name (.env).
type editSet struct {
	path  []string
	value string
}

// configEdit is what a tool's config file gets.
type configEdit struct {
	format string // json, toml, env
	sets   []editSet
}

// file describes the edit as a ClientFile at home (below the user's home)
// or in $envDir.
func (e configEdit) file(home, envDir string) ClientFile {
	f := ClientFile{Home: home, EnvDir: envDir, Format: e.format}
	for _, s := range e.sets {
		f.Set = append(f.Set, ConfigSetting{Key: strings.Join(s.path, "."), Value: s.value})
	}
	return f
}

// fresh is the file as the edit makes it from nothing.
func (e configEdit) fresh() string {
	out, err := e.apply(nil)
	if err != nil {
		return ""
	}
	return string(out)
}

// apply edits data (nil: no file yet).
func (e configEdit) apply(data []byte) ([]byte, error) {
	switch e.format {
	case "json":
		return e.applyJSON(data)
	case "toml":
		return e.applyTOML(data)
	case "env":
		return e.applyEnv(data)
	}
	return nil, fmt.Errorf("unknown config format %q", e.format)
}

// ---- JSON: set keys in place, keeping the rest and the key order.

// jsonObject is a JSON object with its key order; values are raw until an
// edit goes into them.
type jsonObject struct {
	keys []string
	vals map[string]json.RawMessage
}

func parseJSONObject(data []byte) (*jsonObject, error) {
	o := &jsonObject{vals: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := o.vals[k]; !dup {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return o, nil
}

func (o *jsonObject) marshal() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// set puts value at path, making the objects on the way.
func (o *jsonObject) set(path []string, value string) error {
	k := path[0]
	if len(path) == 1 {
		v, _ := json.Marshal(value)
		if _, ok := o.vals[k]; !ok {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
		return nil
	}
	child := &jsonObject{vals: map[string]json.RawMessage{}}
	if raw, ok := o.vals[k]; ok {
		c, err := parseJSONObject(raw)
		if err != nil {
			return fmt.Errorf("%q is not an object, so %s cannot be set in it", k, strings.Join(path, "."))
		}
		child = c
	} else {
		o.keys = append(o.keys, k)
	}
	if err := child.set(path[1:], value); err != nil {
		return err
	}
	o.vals[k] = child.marshal()
	return nil
}

func (e configEdit) applyJSON(data []byte) ([]byte, error) {
	o := &jsonObject{vals: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(data)) > 0 {
		var err error
		if o, err = parseJSONObject(data); err != nil {
			return nil, fmt.Errorf("%w as a JSON object (%v); comments and trailing commas are not JSON", ErrConfigUnparsable, err)
		}
	}
	for _, s := range e.sets {
		if err := o.set(s.path, s.value); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfigUnparsable, err)
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, o.marshal(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// ---- TOML: line edits of the keys set, every other line kept.

var (
	tomlHeader = regexp.MustCompile(`^\s*\[`)
	tomlKey    = regexp.MustCompile(`^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=`)
	tomlBare   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// tomlTableName returns the name of a [table] header line ("" and false
// for a line that is not one; arrays of tables count as headers too).
func tomlTableName(line string) (string, bool) {
	if !tomlHeader.MatchString(line) {
		return "", false
	}
	s := strings.TrimSpace(line)
	if strings.HasPrefix(s, "[[") {
		return "[[", true // an array of tables: never ours
	}
	end := strings.LastIndex(s, "]")
	if end < 0 {
		return "", true
	}
	var parts []string
	for _, p := range strings.Split(s[1:end], ".") {
		p = strings.TrimSpace(p)
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		} else if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
			p = p[1 : len(p)-1]
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "."), true
}

// tomlKeyName returns the bare name of a key = value line.
func tomlKeyName(line string) (string, bool) {
	m := tomlKey.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	k := m[1]
	if u, err := strconv.Unquote(k); err == nil {
		k = u
	} else if k[0] == '\'' {
		k = k[1 : len(k)-1]
	}
	return k, true
}

// tomlTrailingComment returns the comment after a one-line string or bare
// value ("  # note"), with the spaces before it; "" when there is none or
// the value is not that simple (the check after the edit catches the rest).
func tomlTrailingComment(line string) string {
	m := tomlKey.FindStringIndex(line)
	rest := strings.TrimLeft(line[m[1]:], " \t")
	end := -1
	switch {
	case strings.HasPrefix(rest, `"""`), strings.HasPrefix(rest, "'''"):
		return ""
	case strings.HasPrefix(rest, `"`):
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\\' {
				i++
			} else if rest[i] == '"' {
				end = i + 1
				break
			}
		}
	case strings.HasPrefix(rest, "'"):
		if j := strings.IndexByte(rest[1:], '\''); j >= 0 {
			end = j + 2
		}
	default:
		end = strings.IndexAny(rest, " \t#")
	}
	if end < 0 {
		return ""
	}
	after := rest[end:]
	if strings.HasPrefix(strings.TrimLeft(after, " \t"), "#") {
		return after
	}
	return ""
}

func tomlLine(key, value string) string {
	return key + " = " + strconv.Quote(value)
}

// setTOMLKeys sets kv in lines[start:end] (a table's body, or the top
// level): a key's line is replaced, a missing key goes after the last
// key line of the region. It returns the new lines.
func setTOMLKeys(lines []string, start, end int, kv []editSet) []string {
	done := map[string]bool{}
	lastKey := start - 1
	for i := start; i < end; i++ {
		name, ok := tomlKeyName(lines[i])
		if !ok {
			continue
		}
		lastKey = i
		for _, s := range kv {
			if s.path[len(s.path)-1] == name && !done[name] {
				indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
				lines[i] = indent + tomlLine(name, s.value) + tomlTrailingComment(lines[i])
				done[name] = true
			}
		}
	}
	var add []string
	for _, s := range kv {
		if name := s.path[len(s.path)-1]; !done[name] {
			add = append(add, tomlLine(name, s.value))
		}
	}
	if len(add) == 0 {
		return lines
	}
	at := lastKey + 1 // after the last key, or first in the region
	return append(lines[:at], append(add, lines[at:]...)...)
}

func (e configEdit) applyTOML(data []byte) ([]byte, error) {
	var before map[string]any
	if _, err := toml.Decode(string(data), &before); err != nil {
		return nil, fmt.Errorf("%w as TOML: %v", ErrConfigUnparsable, err)
	}
	tables, byTable := e.byTable()
	text := string(data)
	crlf := strings.Contains(text, "\r\n")
	if crlf {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	trailingNL := text == "" || strings.HasSuffix(text, "\n")
	lines := splitLines(text)
	for _, t := range tables {
		start, end := tomlRegion(lines, t)
		if start < 0 {
			// A new table at the end, after a blank line.
			if len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "" {
				lines = append(lines, "")
			}
			lines = append(lines, "["+tomlTablePath(strings.Split(t, "."))+"]")
			for _, s := range byTable[t] {
				lines = append(lines, tomlLine(s.path[len(s.path)-1], s.value))
			}
			continue
		}
		lines = setTOMLKeys(lines, start, end, byTable[t])
	}
	out := strings.Join(lines, "\n")
	if trailingNL || out != "" {
		out += "\n"
	}
	if err := e.checkTOML(out); err != nil {
		return nil, err
	}
	if crlf {
		out = strings.ReplaceAll(out, "\n", "\r\n")
	}
	return []byte(out), nil
}

// byTable groups the sets by TOML table ("" is the top level), tables in
// the order they first come.
func (e configEdit) byTable() ([]string, map[string][]editSet) {
	var tables []string
	byTable := map[string][]editSet{}
	for _, s := range e.sets {
		t := strings.Join(s.path[:len(s.path)-1], ".")
		if _, ok := byTable[t]; !ok {
			tables = append(tables, t)
		}
		byTable[t] = append(byTable[t], s)
	}
	return tables, byTable
}

// tomlRegion finds table t's region in lines: its body up to the next
// header (the top level ends at the first header). start is -1 when the
// table is not there.
func tomlRegion(lines []string, t string) (start, end int) {
	start, end = -1, len(lines)
	if t == "" {
		start = 0
	}
	for i, l := range lines {
		name, ok := tomlTableName(l)
		if !ok {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if name == t {
			start = i + 1
		}
	}
	return start, end
}

// checkTOML tells whether the edited text out parses and gives exactly the
// values set: a key defined twice, a multi-line value or a dotted key
// elsewhere would break that, and then nothing is written.
func (e configEdit) checkTOML(out string) error {
	var after map[string]any
	if _, err := toml.Decode(out, &after); err != nil {
		return fmt.Errorf("%w: the edit would not parse (%v); edit the file by hand", ErrConfigUnparsable, err)
	}
	for _, s := range e.sets {
		var v any = after
		for _, p := range s.path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		if v != s.value {
			return fmt.Errorf("%w: %s could not be set safely; edit the file by hand", ErrConfigUnparsable, strings.Join(s.path, "."))
		}
	}
	return nil
}

// tomlTablePath writes a table name, quoting parts that are not bare keys.
func tomlTablePath(parts []string) string {
	for i, p := range parts {
		if !tomlBare.MatchString(p) {
			parts[i] = strconv.Quote(p)
		}
	}
	return strings.Join(parts, ".")
}

// ---- .env: KEY=value lines.

var envLine = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=`)

func (e configEdit) applyEnv(data []byte) ([]byte, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := splitLines(text)
	done := map[string]bool{}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		m := envLine.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("%w as a .env file: line %d is not NAME=value", ErrConfigUnparsable, i+1)
		}
		for _, s := range e.sets {
			if s.path[0] == m[1] {
				if done[m[1]] {
					lines[i] = "# " + l // a later duplicate would win
				} else {
					lines[i] = m[1] + "=" + s.value
				}
				done[m[1]] = true
			}
		}
	}
	for _, s := range e.sets {
		if !done[s.path[0]] {
			lines = append(lines, s.path[0]+"="+s.value)
		}
	}
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

// ---- Plans and writes.

// ConfigChange is what writing a config file would do (or did).
type ConfigChange struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Exists bool   `json:"exists"`
	// Set are the keys set: their value before ("" when absent; secrets
	// masked) and after.
	Set []SettingChange `json:"set"`
	// Diff is a line diff of the file (unified style, a few lines of
	// context).
	Diff string `json:"diff"`
	// Unchanged: the file already holds these settings.
	Unchanged bool `json:"unchanged"`
	// BeforeHash identifies the content the plan was made from; a write
	// refuses when the file no longer has it.
	BeforeHash string `json:"beforeHash"`
	// Backup is the copy of the old file (after a write).
	Backup string `json:"backup,omitempty"`

	after []byte
	mode  fs.FileMode
}

// SettingChange is one key's value before and after.
type SettingChange struct {
	Key    string `json:"key"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// ResolveConfigPath is where f lives for a user whose home is home, with
// getenv for the variable that moves its directory.
func ResolveConfigPath(f ClientFile, home string, getenv func(string) string) string {
	rel := filepath.FromSlash(f.Home)
	if f.EnvDir != "" && getenv != nil {
		if d := getenv(f.EnvDir); d != "" {
			return filepath.Join(d, filepath.Base(rel))
		}
	}
	return filepath.Join(home, rel)
}

func hashOf(b []byte, exists bool) string {
	if !exists {
		return "none"
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// readConfig reads path (following a symlink to its target), nil and
// false when it does not exist.
func readConfig(path string) (data []byte, mode fs.FileMode, exists bool, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o600, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, false, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > maxConfigFile {
		return nil, 0, false, fmt.Errorf("%s is larger than %d KiB: not a config file this writes", path, maxConfigFile>>10)
	}
	data, err = os.ReadFile(path)
	return data, st.Mode().Perm(), true, err
}

// PlanConfigWrite computes what writing f at path would change.
func PlanConfigWrite(f ClientFile, path string) (ConfigChange, error) {
	c := ConfigChange{Path: path, Format: f.Format}
	before, mode, exists, err := readConfig(path)
	if err != nil {
		return c, err
	}
	c.Exists, c.mode, c.BeforeHash = exists, mode, hashOf(before, exists)
	ed := f.edit()
	after, err := ed.apply(before)
	if err != nil {
		return c, fmt.Errorf("%s: %w (nothing was changed)", path, err)
	}
	c.after = after
	c.Unchanged = exists && bytes.Equal(before, after)
	old := readSettings(ed, before)
	for _, s := range ed.sets {
		k := strings.Join(s.path, ".")
		c.Set = append(c.Set, SettingChange{Key: k, Before: maskSecretSetting(k, old[k]), After: s.value})
	}
	c.Diff = lineDiff(string(before), string(after), 2)
	return c, nil
}

// readSettings returns the current values of f's keys in data.
func readSettings(f configEdit, data []byte) map[string]string {
	out := map[string]string{}
	var root any
	switch f.format {
	case "json":
		json.Unmarshal(data, &root)
	case "toml":
		var m map[string]any
		toml.Decode(string(data), &m)
		root = m
	case "env":
		for _, l := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
			if m := envLine.FindStringSubmatch(l); m != nil {
				out[m[1]] = strings.TrimSpace(l[len(m[0]):])
			}
		}
		return out
	}
	for _, s := range f.sets {
		var v any = root
		for _, p := range s.path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		if v != nil {
			out[strings.Join(s.path, ".")] = fmt.Sprint(v)
		}
	}
	return out
}

// maskSecretSetting masks the old value of a key that holds a secret.
func maskSecretSetting(key, v string) string {
	up := strings.ToUpper(key)
	if v == "" || !(strings.Contains(up, "TOKEN") || strings.Contains(up, "API_KEY")) {
		return v
	}
	if len(v) <= 8 {
		return "…"
	}
	return v[:4] + "…" + v[len(v)-4:]
}

// WriteConfig writes the planned change: a backup of the old file as
// path.bak-<timestamp>, then the new content (written to a temporary file
// and renamed into place, keeping the old file's permissions; 0600 for a
// new file, which holds the access key). It refuses when the file no
// longer has the content the plan was made from.
func WriteConfig(c ConfigChange, now time.Time) (ConfigChange, error) {
	if c.after == nil {
		return c, errors.New("no planned change to write")
	}
	path := c.Path
	// A symlinked config (dotfiles) is written where it points.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	before, mode, exists, err := readConfig(path)
	if err != nil {
		return c, err
	}
	if hashOf(before, exists) != c.BeforeHash {
		return c, fmt.Errorf("%s: %w", c.Path, ErrConfigChanged)
	}
	if c.Unchanged {
		return c, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return c, fmt.Errorf("make %s: %w", dir, err)
	}
	if exists {
		c.Backup = path + ".bak-" + now.Format("20060102-150405")
		if _, err := os.Stat(c.Backup); err == nil {
			c.Backup += fmt.Sprintf("-%d", now.Nanosecond())
		}
		if err := os.WriteFile(c.Backup, before, mode); err != nil {
			return c, fmt.Errorf("back up %s: %w (nothing was changed)", c.Path, err)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return c, fmt.Errorf("write %s: %w", c.Path, err)
	}
	_, werr := tmp.Write(c.after)
	if werr == nil {
		werr = tmp.Chmod(mode)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return c, fmt.Errorf("write %s: %w (the old file is unchanged)", c.Path, werr)
	}
	return c, nil
}

// splitLines splits text into its lines (none for "", no empty last line
// for the final newline).
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// diffOp is a line of a diff: kind ' ' (in both), '-' or '+'.
type diffOp struct {
	kind byte
	text string
}

// lineDiff is a unified-style diff of a and b with ctx lines of context
// (a whole-file replacement when the files are too big to compare).
func lineDiff(a, b string, ctx int) string {
	if a == b {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	if len(x)*len(y) > 1_000_000 { // 4 MB of table at most
		var ops []diffOp
		for _, l := range x {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range y {
			ops = append(ops, diffOp{'+', l})
		}
		return renderDiff(ops, ctx)
	}
	return renderDiff(lcsDiff(x, y), ctx)
}

// lcsDiff is the diff of x and y along their longest common subsequence.
func lcsDiff(x, y []string) []diffOp {
	n, m := len(x), len(y)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, diffOp{' ', x[i]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, diffOp{'+', y[j]})
			j++
		default:
			ops = append(ops, diffOp{'-', x[i]})
			i++
		}
	}
	return ops
}

// renderDiff writes the changed lines of ops with ctx lines of context
// around them, "…" where lines are left out.
func renderDiff(ops []diffOp, ctx int) string {
	var out strings.Builder
	lastShown := -1
	for k, o := range ops {
		near := false
		for d := -ctx; d <= ctx; d++ {
			if k+d >= 0 && k+d < len(ops) && ops[k+d].kind != ' ' {
				near = true
				break
			}
		}
		if !near {
			continue
		}
		if lastShown >= 0 && k > lastShown+1 {
			out.WriteString("…\n")
		}
		out.WriteByte(o.kind)
		out.WriteString(o.text)
		out.WriteByte('\n')
		lastShown = k
	}
	return out.String()
}
