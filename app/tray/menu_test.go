package tray

import (
	"slices"
	"testing"
)

func labels(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Separator() {
			out = append(out, "---")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

func find(items []Item, id ItemID) Item {
	for _, it := range items {
		if it.ID == id {
			return it
		}
	}
	return Item{}
}

func TestMenuLabels(t *testing.T) {
	running := State{Running: true, Addr: "127.0.0.1:8321", Port: 8321, Total: 7, Active: 5, Cooling: 1, Dead: 1}
	tests := []struct {
		name string
		in   State
		want []string
	}{
		{
			name: "english running",
			in:   running,
			want: []string{
				"Port 8321 · 5 ok / 1 cooling / 1 dead", "---",
				"Open window", "Copy OpenAI Base URL", "Copy Gemini Base URL", "Copy access key", "---",
				"Check all keys", "Prune dead keys (1)", "---",
				"Passthrough mode", "Pause proxy", "---",
				"Quit",
			},
		},
		{
			name: "chinese running",
			in:   State{Lang: "zh-CN", Running: true, Port: 8321, Addr: "127.0.0.1:8321", Total: 3, Active: 3},
			want: []string{
				"端口 8321 · 可用 3 / 冷却 0 / 失效 0", "---",
				"打开窗口", "复制 OpenAI Base URL", "复制 Gemini Base URL", "复制访问密钥", "---",
				"检查所有密钥", "清理失效密钥", "---",
				"直通模式", "暂停代理", "---",
				"退出",
			},
		},
		{
			name: "paused english",
			in:   State{Lang: "en-US", Running: true, Paused: true, Port: 9000, Total: 2, Active: 1, Dead: 1},
			want: []string{
				"Paused · Port 9000 · 1 ok / 0 cooling / 1 dead", "---",
				"Open window", "Copy OpenAI Base URL", "Copy Gemini Base URL", "Copy access key", "---",
				"Check all keys", "Prune dead keys (1)", "---",
				"Passthrough mode", "Resume proxy", "---",
				"Quit",
			},
		},
		{
			name: "paused chinese",
			in:   State{Lang: "zh", Running: true, Paused: true, Port: 9000, Total: 4, Active: 2, Cooling: 2},
			want: []string{
				"已暂停 · 端口 9000 · 可用 2 / 冷却 2 / 失效 0", "---",
				"打开窗口", "复制 OpenAI Base URL", "复制 Gemini Base URL", "复制访问密钥", "---",
				"检查所有密钥", "清理失效密钥", "---",
				"直通模式", "恢复代理", "---",
				"退出",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := labels(Menu(tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Menu(%+v) labels = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStatusLine(t *testing.T) {
	tests := []struct {
		in   State
		want string
	}{
		{State{Running: true, Port: 8321, Total: 10, Active: 7, Cooling: 2, Dead: 1}, "Port 8321 · 7 ok / 2 cooling / 1 dead"},
		{State{Running: true, Port: 8321}, "Port 8321 · no keys yet"},
		{State{Lang: "zh-CN", Running: true, Port: 8321}, "端口 8321 · 尚无密钥"},
		{State{Running: true, Addr: "0.0.0.0:8321", Total: 1, Active: 1}, "0.0.0.0:8321 · 1 ok / 0 cooling / 0 dead"},
		{State{}, "Proxy not running"},
		{State{Lang: "zh-Hans-CN"}, "代理未运行"},
		{State{Err: "listen tcp 127.0.0.1:8321: bind: address already in use"}, "Proxy not running: listen tcp 127.0.0.1:8321: bind: address already in use"},
		{State{Lang: "zh-TW", Err: "port taken"}, "代理未运行：port taken"},
		{State{Err: "line one\nline two   with  spaces"}, "Proxy not running: line one line two with spaces"},
		{State{Err: "0123456789012345678901234567890123456789012345678901234567890123456789"}, "Proxy not running: 01234567890123456789012345678901234567890123456789012345678…"},
		{State{Lang: "fr-FR", Running: true, Port: 1}, "Port 1 · no keys yet"},
	}
	for _, tt := range tests {
		if got := StatusLine(tt.in); got != tt.want {
			t.Errorf("StatusLine(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTooltip(t *testing.T) {
	in := State{Running: true, Port: 8321, Total: 1, Active: 1}
	want := "Gemini Balance Desktop — Port 8321 · 1 ok / 0 cooling / 0 dead"
	if got := Tooltip(in); got != want {
		t.Errorf("Tooltip(%+v) = %q, want %q", in, got, want)
	}
}

func TestMenuFlags(t *testing.T) {
	type flags struct{ enabled, checkable, checked bool }
	tests := []struct {
		name string
		in   State
		id   ItemID
		want flags
	}{
		{"status is informational", State{Running: true, Port: 1}, ItemStatus, flags{}},
		{"open always", State{}, ItemOpen, flags{enabled: true}},
		{"copy openai needs an address", State{}, ItemCopyOpenAI, flags{}},
		{"copy openai with port", State{Port: 8321}, ItemCopyOpenAI, flags{enabled: true}},
		{"copy gemini with addr", State{Addr: "127.0.0.1:8321"}, ItemCopyGemini, flags{enabled: true}},
		{"copy key always", State{}, ItemCopyKey, flags{enabled: true}},
		{"check keys needs keys", State{Running: true}, ItemCheckKeys, flags{}},
		{"check keys with keys", State{Total: 1}, ItemCheckKeys, flags{enabled: true}},
		{"prune needs dead keys", State{Total: 3, Active: 3}, ItemPruneDead, flags{}},
		{"prune with dead keys", State{Total: 3, Dead: 2}, ItemPruneDead, flags{enabled: true}},
		{"passthrough off", State{}, ItemPassthrough, flags{enabled: true, checkable: true}},
		{"passthrough on", State{Passthrough: true}, ItemPassthrough, flags{enabled: true, checkable: true, checked: true}},
		{"pause needs a running proxy", State{Err: "port taken"}, ItemPause, flags{}},
		{"pause when running", State{Running: true}, ItemPause, flags{enabled: true}},
		{"quit always", State{Err: "x"}, ItemQuit, flags{enabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := find(Menu(tt.in), tt.id)
			if it.ID != tt.id {
				t.Fatalf("Menu(%+v) has no item %q", tt.in, tt.id)
			}
			got := flags{it.Enabled, it.Checkable, it.Checked}
			if got != tt.want {
				t.Errorf("Menu(%+v)[%s] flags = %+v, want %+v", tt.in, tt.id, got, tt.want)
			}
		})
	}
}

// TestMenuShapeStable checks that every state gives the same items in the same order, so the
// tray updates items in place instead of rebuilding the menu.
func TestMenuShapeStable(t *testing.T) {
	shape := func(s State) []ItemID {
		var ids []ItemID
		for _, it := range Menu(s) {
			ids = append(ids, it.ID)
		}
		return ids
	}
	base := shape(State{})
	for _, s := range []State{
		{Running: true, Paused: true, Passthrough: true, Lang: "zh-CN", Total: 5, Dead: 5},
		{Err: "boom", Lang: "en"},
	} {
		if got := shape(s); !slices.Equal(got, base) {
			t.Errorf("Menu(%+v) ids = %q, want %q", s, got, base)
		}
	}
}
