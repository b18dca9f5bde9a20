//go:build desktop

package main

import (
	"context"
	"fmt"
)

// webview2DownloadURL is Microsoft's page for the WebView2 runtime (the
// Evergreen bootstrapper).
const webview2DownloadURL = "https://go.microsoft.com/fwlink/p/?LinkId=2124703"

// browserShell runs the app without a window: the proxy and the tray as
// usual, the UI in the default browser, logged in through a one-time link.
type browserShell struct {
	d    *desktop
	quit context.CancelFunc
}

// open opens the web UI in the default browser, logged in.
func (b *browserShell) open() {
	link, err := b.d.app.LoginLink()
	if err != nil {
		b.d.log.Warn("cannot open the web UI", "err", err)
		return
	}
	if err := openURL(link); err != nil {
		b.d.log.Warn("cannot open the browser", "err", err)
		return
	}
	b.d.log.Info("the web UI was opened in the default browser (one-time login link)")
}

// runBrowser is runDesktop when no window can be shown: missing says what
// is missing. It says so in a native message box that offers Microsoft's
// download page, and blocks until the user quits from the tray or the
// process is told to stop.
func (d *desktop) runBrowser(sig context.Context, hidden bool, missing string) error {
	// Without Wails there is no single-instance lock: a second launch
	// opens the web UI of the first and ends.
	release, first := d.browserInstanceLock()
	if !first {
		d.log.Info("already running without a window: opening its web UI")
		if err := openURL(d.app.BaseURL() + "/"); err != nil {
			d.log.Warn("cannot open the browser", "err", err)
		}
		return nil
	}
	defer release()
	ctx, stop := context.WithCancel(sig)
	defer stop()
	d.browser = &browserShell{d: d, quit: stop}
	d.log.Warn("no window: the UI opens in the browser", "missing", missing)
	d.begin(ctx)
	if !hidden {
		d.browser.open()
	}
	title, text := webview2Message(uiLang(d.app.Settings().Language, d.sysLang), d.app.BaseURL(), !hidden)
	// The text goes to the log too: it is what the user was told (and what
	// the wine lane of build/test.sh checks).
	d.log.Warn("message shown", "title", title, "text", text)
	go func() {
		if askYesNo(title, text) {
			if err := openURL(webview2DownloadURL); err != nil {
				d.log.Warn("cannot open the browser", "err", err)
			}
		}
	}()
	<-ctx.Done()
	d.shutdown(context.Background())
	return nil
}

// webview2Message is the message box's title and text in lang.
func webview2Message(lang, uiURL string, opened bool) (title, text string) {
	title = "Gemini Balance Desktop"
	if lang == "zh-CN" {
		where := "浏览器打开 " + uiURL + " 即可使用界面"
		if opened {
			where = "界面已在默认浏览器中打开（" + uiURL + "）"
		}
		return title, "Gemini Balance Desktop 的窗口需要 Microsoft Edge WebView2 运行时，但本机没有安装。\n\n" +
			"代理照常运行，托盘图标可用；" + where + "。\n\n" +
			"现在打开 Microsoft 的 WebView2 下载页面吗？\n" + webview2DownloadURL
	}
	where := "open " + uiURL + " in your browser to use the app"
	if opened {
		where = fmt.Sprintf("the app opened in your web browser (%s)", uiURL)
	}
	return title, "Gemini Balance Desktop needs the Microsoft Edge WebView2 Runtime to show its window, and it is not installed.\n\n" +
		"The proxy is running and the tray icon works; " + where + ".\n\n" +
		"Open Microsoft's WebView2 download page now?\n" + webview2DownloadURL
}
