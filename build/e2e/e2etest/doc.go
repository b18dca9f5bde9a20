// Package e2etest runs the Node.js client scripts of build/e2e from Go tests.
//
// build/e2e holds plain .mjs scripts that drive real clients — the official OpenAI and
// Google GenAI SDKs and Chromium through playwright-core — with the npm packages pinned in
// build/e2e/package.json. Tests call [RunNode] with a script name and environment; when
// node or build/e2e/node_modules is missing the test is skipped, or fails when the
// environment variable GBD_REQUIRE_E2E=1 says end-to-end tests are required (as
// build/test.sh does).
//
// Scripts must live in build/e2e itself: Node resolves ES module imports from the script's
// own folder, not from NODE_PATH.
//
// This package is test support only and uses the standard library alone.
package e2etest
