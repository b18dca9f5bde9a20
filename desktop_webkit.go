//go:build desktop && linux && webkit2_41

package main

/*
#cgo pkg-config: webkit2gtk-4.1 gtk+-3.0
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>
#include <dirent.h>
#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// gbd_released is TRUE from the end of the page's web process until the
// page is loaded again. It is read and written on GTK's main loop only,
// so ending the network process (gbd_do_end_helpers) never races with a
// reload.
static gboolean gbd_released = FALSE;

static gboolean gbd_do_release(gpointer unused) {
	WebKitWebView *v = gbd_webview();
	if (v == NULL) return G_SOURCE_REMOVE;
	webkit_web_view_terminate_web_process(v);
	gbd_released = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean gbd_do_reload(gpointer unused) {
	WebKitWebView *v = gbd_webview();
	gbd_released = FALSE;
	if (v != NULL) webkit_web_view_reload(v);
	return G_SOURCE_REMOVE;
}

// gbd_child_named reports whether pid is still a child of this process
// and its command name starts with name (/proc/PID/stat: "PID (comm) S PPID").
static int gbd_child_named(int pid, const char *name) {
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) return 0;
	size_t n = fread(stat, 1, sizeof stat - 1, f);
	fclose(f);
	stat[n] = 0;
	char *open = strchr(stat, '('), *close = strrchr(stat, ')');
	int ppid = 0;
	char state;
	if (open == NULL || close == NULL || sscanf(close + 1, " %c %d", &state, &ppid) != 2) return 0;
	return ppid == getpid() && strncmp(open + 1, name, strlen(name)) == 0;
}

// gbd_signal_child sends SIGTERM to the child pid if it is still the
// process named name: through a pidfd where the kernel has them (Linux
// 5.3+), so that a reused PID is never signalled.
static void gbd_signal_child(int pid, const char *name) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
	int fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		if (gbd_child_named(pid, name)) syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
		close(fd);
		return;
	}
#endif
	if (gbd_child_named(pid, name)) kill(pid, SIGTERM);
}

// gbd_end_children ends this process's children named name (any thread's
// children).
static void gbd_end_children(const char *name) {
	DIR *tasks = opendir("/proc/self/task");
	if (tasks == NULL) return;
	struct dirent *e;
	while ((e = readdir(tasks)) != NULL) {
		if (e->d_name[0] == '.') continue;
		char path[300];
		snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL) continue;
		int pid;
		while (fscanf(f, "%d", &pid) == 1) gbd_signal_child(pid, name);
		fclose(f);
	}
	closedir(tasks);
}

// gbd_do_end_helpers ends WebKit's network process while the page is
// released (a reload starts a new one) and gives the C heap's free pages
// back to the OS.
static gboolean gbd_do_end_helpers(gpointer unused) {
	// The kernel truncates the command name to 15 bytes.
	if (gbd_released) gbd_end_children("WebKitNetworkPr");
	malloc_trim(0);
	return G_SOURCE_REMOVE;
}

// GTK calls run on GTK's main loop (the default main context).
static void gbd_release(void) { g_main_context_invoke(NULL, gbd_do_release, NULL); }
static void gbd_reload(void) { g_main_context_invoke(NULL, gbd_do_reload, NULL); }
static void gbd_end_helpers(void) { g_main_context_invoke(NULL, gbd_do_end_helpers, NULL); }

// gbd_keep_gl_out keeps OpenGL out of this (the UI) process. With GPU
// compositing off the web process draws in software and hands the UI
// plain shared-memory buffers, which GTK paints with cairo; yet WebKit
// opens an EGL display here and GDK probes GLX at start, and each loads
// the GL driver (with Mesa: libLLVM, ~26 MiB resident). libglvnd reads its
// EGL vendor list once per process, from __EGL_VENDOR_LIBRARY_DIRS when
// set: that points nowhere for one query here and is unset again, so this
// process finds no EGL vendor while the web process, started later with
// the environment as it was, gets its EGL display (it cannot start without
// one). Only when that worked (this process has no EGL display) is GDK's
// probe turned off too (GDK_GL=disable), so that the UI never has EGL
// without GDK's GL. Variables the user set are left alone.
static void gbd_keep_gl_out(void) {
	if (getenv("__EGL_VENDOR_LIBRARY_DIRS") != NULL || getenv("__EGL_VENDOR_LIBRARY_FILENAMES") != NULL) return;
	void *egl = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
	if (egl == NULL) return;
	const char *(*query)(void *, int) = (const char *(*)(void *, int))dlsym(egl, "eglQueryString");
	void *(*display)(void *) = (void *(*)(void *))dlsym(egl, "eglGetDisplay");
	if (query == NULL || display == NULL) return;
	setenv("__EGL_VENDOR_LIBRARY_DIRS", "/dev/null", 1);
	query(NULL, 0x3055); // EGL_NO_DISPLAY, EGL_EXTENSIONS: loads the vendor list
	unsetenv("__EGL_VENDOR_LIBRARY_DIRS");
	if (display(NULL) == NULL) setenv("GDK_GL", "disable", 0); // EGL_DEFAULT_DISPLAY → EGL_NO_DISPLAY
	// libEGL stays loaded (WebKit links it): no dlclose.
}

// gbd_setup runs before Wails makes the web view on the default context:
// a single-page UI needs no page cache and little memory cache, and its
// small script no JIT (JavaScriptCore's interpreter leaves out the JIT's
// code and its threads: some 6 MiB of the web process).
static void gbd_setup(int keep_gl) {
	if (!keep_gl) gbd_keep_gl_out();
	setenv("JSC_useJIT", "false", 0);
	webkit_web_context_set_cache_model(webkit_web_context_get_default(), WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
}
*/
import "C"

import "os"

// webPage is the window's web content on WebKitGTK: the page and its
// WebKitWebProcess can be released while the window is hidden and loaded
// again before it shows.
type webPage struct{}

// webviewGLEnv set to 1 keeps OpenGL in the app's process as WebKit
// chooses (see gbd_keep_gl_out): the way back should a WebKitGTK version
// draw a blank window without it.
const webviewGLEnv = "GBD_WEBVIEW_GL"

// setupWebView adjusts WebKit before the window is made.
func setupWebView() {
	keep := 0
	if os.Getenv(webviewGLEnv) == "1" {
		keep = 1
	}
	C.gbd_setup(C.int(keep))
}

// canRelease reports whether release and reload work on this platform.
func (webPage) canRelease() bool { return true }

// release ends the page's web process (its memory goes back to the OS).
func (webPage) release() { C.gbd_release() }

// reload loads the page again (a new web process).
func (webPage) reload() { C.gbd_reload() }

// endHelpers ends WebKit's network process if the page is still released
// (WebKit starts a new one when the page is loaded again) and trims the C
// heap. It returns before they are done.
func (webPage) endHelpers() { C.gbd_end_helpers() }
