#!/usr/bin/env node
// Runs the built CLI (dist/, what `npm run build` makes) when it is up to date with the source,
// else the TypeScript source through tsx, so the command always matches the source. The built
// code is the faster one: tsx keeps every function's name by redefining it at each closure.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist/app/cli/main.js');

/** The newest modification time of the files under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(file) : statSync(file).mtimeMs);
  }
  return latest;
}

if (existsSync(built) && statSync(built).mtimeMs >= newest(path.join(root, 'src'))) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/app/cli/main.ts');
}
