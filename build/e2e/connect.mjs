// Drives the Connect screen of the web UI (the same app as the desktop window) in Debian's
// Chromium through playwright-core. Run by app/connect_ui_test.go through e2etest.RunNode with:
//   BASE_URL        the proxy (required); ADMIN_PASSWORD the admin password (required)
//   ACCESS_KEY      the proxy's access key
//   TOOLS           JSON array of the tool ids to look at
//   WRITE_TOOL      the tool whose "Write config" is clicked (its confirmation accepted)
//   SHOT_DIR        folder for the screenshots; GBD_CHROMIUM the Chromium executable
// Prints one JSON object with what it saw; exits 1 with {"error", "step"} when a step fails.
import { chromium } from 'playwright-core'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const env = process.env
if (!env.BASE_URL || !env.ADMIN_PASSWORD) {
  console.error('connect.mjs: BASE_URL and ADMIN_PASSWORD must be set')
  process.exit(2)
}
const shotDir = env.SHOT_DIR || mkdtempSync(join(tmpdir(), 'gbd-connect-'))
const out = { screenshots: [], pageErrors: [], tools: {}, tests: {} }
let step = 'launch'
const userDataDir = mkdtempSync(join(tmpdir(), 'gbd-chromium-'))
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: env.GBD_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 1000 },
  locale: 'en-US',
  colorScheme: 'light',
})
const T = 20_000
try {
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(T)
  page.on('pageerror', (e) => out.pageErrors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) out.pageErrors.push('console: ' + m.text())
  })
  const tid = (id) => page.getByTestId(id)
  const shot = async (name) => {
    const path = join(shotDir, name)
    await page.screenshot({ path, fullPage: true })
    out.screenshots.push(path)
  }

  step = 'login'
  await page.goto(env.BASE_URL + '/')
  await tid('login-password').fill(env.ADMIN_PASSWORD)
  await tid('login-submit').click()

  step = 'connect tab'
  await tid('tab-connect').click()
  await tid('client-tab-cherry-studio').waitFor()
  // Hidden by default: the key is dots in the settings until shown.
  out.keyHiddenByDefault = !(await tid('client-detail').textContent()).includes(env.ACCESS_KEY)
  await tid('access-key-show').click()
  await page.waitForFunction((want) => document.querySelector('[data-testid="access-key"]')?.textContent?.trim() === want, env.ACCESS_KEY)

  for (const id of JSON.parse(env.TOOLS || '[]')) {
    step = 'tool ' + id
    await tid('client-tab-' + id).click()
    await page.locator(`[data-testid="client-detail"][data-tool="${id}"]`).waitFor()
    const text = await tid('client-detail').textContent()
    out.tools[id] = {
      url: text.includes(env.BASE_URL),
      key: text.includes(env.ACCESS_KEY),
      write: await tid('client-write').isVisible().catch(() => false),
    }
  }

  if (env.WRITE_TOOL) {
    step = 'write config'
    await tid('client-tab-' + env.WRITE_TOOL).click()
    await page.locator(`[data-testid="client-detail"][data-tool="${env.WRITE_TOOL}"]`).waitFor()
    await tid('client-write').click()
    await tid('write-config-dialog').waitFor()
    out.writeDialog = (await tid('write-config-dialog').textContent()).trim()
    await shot('connect-write-dialog.png')
    await tid('dialog-ok').click()
    await page.locator('.toast').filter({ hasText: /written/ }).first().waitFor()
    out.writeToast = (await page.locator('.toast').filter({ hasText: /written/ }).first().textContent()).trim()
  }

  for (const d of ['gemini', 'openai', 'responses', 'anthropic']) {
    step = 'test request ' + d
    await tid('test-' + d).click()
    const res = page.locator(`[data-testid="test-result"][data-dialect="${d}"]`)
    await res.waitFor()
    out.tests[d] = {
      ok: (await res.getAttribute('data-ok')) === 'true',
      text: ((await res.getByTestId('test-answer').textContent({ timeout: 2000 }).catch(() => '')) || '').trim(),
      reason: (await res.getAttribute('data-reason')) || '',
    }
  }
  await shot('connect-tools-en.png')

  step = 'chinese'
  await tid('lang').click()
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
  out.zhTitle = (await page.locator('[data-testid="clients-card"] h2').textContent()).trim()
  await tid('client-tab-codex').click()
  await page.locator('[data-testid="client-detail"][data-tool="codex"]').waitFor()
  out.zhWrite = (await tid('client-write').textContent()).trim()
  await shot('connect-tools-zh.png')
  console.log(JSON.stringify(out))
} catch (err) {
  console.log(JSON.stringify({ ...out, error: String(err?.message ?? err), step }))
  process.exitCode = 1
} finally {
  await context.close()
  rmSync(userDataDir, { recursive: true, force: true })
}
