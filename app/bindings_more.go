package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// More window bindings: statistics, the request log, export and a retry
// of a failed start. The statistics and log bindings answer what the
// management API routes of the same name answer (GET /api/stats,
// /api/stats/series, /api/stats/today, /api/log; see stats.go), so that
// the UI reads both alike.

// Stats sums usage since `since` (a duration back from now such as "1h",
// "24h" or "7d", or an RFC 3339 time; empty: 24h), grouped by "key",
// "model" (default) or "key_model".
func (b *Bindings) Stats(by, since string) (StatsAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.StatsTotals(ctx, by, since)
}

// StatsSeries returns a usage series of every key and model: resolution
// "minute" (default; since up to 24h back, default 1h) or "hour" (up to
// 30 days, default 24h).
func (b *Bindings) StatsSeries(resolution, since string) (SeriesAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.StatsSeries(ctx, SeriesQuery{Resolution: resolution, Since: since})
}

// StatsToday returns today's request count per (key, model) in the
// free-tier day (midnight to midnight, US Pacific).
func (b *Bindings) StatsToday() (TodayAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.StatsToday(ctx)
}

// RequestLog returns a page of the request log, newest first (limit ≤ 0:
// the default page size).
func (b *Bindings) RequestLog(offset, limit int) (LogAnswer, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.RequestLog(ctx, LogQuery{Offset: offset, Limit: limit})
}

// WipeLog deletes the request log (statistics are kept) and returns how
// many entries it held.
func (b *Bindings) WipeLog() (int, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	return b.a.WipeLog(ctx)
}

// ExportKeysToFile writes every usable key, one per line, to a new file
// (permissions 0600) in the user's Downloads folder (or home folder) and
// returns its path. The file holds the keys in plain text: the UI warns
// before calling this.
func (b *Bindings) ExportKeysToFile() (string, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	text, err := b.a.vault.Export(ctx)
	if err != nil {
		return "", err
	}
	dir, err := exportDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "gemini-api-keys-"+time.Now().Format("20060102-150405")+".txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create the export file: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("write the export file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write the export file: %w", err)
	}
	b.a.log.Info("exported keys written", "file", path)
	return path, nil
}

// exportDir is ~/Downloads when it exists, else the home folder.
func exportDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder: %w", err)
	}
	if st, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && st.IsDir() {
		return filepath.Join(home, "Downloads"), nil
	}
	return home, nil
}

// RetryStart starts serving when an earlier Start failed (a taken port):
// the window calls it after the user picked another port. It does nothing
// when the proxy already serves.
func (b *Bindings) RetryStart() error { return b.a.retryStart() }

// retryStart listens on the configured address if the proxy is not
// serving because Start failed; the background work of Start already
// runs.
func (a *App) retryStart() error {
	a.mu.Lock()
	started := a.stopBG != nil
	running := a.running
	a.mu.Unlock()
	if running {
		return nil
	}
	if !started {
		return errors.New("the app is not started")
	}
	return a.listen()
}
