//go:build windows

package sysproxy

import (
	"context"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestReadWindowsRegistry writes the Internet settings as Clash and v2rayN
// do, reads them back through readOS, and restores what was there.
func TestReadWindowsRegistry(t *testing.T) {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, internetSettings, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if old, _, err := k.GetIntegerValue("ProxyEnable"); err == nil {
		defer k.SetDWordValue("ProxyEnable", uint32(old))
	} else {
		defer k.DeleteValue("ProxyEnable")
	}
	for _, name := range []string{"ProxyServer", "ProxyOverride", "AutoConfigURL"} {
		if old, _, err := k.GetStringValue(name); err == nil {
			defer k.SetStringValue(name, old)
		} else {
			defer k.DeleteValue(name)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.SetDWordValue("ProxyEnable", 1))
	must(k.SetStringValue("ProxyServer", "http=127.0.0.1:7890;https=127.0.0.1:7891"))
	must(k.SetStringValue("ProxyOverride", "localhost;127.*;<local>"))
	k.DeleteValue("AutoConfigURL")
	s := readOS(context.Background())
	want := Settings{Source: SourceWindows, HTTP: "127.0.0.1:7890", HTTPS: "127.0.0.1:7891", Bypass: []string{"localhost", "127.*", "<local>"}}
	if !sameSettings(s, want) {
		t.Errorf("readOS() = %+v, want %+v", s, want)
	}
	must(k.SetDWordValue("ProxyEnable", 0))
	if s := readOS(context.Background()); s.Source != "" {
		t.Errorf("readOS() with ProxyEnable=0 = %+v, want no proxy", s)
	}
}
