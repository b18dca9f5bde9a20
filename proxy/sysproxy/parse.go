package sysproxy

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// parseProxyServer reads a WinINet proxy list: Windows' ProxyServer value
// and what WinHTTP returns for a PAC script. Its forms are "host:port" (every
// scheme), "http=host:port;https=host:port;socks=host:port" (per scheme; a
// scheme without an entry goes direct, unless socks= is given) and lists
// of several proxies, of which the first is used.
func parseProxyServer(list string) (httpProxy, httpsProxy string) {
	var plain, socks string
	for _, e := range strings.FieldsFunc(list, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }) {
		k, v, perScheme := strings.Cut(e, "=")
		if !perScheme {
			if plain == "" && !strings.EqualFold(e, "DIRECT") {
				plain = e
			}
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "http":
			if httpProxy == "" {
				httpProxy = v
			}
		case "https":
			if httpsProxy == "" {
				httpsProxy = v
			}
		case "socks":
			if socks == "" {
				socks = v
			}
		}
	}
	if plain != "" {
		if httpProxy == "" {
			httpProxy = plain
		}
		if httpsProxy == "" {
			httpsProxy = plain
		}
	}
	if socks != "" {
		if !strings.Contains(socks, "://") {
			socks = "socks5://" + socks
		}
		if httpProxy == "" {
			httpProxy = socks
		}
		if httpsProxy == "" {
			httpsProxy = socks
		}
	}
	return httpProxy, httpsProxy
}

// pickProxy returns the proxy a WinINet proxy list gives for scheme (nil
// for DIRECT or an empty list).
func pickProxy(list, scheme string) (*url.URL, error) {
	h, hs := parseProxyServer(list)
	if scheme == "https" || scheme == "wss" {
		return proxyURL(hs)
	}
	return proxyURL(h)
}

// fromWindows builds Settings from the values under
// HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings.
func fromWindows(enabled bool, server, override, autoConfigURL string) Settings {
	var s Settings
	if enabled && strings.TrimSpace(server) != "" {
		s.HTTP, s.HTTPS = parseProxyServer(server)
		s.Bypass = splitList(override)
	}
	s.PAC = strings.TrimSpace(autoConfigURL)
	if s.HTTP != "" || s.HTTPS != "" || s.PAC != "" {
		s.Source = SourceWindows
	}
	return s
}

// parseScutil reads the output of macOS' `scutil --proxy`:
//
//	<dictionary> {
//	  ExceptionsList : <array> {
//	    0 : *.local
//	  }
//	  HTTPEnable : 1
//	  HTTPPort : 7890
//	  HTTPProxy : 127.0.0.1
//	  …
//	}
//
// Only the top level counts (__SCOPED__ holds per-interface copies).
func parseScutil(out string) Settings {
	vals, exceptions := scutilValues(out)
	var s Settings
	s.HTTP, s.HTTPS = scutilHostPort(vals, "HTTP"), scutilHostPort(vals, "HTTPS")
	if socks := scutilHostPort(vals, "SOCKS"); socks != "" {
		if s.HTTP == "" {
			s.HTTP = "socks5://" + socks
		}
		if s.HTTPS == "" {
			s.HTTPS = "socks5://" + socks
		}
	}
	if vals["ProxyAutoConfigEnable"] == "1" {
		s.PAC = vals["ProxyAutoConfigURLString"]
	}
	if s.HTTP != "" || s.HTTPS != "" {
		s.Bypass = exceptions
		if vals["ExcludeSimpleHostnames"] == "1" {
			s.Bypass = append(s.Bypass, "<local>")
		}
	}
	if s.HTTP != "" || s.HTTPS != "" || s.PAC != "" {
		s.Source = SourceMacOS
	}
	return s
}

// scutilValues returns the top-level "key : value" pairs of `scutil
// --proxy` output and the entries of its ExceptionsList array.
func scutilValues(out string) (vals map[string]string, exceptions []string) {
	vals = map[string]string{}
	depth, array := 0, ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == "}" {
			depth--
			if depth <= 1 {
				array = ""
			}
			continue
		}
		k, v, ok := strings.Cut(line, " : ")
		opens := strings.HasSuffix(line, "{")
		switch {
		case ok && depth == 1 && opens:
			array = k
		case ok && depth == 1:
			vals[k] = strings.TrimSpace(v)
		case ok && depth == 2 && array == "ExceptionsList":
			exceptions = append(exceptions, strings.TrimSpace(v))
		}
		if opens {
			depth++
		}
	}
	return vals, exceptions
}

// scutilHostPort is the host:port of proxy p ("HTTP", "HTTPS", "SOCKS")
// when it is enabled, else "".
func scutilHostPort(vals map[string]string, p string) string {
	if vals[p+"Enable"] != "1" || vals[p+"Proxy"] == "" {
		return ""
	}
	if port := vals[p+"Port"]; port != "" {
		return net.JoinHostPort(vals[p+"Proxy"], port)
	}
	return vals[p+"Proxy"]
}

// parseGsettings reads the output of `gsettings list-recursively
// org.gnome.system.proxy`: lines of "schema key value", values in GVariant
// text ('manual', 7890, true, ['localhost', '127.0.0.0/8']). As GLib does,
// https:// requests use the HTTPS proxy, else the HTTP one, else SOCKS.
func parseGsettings(out string) Settings {
	v := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.SplitN(strings.TrimSpace(line), " ", 3)
		if len(f) < 3 || !strings.HasPrefix(f[0], "org.gnome.system.proxy") {
			continue
		}
		v[strings.TrimPrefix(f[0], "org.gnome.system.proxy")+" "+f[1]] = strings.TrimSpace(f[2])
	}
	var s Settings
	switch gvString(v[" mode"]) {
	case "manual":
	case "auto":
		s.PAC = gvString(v[" autoconfig-url"])
		s.Source = SourceGNOME
		if s.PAC == "" {
			s.Note = "GNOME is set to find the proxy automatically (WPAD), which this app does not do: requests go direct"
		}
		return s
	default:
		return s
	}
	hostPort := func(schema string) string {
		h, p := gvString(v["."+schema+" host"]), v["."+schema+" port"]
		if h == "" || p == "" || p == "0" {
			return ""
		}
		return net.JoinHostPort(h, p)
	}
	httpP, httpsP, socks := hostPort("http"), hostPort("https"), hostPort("socks")
	if httpP != "" {
		u := &url.URL{Scheme: "http", Host: httpP}
		if v[".http use-authentication"] == "true" {
			if user := gvString(v[".http authentication-user"]); user != "" {
				u.User = url.UserPassword(user, gvString(v[".http authentication-password"]))
			}
		}
		httpP = u.String()
	}
	if httpsP != "" {
		httpsP = "http://" + httpsP
	}
	if socks != "" {
		socks = "socks5://" + socks
	}
	s.HTTP = firstOf(httpP, socks)
	s.HTTPS = firstOf(httpsP, httpP, socks)
	if s.HTTP == "" && s.HTTPS == "" {
		return Settings{}
	}
	s.Source = SourceGNOME
	s.Bypass = gvStrings(v[" ignore-hosts"])
	return s
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// gvString reads a GVariant text string ('text' or "text").
func gvString(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s[1:len(s)-1], `"`, `\"`) + `"`); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// gvStrings reads a GVariant text string array (['a', 'b'] or @as []).
func gvStrings(s string) []string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "@as"))
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = gvString(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
