import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { uiCommand, UI_HELP } from '../../../src/app/cli/commands/ui.js';
import { Cleanup, eventOnce } from '../../helpers.js';
import { request } from './ui-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `synack ui ARGS` as its own process (main.ts wires the same function to the `ui` command). */
function runUi(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const script = "import { uiCommand } from './src/app/cli/commands/ui.ts'; await uiCommand(process.argv.slice(1));";
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The first stdout line of `child`, within 10 s (tsx compiles on first start). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line on stdout within 10000 ms (stdout ${JSON.stringify(text)})`)), 10_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end !== -1) {
        clearTimeout(timer);
        resolve(text.slice(0, end));
      }
    });
  });
}

describe('synack ui', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('prints its URL, serves the page there, and closes gracefully on SIGINT', async () => {
    const config = cleanup.add(mkdtempSync(path.join(os.tmpdir(), 'synack-ui-cli-')), (dir) => rmSync(dir, { recursive: true, force: true }));
    const child = cleanup.add(runUi(['--port', '0', '--json'], { XDG_CONFIG_HOME: config }), (c) => c.exitCode === null && c.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const event = JSON.parse(await firstLine(child)) as { event: string; url: string; urls: string[]; host: string; port: number };
    expect(event).toMatchObject({ event: 'ui', host: '127.0.0.1', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/) });
    expect(event.urls).toEqual([event.url]);

    const url = new URL(event.url);
    expect((await request(event.port, url.pathname + url.search)).status).toBe(200);
    expect((await request(event.port, '/')).status).toBe(403);

    const exited = eventOnce(child, 'exit', 5_000);
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });

  it('refuses options that belong to the page or to other commands', async () => {
    await expect(uiCommand(['--hex'])).rejects.toMatchObject({ code: 'E_USAGE', message: 'ui: --hex is not an option of ui (choose it in the page)' });
    await expect(uiCommand(['--inspect'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('the inspector is a tab of the page') });
    await expect(uiCommand(['--port', '70000'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining("invalid --port '70000'") });
    await expect(uiCommand(['--host', 'bad host'])).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(uiCommand(['--framing', 'qt'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining("Unknown option '--framing'") });
    expect(UI_HELP.split('\n')[0]).toBe('synack ui [--port P] [--host H]');
  });
});
