// Drives the web UI (the same app as the desktop window) in Debian's Chromium through
// playwright-core. Run by app/ui_test.go through e2etest.RunNode with:
//   BASE_URL        the proxy, e.g. http://127.0.0.1:43210 (required)
//   ADMIN_PASSWORD  the admin password (required)
//   ACCESS_KEY      the proxy's access key (shown under Connect)
//   PASTE           the text pasted into "Add keys"
//   RAW_KEYS_FILE   a file holding the JSON array of every raw key the test made (or RAW_KEYS,
//                   the array itself): none may appear in the page or in an API answer (except
//                   the explicit reveal and export)
//   TOTAL           keys expected in the table after the paste
//   DEAD_IDS        JSON array of the key ids the check must find dead
//   REVEAL_ID       id of the key to reveal; REVEAL_KEY its raw value (compared, never printed)
//   SHOT_DIR        folder for the screenshots
//   GBD_CHROMIUM    Chromium executable (default /usr/bin/chromium)
//   MODE            "browser" (default): the page uses the management API behind the admin login;
//                   "window": the page is opened as the desktop window's, at http://wails.localhost/
//                   (the host WebView2 uses on Windows), which Chromium resolves to WINDOW_ADDR:
//                   there the Go test serves app.WindowHandler, the handler Wails' asset server
//                   calls in-process, so every API call takes the window's way in (no login)
// Prints one JSON object with what it saw; exits 1 with {"error", "step"} when a step fails.
import { chromium } from 'playwright-core'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const env = process.env
const base = env.BASE_URL
const windowMode = env.MODE === 'window'
if (!base || !env.ADMIN_PASSWORD || (windowMode && !env.WINDOW_ADDR)) {
  console.error('ui.mjs: BASE_URL and ADMIN_PASSWORD (and WINDOW_ADDR with MODE=window) must be set')
  process.exit(2)
}
const windowURL = 'http://wails.localhost/'
const pageURL = windowMode ? windowURL : base + '/'
const shot0 = (name) => (windowMode ? 'window-' + name : name)
const rawKeys = new Set(JSON.parse(env.RAW_KEYS_FILE ? readFileSync(env.RAW_KEYS_FILE, 'utf8') : env.RAW_KEYS || '[]'))
const deadIDs = JSON.parse(env.DEAD_IDS || '[]')
const total = Number(env.TOTAL || 0)
const shotDir = env.SHOT_DIR || mkdtempSync(join(tmpdir(), 'gbd-ui-'))
const out = { screenshots: [], leaks: [], pageErrors: [] }
let step = 'launch'

// leaksIn names the raw keys found in text (masked: first 4 + last 4).
const leaksIn = (text, where) => {
  for (const [k] of text.matchAll(/AIza[0-9A-Za-z_-]{35}/g)) {
    if (rawKeys.has(k)) out.leaks.push(`${where}: ${k.slice(0, 4)}…${k.slice(-4)}`)
  }
}

// A fresh profile per run (playwright-core never downloads a browser: Debian's Chromium is used).
const userDataDir = mkdtempSync(join(tmpdir(), 'gbd-chromium-'))
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: env.GBD_CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(windowMode ? [`--host-resolver-rules=MAP wails.localhost:80 ${env.WINDOW_ADDR}`] : []),
  ],
  viewport: { width: 1280, height: 900 },
  locale: 'en-US',
  colorScheme: 'light',
  acceptDownloads: true,
})

const called = new Set() // API routes the page called through the window's way in (window mode)
const overNetwork = new Set() // API routes the page called on the proxy's listener (window mode: none)
const T = 20_000 // per wait; the whole run is bounded by the Go test

try {
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(T)
  const pageError = (text) => out.pageErrors.length < 20 && out.pageErrors.push(text)
  page.on('pageerror', (e) => pageError(String(e)))
  page.on('console', (m) => {
    // Failed requests the test provokes (wrong password, bad port) are logged as network
    // errors; only script errors count.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageError('console: ' + m.text())
  })
  page.on('response', async (r) => {
    const u = new URL(r.url())
    if (windowMode && u.pathname.startsWith('/api/')) {
      const route = `${r.request().method()} ${u.pathname}`
      if (u.host === 'wails.localhost') called.add(route)
      else overNetwork.add(route)
    }
    if (!u.pathname.startsWith('/api/') || u.pathname.endsWith('/reveal') || u.pathname === '/api/keys/export') return
    try {
      leaksIn(await r.text(), `${r.request().method()} ${u.pathname}`)
    } catch {
      // body not available (redirect, aborted)
    }
  })
  const tid = (id) => page.getByTestId(id)
  const shot = async (name, opts = {}) => {
    const path = join(shotDir, shot0(name))
    await page.screenshot({ path, fullPage: true, ...opts })
    out.screenshots.push(path)
  }
  const checkPage = async (where) => leaksIn(await page.content(), `page ${where}`)
  const rows = () => page.locator('[data-testid="key-row"]')
  const waitRows = async (n) => {
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="key-row"]').length === n, n, { timeout: T })
  }

  if (windowMode) {
    step = 'open'
    await page.goto(pageURL)
    await tid('tab-keys').waitFor()
    out.loginShown = (await tid('login').count()) > 0
  } else {
    // ---- login: a wrong password first ----
    step = 'login'
    await page.goto(pageURL)
    await tid('login-password').fill('not-the-password')
    await tid('login-submit').click()
    await tid('login-error').waitFor({ state: 'visible' })
    out.loginError = (await tid('login-error').textContent()).trim()
    await shot('login-light-en.png')
    // A wrong password makes this address wait 250 ms before its next try
    // (the server's throttle answers 429 meanwhile).
    await page.waitForTimeout(600)
    await tid('login-password').fill(env.ADMIN_PASSWORD)
    await tid('login-submit').click()
    await tid('tab-keys').waitFor()
  }
  await page.waitForFunction(() => /Listening on/.test(document.querySelector('[data-testid="status-addr"]')?.textContent ?? ''))
  out.statusAddr = (await tid('status-addr').textContent()).trim()

  // ---- many keys: server-side pages, search, selection, a large page ----
  const manyFlow = async () => {
    step = 'many'
    const info = async () => (await tid('page-info').textContent()).trim()
    const timed = async (name, fn) => {
      const t0 = Date.now()
      await fn()
      out.timings[name] = Date.now() - t0
    }
    out.timings = {}
    await waitRows(50)
    out.firstPage = await info()
    await timed('nextPage', async () => {
      await tid('page-next').click()
      await page.waitForFunction((before) => document.querySelector('[data-testid="page-info"]')?.textContent?.trim() !== before, out.firstPage)
    })
    out.secondPage = await info()
    out.secondPageFirst = await rows().first().getAttribute('data-id')
    await timed('search', async () => {
      await tid('key-search').fill(env.REVEAL_KEY.slice(-8))
      await waitRows(1)
    })
    out.searchHit = await rows().first().getAttribute('data-id')
    await tid('key-search').fill('')
    await waitRows(50)
    out.afterSearchPage = await info()
    await timed('pageSize500', async () => {
      await tid('page-size').selectOption('500')
      await waitRows(500)
    })
    await timed('selectPage', async () => {
      await tid('select-page').check()
      await tid('selected-count').waitFor()
    })
    out.selected = (await tid('selected-count').textContent()).trim()
    await checkPage('many')
    await shot('many-keys-light-en.png', { fullPage: false })
  }

  if (env.MODE === 'many') {
    await manyFlow()
  } else {
    // ---- paste keys ----
    step = 'add'
    await tid('add-text').fill(env.PASTE || '')
    await tid('add-submit').click()
    await tid('add-added').waitFor()
    const n = async (id) => Number(await tid(id).getAttribute('data-n'))
    out.added = await n('add-added')
    out.existing = await n('add-existing')
    out.malformed = await n('add-malformed')
    out.malformedRows = await page.locator('[data-testid="malformed-table"] tbody tr').count()
    out.malformedText = (await page.locator('[data-testid="malformed-table"]').textContent().catch(() => '')) ?? ''
    out.textareaAfterAdd = await tid('add-text').inputValue()
    await waitRows(total)
    out.rowsAfterAdd = await rows().count()
    out.previews = await page.locator('[data-testid="key-preview"]').allTextContents()
    await checkPage('after add')
    await shot('keys-light-en.png')

    // ---- import a file: keys already stored are counted, not added again ----
    step = 'import'
    await tid('import-file').setInputFiles({ name: 'keys.txt', mimeType: 'text/plain', buffer: Buffer.from(env.IMPORT || '') })
    await page.waitForFunction((want) => document.querySelector('[data-testid="add-existing"]')?.getAttribute('data-n') === want, String(env.IMPORT_EXISTING))
    out.importAdded = await n('add-added')
    out.importExisting = await n('add-existing')
    await waitRows(total)

    // ---- check all ----
    step = 'check'
    await tid('check-all').click()
    await tid('check-summary').waitFor({ timeout: 60_000 })
    out.checkSummary = (await tid('check-summary').textContent()).trim()
    // The table reloads after the check: wait until the dead keys show as dead.
    await page.waitForFunction(
      (dead) =>
        dead.every((id) => {
          const st = document.querySelector(`[data-testid="key-row"][data-id="${id}"] [data-testid="key-status"]`)?.getAttribute('data-status')
          return st === 'invalid' || st === 'expired' || st === 'denied'
        }),
      deadIDs,
    )
    out.statuses = await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('[data-testid="key-row"]')].map((r) => [r.getAttribute('data-id'), r.querySelector('[data-testid="key-status"]')?.getAttribute('data-status')]),
      ),
    )
    await checkPage('after check')
    await shot('keys-checked-light-en.png')

    // ---- prune, then undo ----
    step = 'prune'
    await tid('prune').click()
    await tid('prune-dialog').waitFor()
    await tid('dialog-ok').click()
    await tid('prune-undo').waitFor()
    await waitRows(total - deadIDs.length)
    out.rowsAfterPrune = await rows().count()
    out.deadGone = await page.evaluate((dead) => dead.every((id) => !document.querySelector(`[data-testid="key-row"][data-id="${id}"]`)), deadIDs)
    step = 'undo'
    await tid('undo').click()
    await waitRows(total)
    out.rowsAfterUndo = await rows().count()
    out.deadBack = await page.evaluate((dead) => dead.every((id) => !!document.querySelector(`[data-testid="key-row"][data-id="${id}"]`)), deadIDs)

    // ---- search by the last characters ----
    step = 'search'
    if (env.REVEAL_KEY) {
      await tid('key-search').fill(env.REVEAL_KEY.slice(-6))
      await waitRows(1)
      out.searchRows = await rows().count()
      out.searchHit = await rows().first().getAttribute('data-id')
      await tid('key-search').fill('')
      await waitRows(total)
    }

    // ---- label one key; disable and enable it through the selection ----
    step = 'label'
    if (env.REVEAL_ID) {
      const row = `[data-testid="key-row"][data-id="${env.REVEAL_ID}"]`
      await page.locator(`${row} [data-testid="label-edit"]`).click()
      await page.locator(`${row} [data-testid="label-input"]`).fill(env.LABEL || 'work laptop')
      await page.locator(`${row} [data-testid="label-input"]`).press('Enter')
      await page.waitForFunction(
        ({ sel, want }) => document.querySelector(sel)?.textContent === want,
        { sel: `${row} [data-testid="label-edit"]`, want: env.LABEL || 'work laptop' },
      )
      out.labelShown = (await page.locator(`${row} [data-testid="label-edit"]`).textContent()).trim()
      step = 'disable'
      await page.locator(`${row} input[type="checkbox"]`).check()
      await tid('selected-count').waitFor()
      await tid('sel-disable').click()
      await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('data-status') === 'disabled', `${row} [data-testid="key-status"]`)
      out.disabledShown = true
      await page.locator(`${row} input[type="checkbox"]`).check()
      await tid('sel-enable').click()
      await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('data-status') === 'active', `${row} [data-testid="key-status"]`)
      out.enabledAgain = true
    }

    // ---- pause and resume from the header ----
    step = 'pause'
    await tid('pause').click()
    await tid('status-paused').waitFor()
    out.pausedShown = true
    await tid('pause').click()
    await tid('status-paused').waitFor({ state: 'detached' })
    step = 'passthrough switch'
    await page.locator('header label.switch').click()
    await tid('status-passthrough').waitFor()
    await page.locator('header label.switch').click()
    await tid('status-passthrough').waitFor({ state: 'detached' })
    out.headerSwitchWorks = true

    // ---- reveal one key on an explicit click ----
    step = 'reveal'
    if (env.REVEAL_ID) {
      await page.locator(`[data-testid="key-row"][data-id="${env.REVEAL_ID}"] [data-testid="reveal"]`).click()
      await tid('revealed-key').waitFor()
      out.revealMatches = (await tid('revealed-key').textContent()).trim() === env.REVEAL_KEY
      await tid('dialog-cancel').click()
      await tid('reveal-dialog').waitFor({ state: 'detached' })
      await checkPage('after reveal closed')
    }

    // ---- export, after the warning ----
    step = 'export'
    await tid('export').click()
    await tid('export-dialog').waitFor()
    out.exportWarning = (await tid('export-dialog').textContent()).trim()
    if (windowMode) {
      await tid('dialog-ok').click()
      await page.locator('[data-testid="toast"]', { hasText: 'gemini-api-keys-' }).waitFor()
      out.exportToast = (await page.locator('[data-testid="toast"]', { hasText: 'gemini-api-keys-' }).textContent()).trim()
    } else {
      const [download] = await Promise.all([page.waitForEvent('download'), tid('dialog-ok').click()])
      const file = await download.path()
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
      out.exportLines = lines.length
      out.exportAllKnown = lines.every((l) => rawKeys.has(l))
    }

    // ---- a slow check shows its progress and can be canceled (one key at a time against an
    // upstream that answers slowly) ----
    step = 'cancel'
    const patch = async (body) => {
      if (windowMode) {
        const ok = await page.evaluate(async (body) => {
          const r = await fetch('/api/settings', { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
          return r.ok
        }, body)
        return { ok: () => ok }
      }
      return page.request.patch(base + '/api/settings', { data: body, headers: { Origin: new URL(base).origin } })
    }
    if (!(await patch({ checkConcurrency: 1 })).ok()) throw new Error('PATCH /api/settings failed')
    await tid('check-all').click()
    await page.locator('[data-testid="check-progress"] .progress[data-state="running"]').waitFor()
    out.progressText = (await tid('check-progress').textContent()).trim()
    await shot('check-running-light-en.png', { fullPage: false })
    await tid('check-cancel').click()
    await page.locator('[data-testid="check-summary"][data-state="canceled"]').waitFor({ timeout: 30_000 })
    out.canceledSummary = (await tid('check-summary').textContent()).trim()
    if (!(await patch({ checkConcurrency: 8 })).ok()) throw new Error('PATCH /api/settings failed')

    // ---- connect ----
    step = 'connect'
    await tid('tab-connect').click()
    await page.waitForFunction(() => /^http:\/\//.test(document.querySelector('[data-testid="openai-url"]')?.textContent ?? ''))
    out.openaiURL = (await tid('openai-url').textContent()).trim()
    out.geminiURL = (await tid('gemini-url').textContent()).trim()
    out.accessKeyHidden = !(await tid('access-key').textContent()).includes(env.ACCESS_KEY)
    await tid('access-key-show').click()
    // The key is read when the tab opens: wait until it is there.
    out.accessKeyShown = await page
      .waitForFunction((want) => document.querySelector('[data-testid="access-key"]')?.textContent?.trim() === want, env.ACCESS_KEY)
      .then(() => true, () => false)
    await tid('access-key-show').click()
    if (windowMode) {
      // Only a hash is kept: the window sets a new password and shows it once.
      await tid('admin-password-new').click()
      await page.waitForFunction(() => !/^[•…]/.test(document.querySelector('[data-testid="admin-password"]')?.textContent?.trim() ?? '•'))
      out.newAdminPassword = (await tid('admin-password').textContent()).trim()
      out.webURL = (await tid('web-url').textContent()).trim()
    }
    await shot('connect-light-en.png')

    // ---- statistics ----
    step = 'stats'
    await tid('tab-stats').click()
    await tid('stat-requests').waitFor()
    out.statRequests = Number(await tid('stat-requests').getAttribute('data-n'))
    out.byModelRows = await page.locator('[data-testid="by-model"] tbody tr').count()
    out.byKeyRows = await page.locator('[data-testid="by-key"] tbody tr').count()
    out.todayRows = await page.locator('[data-testid="today-table"] tbody tr').count()
    await page.locator('[data-testid="log-row"]').first().waitFor()
    out.logRows = await page.locator('[data-testid="log-row"]').count()
    out.chartMarks = await page.locator('[data-testid="chart"] rect, [data-testid="chart"] path').count()
    await checkPage('stats')
    await shot('stats-light-en.png')
    await tid('wipe-log').click()
    await tid('wipe-dialog').waitFor()
    await tid('dialog-ok').click()
    await page.locator('p[data-testid="log-table"]').waitFor()
    out.logRowsAfterWipe = await page.locator('[data-testid="log-row"]').count()

    // ---- settings: a bad port is refused with the server's message; passthrough is saved ----
    step = 'settings'
    await tid('tab-settings').click()
    await page.waitForFunction(() => (document.querySelector('[data-testid="set-port"]')?.value ?? '') !== '')
    out.portBefore = Number(await tid('set-port').inputValue())
    // What the empty upstream proxy ("system proxy") resolved to, from GET /api/status.
    await tid('system-proxy').waitFor({ state: 'visible' })
    out.systemProxy = (await tid('system-proxy').textContent()).trim()
    await tid('set-port').fill('70000')
    await tid('settings-save').click()
    await tid('settings-error').waitFor({ state: 'visible' })
    out.portError = (await tid('settings-error').textContent()).trim()
    out.portFieldMarked = await page.evaluate(() => document.querySelector('[data-testid="set-port"]')?.closest('.field')?.classList.contains('invalid') ?? false)
    await shot('settings-error-light-en.png', { fullPage: false })
    await tid('settings-revert').click()
    await tid('set-passthrough').check()
    await tid('settings-save').click()
    await tid('settings-done').waitFor({ state: 'visible' })
    out.settingsDone = (await tid('settings-done').textContent()).trim()
    await tid('status-passthrough').waitFor()
    out.passthroughChip = true
    out.headerPassthroughChecked = await tid('passthrough').isChecked()

    // ---- Chinese, then dark ----
    step = 'language'
    await tid('lang').click()
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
    out.zhTabs = await page.locator('nav.tabs button').allTextContents()
    out.zhSettingsTitle = (await page.locator('[data-testid="settings-form"] h2').textContent()).trim()
    await tid('tab-keys').click()
    await tid('keys-table').waitFor()
    out.zhStatus = (await tid('status-addr').textContent()).trim()
    await page.emulateMedia({ colorScheme: 'dark' })
    await shot('keys-dark-zh.png')
    await tid('tab-stats').click()
    await tid('stat-requests').waitFor()
    await shot('stats-dark-zh.png')
    await tid('tab-settings').click()
    await page.waitForFunction(() => (document.querySelector('[data-testid="set-port"]')?.value ?? '') !== '')
    await shot('settings-dark-zh.png', { fullPage: false })
    out.bgDark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)

    // ---- banners: the keychain problem and a failed start (the status is rewritten in the
    // browser: the app under test has a working store and a free port) ----
    step = 'banners'
    if (!windowMode) {
      await page.emulateMedia({ colorScheme: 'light' })
      await page.route('**/api/status', async (route) => {
        const res = await route.fetch()
        const st = await res.json()
        await route.fulfill({
          response: res,
          json: {
            ...st,
            running: false,
            error: 'proxy: port 8321 is in use (listen tcp 127.0.0.1:8321: bind: address already in use)',
            secretsProblem: 'The OS keychain is not available (no Secret Service). Stored keys cannot be read or added.',
          },
        })
      })
      await tid('lang').click()
      await page.waitForFunction(() => document.documentElement.lang === 'en')
      await tid('tab-keys').click()
      await tid('secrets-banner').waitFor()
      await tid('start-error').waitFor()
      out.secretsBanner = (await tid('secrets-banner').textContent()).trim()
      out.startError = (await tid('start-error').textContent()).trim()
      out.fixPortShown = await tid('fix-port').isVisible()
      await shot('banners-light-en.png', { fullPage: false })
      await page.unroute('**/api/status')
      await tid('lang').click()
      await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
    }

    // The choice is remembered: a reload comes back in Chinese.
    step = 'reload'
    await page.reload()
    await tid('tab-keys').waitFor()
    out.zhAfterReload = await page.evaluate(() => document.documentElement.lang)
  }
  await checkPage('end')
  if (windowMode) {
    out.windowCalls = [...called].sort()
    out.networkCalls = [...overNetwork].sort()
  }
  console.log(JSON.stringify(out))
} catch (err) {
  console.log(JSON.stringify({ ...out, error: String(err?.message ?? err), step }))
  process.exitCode = 1
} finally {
  await context.close()
  rmSync(userDataDir, { recursive: true, force: true })
}
