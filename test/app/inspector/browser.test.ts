import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/app/client.js';
import { startInspector } from '../../../src/app/inspector/server.js';
import { createServer } from '../../../src/app/server.js';
import { Supervisor } from '../../../src/app/supervisor.js';
import { launchChromium, pageProblems, screenshot } from '../../browser.js';
import { Cleanup, freePort } from '../../helpers.js';

/** The card of the live actor with this id, once it shows `state`. */
function card(page: Page, id: string, state: string) {
  return page.waitForSelector(`section.card[data-actor-id="${id}"][data-state="${state}"][data-status="active"]`, { timeout: 10_000 });
}

describe('inspector in a real browser', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('shows a client retrying in RETRY_WAIT, then ESTABLISHED once the port opens, and refuses requests without the token', async () => {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const inspector = cleanup.add(await startInspector(supervisor), (i) => i.close());
    const port = await freePort();
    const client = createClient({
      host: '127.0.0.1',
      port,
      supervisor,
      id: 'client-1',
      connectTimeoutMs: 1_000,
      retry: { attempts: 1_000, baseMs: 400, maxMs: 400, jitter: 0 },
      reconnect: true,
    });
    cleanup.add(client, (c) => c.close());
    const connected = client.connect();
    connected.catch(() => {});

    const context = await launchChromium(cleanup, "The inspector's browser test");
    const page = await context.newPage();
    const problems = pageProblems(page);
    await page.goto(inspector.url, { timeout: 10_000 });

    await card(page, 'client-1', 'RETRY_WAIT');
    await page.waitForSelector('.tree li[data-actor-id="supervisor"] li[data-actor-id="client-1"]', { timeout: 5_000 });
    expect(await page.textContent('section.card[data-actor-id="client-1"] .chart-box .st.active text')).toBe('RETRY_WAIT');

    const server = createServer({ port, supervisor, id: 'server-1' });
    cleanup.add(server, (s) => s.close({ graceMs: 200 }));
    await server.listen();
    await Promise.race([connected, new Promise((_, reject) => setTimeout(() => reject(new Error('client did not connect within 5 s')), 5_000).unref())]);

    await card(page, 'client-1', 'ESTABLISHED');
    await card(page, 'server-1', 'LISTENING');
    await card(page, 'c1', 'ESTABLISHED');
    await page.waitForSelector('.tree li[data-actor-id="server-1"] li[data-actor-id="c1"]', { timeout: 5_000 });
    expect(await page.textContent('section.card[data-actor-id="client-1"] .chart-box .st.active:not(.compound) text')).toBe('ESTABLISHED');
    expect(await page.textContent('section.card[data-actor-id="client-1"] .ctx')).toContain(`127.0.0.1:${port}`);
    expect(await page.textContent('section.card[data-actor-id="client-1"] .events')).toContain('SOCKET.CONNECTED');

    await page.setViewportSize({ width: 1360, height: 900 });
    await screenshot(page, 'inspector.png');

    await client.close();
    await page.waitForSelector('section.card.stopped[data-actor-id="client-1"][data-status="stopped"]', { timeout: 5_000 });

    const withoutToken = new URL(inspector.url);
    withoutToken.search = '';
    expect((await fetch(withoutToken, { signal: AbortSignal.timeout(2_000) })).status).toBe(403);
    const events = new URL('/events', inspector.url);
    expect((await fetch(events, { signal: AbortSignal.timeout(2_000) })).status).toBe(403);
    expect(problems).toEqual([]);
  });
});
