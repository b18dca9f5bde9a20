//go:build desktop && linux && webkit2_41

package main

/*
#cgo pkg-config: webkit2gtk-4.1 gtk+-3.0
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>
#include <malloc.h>

// gbd_find_webview returns the WebKitWebView under w, or NULL.
static WebKitWebView *gbd_find_webview(GtkWidget *w) {
	if (WEBKIT_IS_WEB_VIEW(w)) return WEBKIT_WEB_VIEW(w);
	if (!GTK_IS_CONTAINER(w)) return NULL;
	GList *children = gtk_container_get_children(GTK_CONTAINER(w));
	WebKitWebView *found = NULL;
	for (GList *l = children; l != NULL && found == NULL; l = l->next) found = gbd_find_webview(GTK_WIDGET(l->data));
	g_list_free(children);
	return found;
}

// gbd_webview returns the window's web view (Wails makes one), or NULL.
static WebKitWebView *gbd_webview(void) {
	GList *tops = gtk_window_list_toplevels();
	WebKitWebView *found = NULL;
	for (GList *l = tops; l != NULL && found == NULL; l = l->next) found = gbd_find_webview(GTK_WIDGET(l->data));
	g_list_free(tops);
	return found;
}

// gbd_trim gives the C heap's free pages back to the OS (what the UI side
// held for the page).
static gboolean gbd_trim(gpointer unused) {
	malloc_trim(0);
	return G_SOURCE_REMOVE;
}

static gboolean gbd_do_release(gpointer unused) {
	WebKitWebView *v = gbd_webview();
	if (v != NULL) webkit_web_view_terminate_web_process(v);
	g_timeout_add(2000, gbd_trim, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean gbd_do_reload(gpointer unused) {
	WebKitWebView *v = gbd_webview();
	if (v != NULL) webkit_web_view_reload(v);
	return G_SOURCE_REMOVE;
}

// GTK calls run on GTK's main loop (the default main context).
static void gbd_release(void) { g_main_context_invoke(NULL, gbd_do_release, NULL); }
static void gbd_reload(void) { g_main_context_invoke(NULL, gbd_do_reload, NULL); }

// gbd_setup runs before Wails makes the web view on the default context:
// a single-page UI needs no page cache and little memory cache.
static void gbd_setup(void) {
	webkit_web_context_set_cache_model(webkit_web_context_get_default(), WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
}
*/
import "C"

// webPage is the window's web content on WebKitGTK: the page and its
// WebKitWebProcess can be released while the window is hidden and loaded
// again before it shows.
type webPage struct{}

// setupWebView adjusts WebKit before the window is made.
func setupWebView() { C.gbd_setup() }

// canRelease reports whether release and reload work on this platform.
func (webPage) canRelease() bool { return true }

// release ends the page's web process (its memory goes back to the OS).
func (webPage) release() { C.gbd_release() }

// reload loads the page again (a new web process).
func (webPage) reload() { C.gbd_reload() }
