// What the SDK drivers genai-client.mjs and openai-client.mjs share: the CASES list, check(),
// and running the cases into one JSON line.

// CheckError is a failed check (its message alone is reported).
export class CheckError extends Error {}

// check throws a CheckError with msg unless cond holds.
export function check(cond, msg) {
  if (!cond) throw new CheckError(msg)
}

// selectCases returns the cases named in CASES (comma-separated; default the defaults),
// exiting 2 on a name not in known.
export function selectCases(script, defaults, known) {
  const cases = (process.env.CASES || defaults.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const c of cases) {
    if (!known.includes(c)) {
      console.error(`${script}: unknown case ${JSON.stringify(c)}; known: ${known.join(', ')}`)
      process.exit(2)
    }
  }
  return cases
}

// runCases runs run[c]() for each case in order and prints {case: result} as JSON; on the first
// failure it prints {"error", "case", "status", "done"} and exits 1.
export async function runCases(script, cases, run) {
  const results = {}
  let current = null
  try {
    for (const c of cases) {
      current = c
      results[c] = await run[c]()
    }
    console.log(JSON.stringify(results))
  } catch (err) {
    const status = err?.status ?? null
    const msg = err instanceof CheckError ? err.message : `${err?.constructor?.name ?? 'Error'}: ${err?.message ?? err}`
    console.log(JSON.stringify({ error: msg, case: current, status, done: Object.keys(results) }))
    console.error(`${script}: case ${current} failed: ${msg}`)
    process.exit(1)
  }
}
