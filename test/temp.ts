/** Temporary folders for tests, removed with the test's other resources. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cleanup } from './helpers.js';

/** A fresh folder under the system's temporary folder, removed (with its contents) by `cleanup`. */
export function tempFolder(cleanup: Cleanup, prefix = 'synack-test-'): string {
  return cleanup.add(mkdtempSync(path.join(os.tmpdir(), prefix)), (dir) => rmSync(dir, { recursive: true, force: true }));
}
