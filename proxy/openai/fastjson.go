//go:build !gbd_stdjson

package openai

// fastJSON selects the hand-written JSON paths (decodeAnswer, the chunk's
// AppendJSON). Building with -tags gbd_stdjson turns them off, so that the
// bench command can measure the same routes with encoding/json alone
// (GOEXPERIMENT=jsonv2 then measures json/v2's engine under the same API).
const fastJSON = true
