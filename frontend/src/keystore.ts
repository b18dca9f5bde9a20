// Settings → Key storage: where the API keys are kept, how safe that is, and moving them
// between the OS keychain and the encrypted file store (with your passphrase or a generated one).

import * as api from './api'
import type { SecretStoreInfo } from './api'
import { busy, button, h, report, set, toast } from './dom'
import { t } from './i18n'

/** The key storage section of the Settings tab. */
export interface KeyStoreSection {
  el: HTMLElement
  /** Reloads what the server says. */
  load(): void
}

/** Builds the key storage section. */
export function keyStoreSection(): KeyStoreSection {
  const body = h('div', { 'data-testid': 'keystore-info' }, '…')
  const pass = h('input', { type: 'password', autocomplete: 'new-password', 'data-testid': 'keystore-passphrase', 'aria-label': t('storeYourPassphrase'), placeholder: t('storeYourPassphrase') })
  const toFile: HTMLButtonElement = button(t('storeMoveFile'), () => void move('file'), { class: 'small', 'data-testid': 'keystore-to-file' })
  const toKeychain: HTMLButtonElement = button(t('storeMoveKeychain'), () => void move('keychain'), { class: 'small', 'data-testid': 'keystore-to-keychain' })
  const el = h(
    'section',
    { class: 'card keystore', 'data-testid': 'keystore' },
    h('h2', {}, t('storeTitle')),
    body,
    h('div', { class: 'row' }, pass, toFile, toKeychain),
  )

  function render(s: SecretStoreInfo): void {
    const lines: (HTMLElement | false)[] = []
    if (s.kind === 'keychain') lines.push(h('p', {}, t('storeKeychain')))
    else {
      lines.push(h('p', {}, t(s.passphrase === 'generated' ? 'storeFileGenerated' : 'storeFileYours')))
      if (s.auto) lines.push(h('p', { class: 'muted small' }, t('storeAuto'), s.keychainError ? ` (${s.keychainError})` : ''))
      if (s.passphrase === 'generated') lines.push(h('p', { class: 'notice', 'data-testid': 'keystore-safety' }, t('storeSafety')))
      lines.push(h('p', { class: 'muted small' }, t('storeFile'), ': ', h('code', {}, s.path)))
      if (s.passphrasePath) lines.push(h('p', { class: 'muted small' }, t('storePassphraseFile'), ': ', h('code', {}, s.passphrasePath)))
    }
    set(body, ...lines)
    body.dataset.kind = s.kind
    body.dataset.passphrase = s.passphrase
    toKeychain.hidden = s.kind === 'keychain'
    toFile.textContent = s.kind === 'file' ? t('storeUseYours') : t('storeMoveFile')
  }

  async function move(to: 'keychain' | 'file'): Promise<void> {
    const b = to === 'file' ? toFile : toKeychain
    await busy(b, async () => {
      const s = await api.moveSecretStore(to, to === 'file' ? pass.value : '')
      pass.value = ''
      render(s)
      toast(t('storeMoved'), 'ok')
    })
  }

  return {
    el,
    load() {
      api.getSecretStore().then(render).catch(report)
    },
  }
}
