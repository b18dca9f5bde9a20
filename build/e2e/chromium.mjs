// What the short browser drivers (connect.mjs, welcome.mjs) share: the environment check, a
// fresh headless Chromium profile (playwright-core never downloads a browser: Debian's Chromium
// is used), the page with its errors collected, screenshots, the admin login, and the one JSON
// line of the result. Reads BASE_URL and ADMIN_PASSWORD (required), SHOT_DIR and GBD_CHROMIUM.
import { chromium } from 'playwright-core'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// drive logs in to the web UI at BASE_URL and runs body({ page, context, tid, shot, run }); body
// sets run.step to what it is doing. It prints out as JSON, with {"error", "step"} and exit code 1
// when a step fails; before(context), if given, runs before the page opens.
export async function drive(script, out, body, before) {
  const env = process.env
  if (!env.BASE_URL || !env.ADMIN_PASSWORD) {
    console.error(`${script}.mjs: BASE_URL and ADMIN_PASSWORD must be set`)
    process.exit(2)
  }
  const shotDir = env.SHOT_DIR || mkdtempSync(join(tmpdir(), `gbd-${script}-`))
  const run = { step: 'launch' }
  const userDataDir = mkdtempSync(join(tmpdir(), 'gbd-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.GBD_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
    locale: 'en-US',
    colorScheme: 'light',
  })
  try {
    if (before) await before(context)
    const page = context.pages()[0] ?? (await context.newPage())
    page.setDefaultTimeout(20_000)
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

    run.step = 'login'
    await page.goto(env.BASE_URL + '/')
    await tid('login-password').fill(env.ADMIN_PASSWORD)
    await tid('login-submit').click()

    await body({ page, context, tid, shot, run })
    console.log(JSON.stringify(out))
  } catch (err) {
    console.log(JSON.stringify({ ...out, error: String(err?.message ?? err), step: run.step }))
    process.exitCode = 1
  } finally {
    await context.close().catch(() => {})
    rmSync(userDataDir, { recursive: true, force: true })
  }
}
