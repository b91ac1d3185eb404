import { describe, expect, it } from 'vitest';
import { uiCommand, UI_HELP } from '../../../src/app/cli/commands/ui.js';
import { tempFolder } from '../../temp.js';
import { perTestCleanup } from '../cli/run-cli.js';
import { request } from './ui-client.js';

describe('synack ui', () => {
  const scope = perTestCleanup();

  it('prints its URL, serves the page there, and closes gracefully on SIGINT', async (ctx) => {
    const config = tempFolder(scope(ctx), 'synack-ui-cli-');
    const cli = scope.cli(ctx, ['ui', '--port', '0', '--json'], { env: { XDG_CONFIG_HOME: config } });
    const event = JSON.parse(await cli.waitForLine(() => true)) as { event: string; url: string; urls: string[]; host: string; port: number };
    expect(event).toMatchObject({ event: 'ui', host: '127.0.0.1', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/) });
    expect(event.urls).toEqual([event.url]);

    const url = new URL(event.url);
    expect((await request(event.port, url.pathname + url.search)).status).toBe(200);
    expect((await request(event.port, '/')).status).toBe(403);

    cli.signal('SIGINT');
    const exit = await cli.exited(5_000);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
  });

  it('refuses options that belong to the page or to other commands', async () => {
    await expect(uiCommand(['--hex'])).rejects.toMatchObject({ code: 'E_USAGE', message: "ui: Unknown option '--hex'" });
    await expect(uiCommand(['--inspect'])).rejects.toMatchObject({ code: 'E_USAGE', message: "ui: Unknown option '--inspect'" });
    await expect(uiCommand(['--port', '70000'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining("invalid --port '70000'") });
    await expect(uiCommand(['--host', 'bad host'])).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(uiCommand(['--framing', 'qt'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining("Unknown option '--framing'") });
    expect(UI_HELP.split('\n')[0]).toBe('synack ui [--port P] [--host H]');
  });
});
