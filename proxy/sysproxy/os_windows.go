//go:build windows

package sysproxy

import (
	"context"
	"fmt"
	"net/url"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// internetSettings is where Windows keeps the per-user proxy settings
// (Settings → Network → Proxy, and what Clash or v2rayN set).
const internetSettings = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`

func readOS(context.Context) Settings {
	k, err := registry.OpenKey(registry.CURRENT_USER, internetSettings, registry.QUERY_VALUE)
	if err != nil {
		return Settings{Note: "the Windows proxy settings could not be read: " + err.Error()}
	}
	defer k.Close()
	enable, _, err := k.GetIntegerValue("ProxyEnable")
	if err != nil {
		// Some tools write it as a string.
		if sv, _, err2 := k.GetStringValue("ProxyEnable"); err2 == nil && sv == "1" {
			enable = 1
		}
	}
	server, _, _ := k.GetStringValue("ProxyServer")
	override, _, _ := k.GetStringValue("ProxyOverride")
	pac, _, _ := k.GetStringValue("AutoConfigURL")
	return fromWindows(enable != 0, server, override, pac)
}

// WinHTTP, which evaluates PAC scripts with Windows' own engine.
var (
	winhttp                = windows.NewLazySystemDLL("winhttp.dll")
	procWinHttpOpen        = winhttp.NewProc("WinHttpOpen")
	procWinHttpClose       = winhttp.NewProc("WinHttpCloseHandle")
	procWinHttpSetTimeouts = winhttp.NewProc("WinHttpSetTimeouts")
	procWinHttpGetProxy    = winhttp.NewProc("WinHttpGetProxyForUrl")
	procGlobalFree         = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalFree")
)

const (
	winhttpAccessTypeNoProxy    = 1
	winhttpAccessTypeNamedProxy = 3
	winhttpAutoProxyConfigURL   = 2
)

// autoProxyOptions is WINHTTP_AUTOPROXY_OPTIONS.
type autoProxyOptions struct {
	flags           uint32
	autoDetectFlags uint32
	autoConfigURL   *uint16
	reserved        uintptr
	reserved2       uint32
	autoLogon       int32
}

// proxyInfo is WINHTTP_PROXY_INFO.
type proxyInfo struct {
	accessType uint32
	proxy      *uint16
	bypass     *uint16
}

// evalPAC asks WinHTTP which proxy the script at script picks for target.
// The call cannot be cancelled: it runs on its own goroutine, bounded by
// WinHTTP's timeouts, and ctx only stops the wait.
var evalPAC = func(ctx context.Context, script string, target *url.URL) (string, error) {
	type result struct {
		list string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		l, err := winhttpProxyForURL(script, target.String())
		ch <- result{l, err}
	}()
	select {
	case r := <-ch:
		return r.list, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("auto-config script %s: %w", script, ctx.Err())
	}
}

func winhttpProxyForURL(script, target string) (string, error) {
	agent, _ := windows.UTF16PtrFromString("gemini-balance-desktop")
	h, _, err := procWinHttpOpen.Call(uintptr(unsafe.Pointer(agent)), winhttpAccessTypeNoProxy, 0, 0, 0)
	if h == 0 {
		return "", fmt.Errorf("WinHttpOpen: %w", err)
	}
	defer procWinHttpClose.Call(h)
	procWinHttpSetTimeouts.Call(h, 5000, 5000, 5000, 5000)
	scriptW, err := windows.UTF16PtrFromString(script)
	if err != nil {
		return "", err
	}
	targetW, err := windows.UTF16PtrFromString(target)
	if err != nil {
		return "", err
	}
	opts := autoProxyOptions{flags: winhttpAutoProxyConfigURL, autoConfigURL: scriptW, autoLogon: 1}
	var info proxyInfo
	r, _, err := procWinHttpGetProxy.Call(h, uintptr(unsafe.Pointer(targetW)), uintptr(unsafe.Pointer(&opts)), uintptr(unsafe.Pointer(&info)))
	if r == 0 {
		return "", fmt.Errorf("auto-config script %s: WinHttpGetProxyForUrl: %w", script, err)
	}
	defer func() {
		if info.proxy != nil {
			procGlobalFree.Call(uintptr(unsafe.Pointer(info.proxy)))
		}
		if info.bypass != nil {
			procGlobalFree.Call(uintptr(unsafe.Pointer(info.bypass)))
		}
	}()
	if info.accessType != winhttpAccessTypeNamedProxy || info.proxy == nil {
		return "", nil // DIRECT
	}
	return windows.UTF16PtrToString(info.proxy), nil
}
