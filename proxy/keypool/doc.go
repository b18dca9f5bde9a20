// Package keypool chooses which Gemini API key serves each upstream call.
//
// A [Pool] holds the keys and their state. The proxy asks it for a key with
// [Pool.Acquire] (model, IDs already tried in this request) and tells it what
// the upstream answer meant with [Pool.Report]:
//
//   - Success clears the growing backoff of (key, model);
//   - Neutral is not the key's fault and costs it nothing;
//   - Cooldown cools (key, model) for the delay Google asked for, or for a
//     growing backoff (5s, 10s, 20s, … 5m) when it gave none;
//   - DailyQuota parks (key, model) until the next midnight in
//     America/Los_Angeles, when Google resets daily quotas (DST-correct; the
//     time zone database is linked in with time/tzdata);
//   - Disable takes the key out of rotation for every model and keeps the
//     reason, until the user enables it again with [Pool.SetDisabled].
//
// Cooldowns are per (key, model): a key rate-limited on gemini-2.5-pro still
// serves gemini-2.5-flash. When nothing is usable Acquire returns an
// [*ExhaustedError] that says why and when the soonest cooldown ends (for a
// Retry-After header).
//
// Selection is Random (default), RoundRobin or LeastRecentlyUsed. Acquire
// neither allocates nor scans the keys one by one: usable keys are found with
// bitsets (cooling per model, enabled) and, for LRU, a log of the order of
// use with a position bitset. Ended cooldowns are cleared lazily from a
// per-model heap, and a model's state goes away when it has none left, so
// memory does not grow with the number of models ever used.
//
// The clock is injected ([Options].Now); the package depends on the standard
// library and proxy/apikey only. All methods are safe for concurrent use.
package keypool
