// Package sysproxy finds the proxy the operating system is set to use, so
// that "system proxy" means what the user set in the OS and not only the
// HTTP(S)_PROXY variables:
//
//   - everywhere, HTTP_PROXY / HTTPS_PROXY / NO_PROXY (and lower case) win
//     when set, with exactly Go's semantics (golang.org/x/net/http/httpproxy);
//   - Windows: the per-user Internet settings (ProxyEnable, ProxyServer in
//     its "host:port" and "http=…;https=…;socks=…" forms, ProxyOverride with
//     wildcards and <local>, AutoConfigURL). Auto-config (PAC) scripts are
//     evaluated by Windows itself through WinHTTP's WinHttpGetProxyForUrl,
//     as browsers on Windows do; when that fails the manual setting applies;
//   - macOS: the network settings as `scutil --proxy` prints them;
//   - Linux: GNOME's settings (`gsettings list-recursively
//     org.gnome.system.proxy`) when GNOME's schema is installed.
//
// PAC scripts on macOS and Linux are not evaluated (that needs a
// JavaScript engine): requests then go direct, and Settings.Note says so, so
// the UI can tell the user to enter the proxy in the app instead.
//
// A Resolver re-reads the OS settings every few seconds in the background
// (no request waits for it), so turning
// a proxy tool (Clash, v2rayN) on or off takes effect without a restart.
// The package is pure Go and imports nothing of the app.
package sysproxy
