// Unsaved input: text the user typed into a field that no change through the API has saved yet
// (a key list pasted into Add keys, a label, a settings field, a passphrase in a dialog). The
// desktop app releases the page while its window is hidden, except while there is unsaved input:
// the page tells it through tellWindow("ui:unsaved", …).

import { onWrite, tellWindow } from './api'

type Field = HTMLInputElement | HTMLTextAreaElement

const textTypes = new Set(['text', 'password', 'number', 'url', 'email', 'tel'])
const typed = new Set<Field>()
let unsaved = false

function isTextField(el: EventTarget | null): el is Field {
  return el instanceof HTMLTextAreaElement || (el instanceof HTMLInputElement && textTypes.has(el.type))
}

function update(): void {
  for (const el of typed) if (!el.isConnected || el.value === '') typed.delete(el)
  const now = typed.size > 0
  if (now !== unsaved) {
    unsaved = now
    tellWindow('ui:unsaved', now)
  }
}

/** Whether the user typed something that is not saved yet. */
export function hasUnsaved(): boolean {
  update()
  return unsaved
}

/** Starts watching the page's fields: typing marks a field, a successful save or its removal clears it. */
export function watchUnsaved(): void {
  document.addEventListener(
    'input',
    (e) => {
      if (e.isTrusted && isTextField(e.target)) typed.add(e.target)
      update()
    },
    true,
  )
  onWrite(() => {
    typed.clear()
    update()
  })
  // a dialog closed or a panel rebuilt takes its fields away
  new MutationObserver(update).observe(document.body, { childList: true, subtree: true })
}
