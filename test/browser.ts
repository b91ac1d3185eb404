/** Headless Chromium for the browser tests: a launcher, a page's problems, and screenshots. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Cleanup } from './helpers.js';
import { tempFolder } from './temp.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = path.resolve('test-artifacts');

type LaunchOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

/**
 * Headless Debian Chromium with a fresh profile, closed by `cleanup`; fails (never skips) when it
 * is not installed. `test` names the test in that failure; `options` add to the launch options.
 */
export async function launchChromium(cleanup: Cleanup, test: string, options: LaunchOptions = {}): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${test} needs Debian's chromium at ${CHROMIUM}: install it with ` +
        '`apt-get update && apt-get install -y chromium` (as root), or run `npm test`, which installs it when it can.',
    );
  }
  const profile = tempFolder(cleanup, 'synack-chromium-');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 20_000, ...options });
  return cleanup.add(context, (c) => c.close());
}

/** Collects the page's uncaught errors and console errors, as `page error: …` and `console: …`. */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  return problems;
}

/** Saves a full-page screenshot as test-artifacts/`name` and expects it to hold a real picture. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}
