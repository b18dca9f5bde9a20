package tray

import (
	"strconv"
	"strings"
)

// State is the snapshot of the app that the tray menu shows. The app builds one whenever
// something visible changes and hands it to [Tray.Update].
type State struct {
	// Lang is the UI language as a BCP 47 tag; tags starting with "zh" select Simplified
	// Chinese, anything else English.
	Lang string
	// Running reports whether the proxy server is up (listening, possibly paused).
	Running bool
	// Err says why the proxy is not running (for example a taken port); shown when !Running.
	Err string
	// Addr is the listen address, e.g. "127.0.0.1:8321".
	Addr string
	// Port is the listen port; 0 means unknown (Addr is shown instead).
	Port int
	// Total is the number of keys in the pool; Active, Cooling and Dead split it into keys
	// that can serve now, keys cooling down for some model, and disabled (invalid, expired,
	// revoked) keys.
	Total, Active, Cooling, Dead int
	// Passthrough reports whether passthrough mode (clients' own keys go upstream) is on.
	Passthrough bool
	// Paused reports whether the proxy is paused (it refuses requests while paused).
	Paused bool
}

// ItemID identifies a menu item. The ids are stable; the empty id marks a separator.
type ItemID string

// The menu items, in menu order.
const (
	ItemStatus      ItemID = "status"
	ItemOpen        ItemID = "open"
	ItemCopyOpenAI  ItemID = "copy_openai_base_url"
	ItemCopyGemini  ItemID = "copy_gemini_base_url"
	ItemCopyKey     ItemID = "copy_access_key"
	ItemCheckKeys   ItemID = "check_keys"
	ItemPruneDead   ItemID = "prune_dead_keys"
	ItemPassthrough ItemID = "passthrough"
	ItemPause       ItemID = "pause"
	ItemQuit        ItemID = "quit"
)

// Item is one entry of the tray menu.
type Item struct {
	// ID identifies the item; empty for a separator.
	ID ItemID
	// Label is the text shown, in the state's language.
	Label string
	// Enabled reports whether the item can be clicked.
	Enabled bool
	// Checkable marks a checkbox item; Checked is its state.
	Checkable, Checked bool
}

// Separator reports whether the item is a separator line.
func (it Item) Separator() bool { return it.ID == "" }

// AppName is the product name shown as the tray title.
const AppName = "Gemini Balance Desktop"

// maxErrRunes bounds how much of State.Err a menu label shows.
const maxErrRunes = 60

// Menu returns the tray menu for state s. It is a pure function: the same state always
// gives the same items.
func Menu(s State) []Item {
	t := textFor(s.Lang)
	hasAddr := s.Addr != "" || s.Port > 0
	prune := t.pruneDead
	if s.Dead > 0 {
		prune += " (" + strconv.Itoa(s.Dead) + ")"
	}
	pause := t.pause
	if s.Paused {
		pause = t.resume
	}
	sep := Item{}
	return []Item{
		{ID: ItemStatus, Label: StatusLine(s)},
		sep,
		{ID: ItemOpen, Label: t.open, Enabled: true},
		{ID: ItemCopyOpenAI, Label: t.copyOpenAI, Enabled: hasAddr},
		{ID: ItemCopyGemini, Label: t.copyGemini, Enabled: hasAddr},
		{ID: ItemCopyKey, Label: t.copyKey, Enabled: true},
		sep,
		{ID: ItemCheckKeys, Label: t.checkKeys, Enabled: s.Total > 0},
		{ID: ItemPruneDead, Label: prune, Enabled: s.Dead > 0},
		sep,
		{ID: ItemPassthrough, Label: t.passthrough, Enabled: true, Checkable: true, Checked: s.Passthrough},
		{ID: ItemPause, Label: pause, Enabled: s.Running},
		sep,
		{ID: ItemQuit, Label: t.quit, Enabled: true},
	}
}

// StatusLine is the first, informational line of the menu: the port and the key counts,
// or why the proxy is not running.
func StatusLine(s State) string {
	t := textFor(s.Lang)
	if !s.Running {
		if s.Err == "" {
			return t.stopped
		}
		return t.stopped + t.colon + truncate(s.Err, maxErrRunes)
	}
	var b strings.Builder
	if s.Paused {
		b.WriteString(t.paused)
		b.WriteString(" · ")
	}
	if s.Port > 0 {
		b.WriteString(t.port)
		b.WriteString(strconv.Itoa(s.Port))
	} else {
		b.WriteString(s.Addr)
	}
	b.WriteString(" · ")
	if s.Total == 0 {
		b.WriteString(t.noKeys)
		return b.String()
	}
	b.WriteString(t.counts(s.Active, s.Cooling, s.Dead))
	return b.String()
}

// Tooltip is the text shown when hovering over the tray icon.
func Tooltip(s State) string {
	return AppName + " — " + StatusLine(s)
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// text holds the menu strings of one language.
type text struct {
	open, copyOpenAI, copyGemini, copyKey, checkKeys, pruneDead string
	passthrough, pause, resume, quit                            string
	stopped, colon, paused, port, noKeys                        string
	counts                                                      func(ok, cooling, dead int) string
}

var (
	textEN = text{
		open:        "Open window",
		copyOpenAI:  "Copy OpenAI Base URL",
		copyGemini:  "Copy Gemini Base URL",
		copyKey:     "Copy access key",
		checkKeys:   "Check all keys",
		pruneDead:   "Prune dead keys",
		passthrough: "Passthrough mode",
		pause:       "Pause proxy",
		resume:      "Resume proxy",
		quit:        "Quit",
		stopped:     "Proxy not running",
		colon:       ": ",
		paused:      "Paused",
		port:        "Port ",
		noKeys:      "no keys yet",
		counts: func(ok, cooling, dead int) string {
			return strconv.Itoa(ok) + " ok / " + strconv.Itoa(cooling) + " cooling / " + strconv.Itoa(dead) + " dead"
		},
	}
	textZH = text{
		open:        "打开窗口",
		copyOpenAI:  "复制 OpenAI Base URL",
		copyGemini:  "复制 Gemini Base URL",
		copyKey:     "复制访问密钥",
		checkKeys:   "检查所有密钥",
		pruneDead:   "清理失效密钥",
		passthrough: "直通模式",
		pause:       "暂停代理",
		resume:      "恢复代理",
		quit:        "退出",
		stopped:     "代理未运行",
		colon:       "：",
		paused:      "已暂停",
		port:        "端口 ",
		noKeys:      "尚无密钥",
		counts: func(ok, cooling, dead int) string {
			return "可用 " + strconv.Itoa(ok) + " / 冷却 " + strconv.Itoa(cooling) + " / 失效 " + strconv.Itoa(dead)
		},
	}
)

func textFor(lang string) text {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "zh") {
		return textZH
	}
	return textEN
}
