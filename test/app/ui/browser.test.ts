import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPeer } from '../../../src/app/peer.js';
import { startUi, type Ui } from '../../../src/app/ui/server.js';
import { hexDump } from '../../../src/transport/raw.js';
import { launchChromium, pageProblems, screenshot } from '../../browser.js';
import { Cleanup, firstValue } from '../../helpers.js';
import { tempFolder } from '../../temp.js';

const WAIT = { timeout: 10_000 };

/** Types into a send box and presses Enter, as a person would. */
async function sendFrom(page: Page, box: string, text: string): Promise<void> {
  await page.fill(`${box} textarea`, text);
  await page.press(`${box} textarea`, 'Enter');
}

/** Fills the client form and presses Connect; resolves with the new card's selector once it is ESTABLISHED. */
async function connectClient(page: Page, id: string, port: number, reconnect: number): Promise<string> {
  await page.fill('#client-host', '127.0.0.1');
  await page.fill('#client-port', String(port));
  await page.fill('#client-reconnect', String(reconnect));
  await page.click('#client-add');
  const card = `article.card[data-client-id="${id}"]`;
  await page.waitForSelector(`${card}[data-state="ESTABLISHED"]`, WAIT);
  return card;
}

describe('web UI in a real browser', () => {
  const browser = new Cleanup();
  const cleanup = new Cleanup();
  let context: BrowserContext;
  beforeAll(async () => {
    context = await launchChromium(browser, "The web UI's browser test", { acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  });
  afterAll(() => browser.run());
  afterEach(() => cleanup.run());

  /** A UI with its own settings folder, and a page open on it that reports its errors into `problems`. */
  async function open(): Promise<{ ui: Ui; page: Page; problems: string[] }> {
    const configDir = tempFolder(cleanup, 'synack-ui-');
    const ui = cleanup.add(await startUi({ configDir }), (u) => u.close());
    const page = cleanup.add(await context.newPage(), (p) => p.close());
    const problems = pageProblems(page);
    await page.goto(ui.url, WAIT);
    await page.waitForSelector('#live.on', WAIT);
    return { ui, page, problems };
  }

  it('runs a server and two clients from the page, exchanges messages both ways, and shows a client retry until FAILED', async () => {
    const { page, problems } = await open();

    // The server panel: its buttons follow the listener's state.
    expect(await page.inputValue('#server-host')).toBe('127.0.0.1');
    expect(await page.isDisabled('#server-stop')).toBe(true);
    await page.fill('#server-port', '0');
    await page.click('#server-start');
    await page.waitForSelector('#server[data-state="LISTENING"]', WAIT);
    expect(await page.isDisabled('#server-start')).toBe(true);
    expect(await page.isEnabled('#server-stop')).toBe(true);
    const port = Number((await page.getAttribute('#server', 'data-address'))!.split(':').pop());
    expect(port).toBeGreaterThan(0);

    // Two client cards; the second retries twice once its link is lost.
    const one = await connectClient(page, 'client-1', port, 0);
    const two = await connectClient(page, 'client-2', port, 2);
    await page.waitForSelector('#server-clients tr[data-client-id="c1"][data-state="ESTABLISHED"]', WAIT);
    await page.waitForSelector('#server-clients tr[data-client-id="c2"][data-state="ESTABLISHED"]', WAIT);
    expect(await page.$$eval(`${one} .trail li`, (items) => items.map((li) => li.textContent))).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED']);

    // Server to every client.
    await sendFrom(page, '#server-log', 'hello everyone');
    await page.waitForSelector(`${one} li.in:has-text("hello everyone")`, WAIT);
    await page.waitForSelector(`${two} li.in:has-text("hello everyone")`, WAIT);
    await page.waitForSelector('#server-log li.out:has-text("all (2 clients)")', WAIT);

    // Client to server: the log shows it, and c1's counters change.
    await sendFrom(page, one, 'from one');
    await page.waitForSelector('#server-log li.in:has-text("from one")', WAIT);
    expect(await page.textContent('#server-log li.in .who')).toMatch(/^c1 127\.0\.0\.1:\d+$/);
    await page.waitForSelector('tr[data-client-id="c1"][data-bytes-in="9"][data-messages-in="1"][data-bytes-out="15"]', WAIT);
    await page.waitForSelector('tr[data-client-id="c2"][data-bytes-in="0"][data-bytes-out="15"]', WAIT);
    expect(await page.textContent('tr[data-client-id="c1"] td.in')).toBe('9 B1 msg');

    // Server to the selected client only: c1, which was not selected, gets only what follows.
    expect(await page.inputValue('#server-log select.target')).toBe('all');
    await page.check('tr[data-client-id="c2"] input[type="checkbox"]');
    await page.selectOption('#server-log select.target', 'selected');
    expect(await page.textContent('#server-log select.target option[value="selected"]')).toBe('to selected (1)');
    await sendFrom(page, '#server-log', 'just for two');
    await page.waitForSelector(`${two} li.in:has-text("just for two")`, WAIT);
    await page.selectOption('#server-log select.target', 'all');
    await sendFrom(page, '#server-log', 'everyone again');
    await page.waitForSelector(`${one} li.in:has-text("everyone again")`, WAIT);
    expect(await page.textContent(`${one} ol.entries`)).not.toContain('just for two');

    // Sent and received are told apart by colour; hex shows the bytes.
    type Styles = { getComputedStyle(node: unknown): { color: string } };
    const colour = (selector: string) => page.$eval(selector, (node) => (globalThis as unknown as Styles).getComputedStyle(node).color);
    expect(await colour('#server-log li.in .body')).not.toBe(await colour('#server-log li.out .body'));
    await page.click('#server-log .seg button[data-view="hex"]');
    expect(await page.textContent('#server-log li.in .body')).toBe('9 bytes');
    expect(await page.textContent('#server-log li.in pre.dump')).toBe(hexDump(Buffer.from('from one\n')));
    expect(hexDump(Buffer.from('from one\n'))).toMatch(/^00000000  66 72 6f 6d 20 6f 6e 65  0a +\|from one\.\|$/);
    await screenshot(page, 'ui-exchange-hex.png');
    await page.click('#server-log .seg button[data-view="text"]');
    await screenshot(page, 'ui-exchange.png');

    // The log can be saved.
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.click('#server-log a.save')]);
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).toMatch(/^synack-server-\d{8}-\d{6}\.log$/);
    expect(saved).toMatch(/<- c1 127\.0\.0\.1:\d+ {2}from one\n/);

    // Stop listening and close the clients: client-1 just closes; client-2 retries the closed port twice, then gives up.
    await page.click('#server-stop');
    await page.waitForSelector('#server[data-state="STOPPED"]', WAIT);
    expect(await page.isEnabled('#server-start')).toBe(true);
    await page.waitForSelector(`${one}[data-state="CLOSED"]`, WAIT);
    await page.waitForSelector(`${two}[data-state="RETRY_WAIT"]`, WAIT);
    await page.waitForSelector(`${two}[data-state="FAILED"]`, WAIT);
    const trail = await page.$$eval(`${two} .trail li`, (items) => items.map((li) => li.textContent));
    expect(trail).toEqual(expect.arrayContaining(['RETRY_WAIT 1/2', 'RETRY_WAIT 2/2']));
    expect(trail.at(-1)).toBe('FAILED');
    expect(await page.textContent(`${two} .badge`)).toBe('FAILED');
    expect(await page.textContent(`${two} .fault`)).toMatch(/^E_CONN_REFUSED: /);
    await page.waitForSelector(`${two} li.error:has-text("gave up after 3 attempts")`, WAIT);
    expect(await page.isEnabled(`${two} button.connect`)).toBe(true);
    expect(await page.isDisabled(`${two} button.disconnect`)).toBe(true);
    expect(await page.isDisabled(`${two} form.sendbox button`)).toBe(true);
    await page.waitForSelector('#server-empty:visible', WAIT);
    await screenshot(page, 'ui-retry-failed.png');

    // The inspector tab shows the same actors.
    await page.click('#tab-inspector');
    const inspector = page.frameLocator('#inspector-slot iframe');
    await inspector.locator('section.card[data-actor-id="client-2"][data-state="FAILED"]').waitFor(WAIT);
    await inspector.locator('section.card[data-actor-id="server-1"][data-state="STOPPED"]').waitFor(WAIT);
    await screenshot(page, 'ui-inspector.png');
    await page.click('#tab-network');
    expect(await page.$('#inspector-slot iframe')).toBeNull();

    expect(problems).toEqual([]);
  });

  it('shows why a command was refused, next to the form that sent it', async () => {
    const { page, problems } = await open();

    await page.fill('#server-port', '99999');
    await page.click('#server-start');
    await page.waitForSelector('#server-notice:visible', WAIT);
    expect(await page.textContent('#server-notice')).toBe('E_USAGEport: expected a port from 0 (any free port) to 65535, got "99999"');

    await page.fill('#client-host', 'no such host!');
    await page.click('#client-add');
    await page.waitForSelector('#client-notice:visible', WAIT);
    expect(await page.textContent('#client-notice')).toContain('host: expected an IP address or a host name');
    expect(await page.$('article.card')).toBeNull();
    await screenshot(page, 'ui-refused.png');
    // The browser reports each refused command's HTTP 400 on its console; nothing else went wrong.
    expect(problems).toEqual(new Array(2).fill('console: Failed to load resource: the server responded with a status of 400 (Bad Request)'));
  });

  it('sends a file chosen in the page to a receiver it runs, both progress bars reaching 100 % with the same SHA-256', async () => {
    const { page, problems } = await open();
    const into = tempFolder(cleanup, 'synack-ui-received-');
    await page.click('#tab-files');
    await page.fill('#receive-port', '0');
    await page.fill('#receive-dir', into);
    await page.click('#receive-start');
    await page.waitForSelector('#file-receive[data-state="LISTENING"]', WAIT);
    expect(await page.isDisabled('#receive-start')).toBe(true);
    const port = (await page.getAttribute('#file-receive', 'data-address'))!.split(':').pop()!;

    const content = randomBytes(2 * 1024 * 1024 + 17);
    const sha256 = createHash('sha256').update(content).digest('hex');
    await page.setInputFiles('#send-file', { name: 'capture 1.pcap', mimeType: 'application/octet-stream', buffer: content });
    await page.fill('#send-host', '127.0.0.1');
    await page.fill('#send-port', port);
    await page.click('#send-button');

    for (const side of ['#send-transfers', '#receive-transfers']) {
      const done = await page.waitForSelector(`${side} li.transfer[data-state="DONE"][data-percent="100"]`, WAIT);
      expect(await done.getAttribute('data-sha256')).toBe(sha256);
      expect(await done.$eval('progress', (bar) => [(bar as unknown as { value: number }).value, (bar as unknown as { max: number }).max])).toEqual([content.length, content.length]);
    }
    expect(await page.textContent('#send-transfers li .t-sha')).toBe(`sha256 ${sha256} · confirmed by the receiver`);
    expect(await page.textContent('#receive-transfers li .t-meta')).toBe('2.0 MiB of 2.0 MiB · 100 %');
    expect(readFileSync(path.join(into, 'capture 1.pcap')).equals(content)).toBe(true);
    await screenshot(page, 'ui-files.png');
    expect(problems).toEqual([]);
  });

  it('hosts a registry, joins it as a peer and chats with another peer from the P2P tab', async () => {
    const { page, problems } = await open();
    await page.click('#tab-p2p');
    await page.fill('#registry-port', '0');
    await page.click('#registry-start');
    await page.waitForSelector('#registry[data-state="LISTENING"]', WAIT);
    const at = `127.0.0.1:${(await page.getAttribute('#registry', 'data-address'))!.split(':').pop()}`;

    await page.fill('#peer-name', 'alice');
    await page.fill('#peer-join', at);
    await page.selectOption('#peer-host', '127.0.0.1');
    await page.fill('#peer-port', '0');
    await page.click('#peer-join-button');
    await page.waitForSelector('#peer[data-chat="LISTENING"][data-registry="REGISTERED"]', WAIT);
    expect(await page.textContent('#peer-self')).toMatch(new RegExp(`^You are alice@127\\.0\\.0\\.1:\\d+, registered with ${at.replace(/\./g, '\\.')}\\.$`));
    expect(await page.isDisabled('#peer-log form.sendbox button')).toBe(true);

    const bob = cleanup.add(createPeer({ name: 'bob', registry: at, host: '127.0.0.1' }), (p) => p.close({ graceMs: 200 }));
    await bob.start();
    await page.waitForSelector('#peer-list tr[data-name="bob"]', WAIT);
    await page.waitForSelector('#registry-peers tr[data-name="alice"] + tr[data-name="bob"]', WAIT);

    const heard = firstValue(bob.events$, (e) => e.event === 'chat', 5_000, 'a chat message to bob');
    await page.selectOption('#peer-log select.target', 'bob');
    await sendFrom(page, '#peer-log', 'hi bob');
    expect(await heard).toMatchObject({ from: 'alice', text: 'hi bob' });
    await page.waitForSelector('#peer-log li.out:has-text("hi bob")', WAIT);
    expect(await page.inputValue('#peer-log textarea')).toBe('');
    await bob.send('alice', 'hi alice, bob here');
    await page.waitForSelector('#peer-log li.in:has-text("hi alice, bob here")', WAIT);
    expect(await page.textContent('#peer-log li.in .who')).toBe('bob');
    await page.waitForSelector('#peer-list tr[data-name="bob"] td:has-text("open")', WAIT);
    await screenshot(page, 'ui-p2p.png');

    await page.click('#peer-leave');
    await page.waitForSelector('#peer[data-chat="STOPPED"]', WAIT);
    await page.waitForSelector('#registry-peers tbody tr:only-child[data-name="bob"]', WAIT);
    expect(await page.isEnabled('#peer-join-button')).toBe(true);
    expect(problems).toEqual([]);
  });
});
