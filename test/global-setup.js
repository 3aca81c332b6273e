// Tests that spawn the CLI or a bridge process run the compiled output in dist/ (what `npm start`
// runs). Builds it first when it is missing or older than a file of src/, so `npm test` on a fresh
// clone or after an edit tests the code as it is.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

module.exports = async function globalSetup() {
  const built = path.join(ROOT, 'dist', 'cli', 'index.js');
  const inputs = Math.max(
    newest(path.join(ROOT, 'src')),
    statSync(path.join(ROOT, 'tsconfig.build.json')).mtimeMs,
    statSync(path.join(ROOT, 'tsconfig.json')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= inputs) return;
  process.stderr.write('\ndist/ is missing or older than src/: npm run build\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
};
