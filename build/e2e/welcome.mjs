// Drives the first-launch walkthrough of the web UI (the same app as the desktop window) in
// Debian's Chromium through playwright-core. Run by app/welcome_ui_test.go through
// e2etest.RunNode with:
//   BASE_URL        the proxy (required); ADMIN_PASSWORD the admin password (required)
//   PASTE           the text pasted into step 1
//   SHOT_DIR        folder for the screenshots; GBD_CHROMIUM the Chromium executable
// Prints one JSON object with what it saw; exits 1 with {"error", "step"} when a step fails.
import { drive } from './chromium.mjs'

const env = process.env
const out = { screenshots: [], pageErrors: [] }
await drive(
  'welcome',
  out,
  async ({ page, tid, shot, run }) => {
    run.step = 'welcome shown on first launch'
    await tid('welcome').waitFor({ state: 'visible' })
    out.welcomeShown = true
    await tid('welcome-store-note').waitFor({ state: 'visible' })
    out.storeNote = (await tid('welcome-store-note').textContent()).trim()
    await shot('welcome-1-empty.png')

    run.step = 'test request without keys'
    await tid('welcome-test').click()
    await tid('welcome-test-reason').waitFor()
    out.noKeysReason = (await tid('welcome-test-reason').textContent()).trim()

    run.step = 'paste and add'
    await tid('welcome-keys').fill(env.PASTE || '')
    await tid('welcome-add').click()
    await tid('welcome-add-result').waitFor({ state: 'visible' })
    out.addText = (await tid('welcome-add-result').textContent()).trim()

    run.step = 'check with progress'
    await tid('welcome-check-done').waitFor({ timeout: 60_000 })
    out.checkText = (await tid('welcome-check-done').textContent()).trim()
    out.checkState = await tid('welcome-check-done').getAttribute('data-state')

    run.step = 'base URLs and access key'
    out.openaiURL = (await tid('welcome-openai-url').textContent()).trim()
    out.geminiURL = (await tid('welcome-gemini-url').textContent()).trim()
    await tid('welcome-copy-openai').click()
    await page.waitForTimeout(200)
    out.clipboardOpenAI = await page.evaluate(() => navigator.clipboard.readText())
    await tid('welcome-copy-key').click()
    await page.waitForTimeout(200)
    out.clipboardKeyLength = (await page.evaluate(() => navigator.clipboard.readText())).length
    out.accessKeyMasked = !(await tid('welcome-access-key').textContent()).startsWith('gbd-')

    run.step = 'test request'
    await tid('welcome-test').click()
    await tid('welcome-test-answer').waitFor({ timeout: 60_000 })
    out.answer = (await tid('welcome-test-answer').textContent()).trim()
    await shot('welcome-2-done.png')

    run.step = 'close, and reopen in Chinese'
    await tid('welcome-close').click()
    await tid('welcome').waitFor({ state: 'hidden' })
    await page.reload()
    await page.waitForSelector('[data-testid="status-addr"]')
    out.shownAfterClose = await tid('welcome').isVisible()
    await tid('lang').click()
    await tid('welcome-open').click()
    await tid('welcome').waitFor({ state: 'visible' })
    out.zhTitle = (await page.locator('#welcome-title').textContent()).trim()
    await shot('welcome-3-zh.png')

    run.step = 'key storage in settings'
    await tid('tab-settings').click()
    await tid('keystore-info').waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid="keystore-info"]')?.dataset.kind)
    out.storeKind = await tid('keystore-info').getAttribute('data-kind')
    out.storeText = (await tid('keystore-info').textContent()).trim()
    await shot('welcome-4-keystore.png')

    run.step = 'move the keys to my own passphrase'
    await tid('keystore-passphrase').fill('my own passphrase 123')
    await tid('keystore-to-file').click()
    await page.waitForFunction(() => document.querySelector('[data-testid="keystore-info"]')?.dataset.passphrase === 'yours', null, { timeout: 60_000 })
    out.storeAfterMove = await tid('keystore-info').getAttribute('data-passphrase')
    run.step = 'done'
  },
  (context) => context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.BASE_URL }),
)
// Exit even if a handle lingers.
process.exit(process.exitCode ?? 0)
