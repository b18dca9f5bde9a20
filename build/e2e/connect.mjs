// Drives the Connect screen of the web UI (the same app as the desktop window) in Debian's
// Chromium through playwright-core. Run by app/connect_ui_test.go through e2etest.RunNode with:
//   BASE_URL        the proxy (required); ADMIN_PASSWORD the admin password (required)
//   ACCESS_KEY      the proxy's access key
//   TOOLS           JSON array of the tool ids to look at
//   WRITE_TOOL      the tool whose "Write config" is clicked (its confirmation accepted)
//   SHOT_DIR        folder for the screenshots; GBD_CHROMIUM the Chromium executable
// Prints one JSON object with what it saw; exits 1 with {"error", "step"} when a step fails.
import { drive } from './chromium.mjs'

const env = process.env
const out = { screenshots: [], pageErrors: [], tools: {}, tests: {} }
await drive(
  'connect',
  out,
  async ({ page, tid, shot, run }) => {
    run.step = 'connect tab'
    await tid('tab-connect').click()
    await tid('client-tab-cherry-studio').waitFor()
    // Hidden by default: the key is dots in the settings until shown.
    out.keyHiddenByDefault = !(await tid('client-detail').textContent()).includes(env.ACCESS_KEY)
    await tid('access-key-show').click()
    await page.waitForFunction((want) => document.querySelector('[data-testid="access-key"]')?.textContent?.trim() === want, env.ACCESS_KEY)

    for (const id of JSON.parse(env.TOOLS || '[]')) {
      run.step = 'tool ' + id
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
      run.step = 'write config'
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
      run.step = 'test request ' + d
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

    run.step = 'chinese'
    await tid('lang').click()
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
    out.zhTitle = (await page.locator('[data-testid="clients-card"] h2').textContent()).trim()
    await tid('client-tab-codex').click()
    await page.locator('[data-testid="client-detail"][data-tool="codex"]').waitFor()
    out.zhWrite = (await tid('client-write').textContent()).trim()
    await shot('connect-tools-zh.png')
  },
)
