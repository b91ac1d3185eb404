#!/usr/bin/env bash
# npm test: what the suite needs beyond npm packages, then typecheck, the tests, and a summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)
command -v socat >/dev/null 2>&1 || missing+=(socat)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing ${missing[*]} for the interop tests (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 ||
      echo "test: could not install ${missing[*]}; interop tests talk to a plain Node peer instead"
  else
    echo "test: ${missing[*]} not found; interop tests talk to a plain Node peer instead (install them with: sudo apt-get install ${missing[*]})"
  fi
fi

# The inspector's browser test drives Debian's chromium (playwright-core downloads no browser).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing chromium for the inspector's browser test (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 ||
      { echo "test: could not install chromium; install it with: apt-get install chromium"; echo "tests: 0 passed, 1 failed"; exit 1; }
  else
    echo "test: /usr/bin/chromium not found; the inspector's browser test needs Debian's chromium package (install it with: sudo apt-get install chromium)"
    echo "tests: 0 passed, 1 failed"
    exit 1
  fi
fi

# The benchmarks (run briefly by the suite) measure the built library, dist/, as users load it.
echo "test: build and typecheck"
npx tsc -p tsconfig.build.json || { echo "build: 0 passed, 1 failed"; exit 1; }
npx tsc --noEmit -p . || { echo "typecheck: 0 passed, 1 failed"; exit 1; }

mkdir -p test-artifacts
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' || echo "tests: 0 passed, 1 failed"
exit $status
