package app

import (
	"slices"
	"testing"
)

func TestPickLanguage(t *testing.T) {
	for _, tc := range []struct {
		tags []string
		want string
	}{
		{nil, "en"},
		{[]string{"zh-CN", "en-US"}, "zh-CN"},
		{[]string{"zh-Hans-CN"}, "zh-CN"},
		{[]string{"zh-TW"}, "zh-CN"},
		{[]string{"zh_CN.UTF-8"}, "zh-CN"},
		{[]string{"zh"}, "zh-CN"},
		{[]string{"en-US", "zh-CN"}, "en"},
		{[]string{"", "C", "zh_CN.UTF-8"}, "zh-CN"},
		{[]string{"de-DE"}, "en"},
		{[]string{"zu-ZA"}, "en"},
	} {
		if got := pickLanguage(tc.tags); got != tc.want {
			t.Errorf("pickLanguage(%q) = %q, want %q", tc.tags, got, tc.want)
		}
	}
}

func TestParseAppleLanguages(t *testing.T) {
	out := "(\n    \"zh-Hans-CN\",\n    en,\n    \"en-GB\"\n)\n"
	if got, want := parseAppleLanguages(out), []string{"zh-Hans-CN", "en", "en-GB"}; !slices.Equal(got, want) {
		t.Errorf("parseAppleLanguages(%q) = %q, want %q", out, got, want)
	}
	if got := pickLanguage(parseAppleLanguages(out)); got != "zh-CN" {
		t.Errorf("pickLanguage(AppleLanguages) = %q, want zh-CN", got)
	}
}

func TestSystemLanguageFromEnv(t *testing.T) {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"} {
		t.Setenv(v, "")
	}
	t.Setenv("LANG", "zh_CN.UTF-8")
	if got := SystemLanguage(); got != "zh-CN" {
		t.Errorf("SystemLanguage() with LANG=zh_CN.UTF-8 = %q, want zh-CN", got)
	}
	t.Setenv("LC_ALL", "C")
	t.Setenv("LANG", "en_US.UTF-8")
	if got := SystemLanguage(); got != "en" {
		t.Errorf("SystemLanguage() with LANG=en_US.UTF-8 = %q, want en", got)
	}
}
