import { readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, MAX_RECENT, sanitizeSettings, settingsFile, SettingsStore, withRecent } from '../../../src/app/ui/settings.js';
import { Cleanup } from '../../helpers.js';
import { tempFolder } from '../../temp.js';

describe('web UI settings', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const tempDir = () => tempFolder(cleanup, 'synack-settings-');

  it('live in the user config folder: an explicit folder, else $XDG_CONFIG_HOME/synack, else ~/.config/synack', () => {
    expect(settingsFile({ configDir: '/tmp/x' })).toBe('/tmp/x/ui.json');
    expect(settingsFile({ env: { XDG_CONFIG_HOME: '/srv/cfg' } })).toBe('/srv/cfg/synack/ui.json');
    expect(settingsFile({ env: { XDG_CONFIG_HOME: 'relative/ignored' } })).toBe(path.join(os.homedir(), '.config/synack/ui.json'));
    expect(settingsFile({ env: {} })).toBe(path.join(os.homedir(), '.config/synack/ui.json'));
  });

  it('keep every valid field of a hand-edited file and take the default for the others', () => {
    const settings = sanitizeSettings({
      server: { port: 'x', framing: 'qt', relay: 'yes' },
      client: { host: 'example.org', reconnect: -1 },
      send: { eol: 'crlf' },
      recent: [{ host: '10.0.0.1', port: 80 }, { host: '', port: 1 }, 'junk', { host: 'h', port: 0 }],
      extra: true,
    });
    expect(settings.server).toEqual({ ...DEFAULT_SETTINGS.server, framing: 'qt' });
    expect(settings.client).toEqual({ ...DEFAULT_SETTINGS.client, host: 'example.org' });
    expect(settings.send).toEqual({ mode: 'text', eol: 'crlf' });
    expect(settings.recent).toEqual([{ host: '10.0.0.1', port: 80, framing: 'raw' }]);
    expect(settings).not.toHaveProperty('extra');
    expect(sanitizeSettings('not an object')).toEqual(DEFAULT_SETTINGS);
  });

  it('keep recent targets newest first, without duplicates, at most ten', () => {
    let recent = withRecent([], { host: 'a', port: 1, framing: 'raw' });
    recent = withRecent(recent, { host: 'b', port: 2, framing: 'qt' });
    recent = withRecent(recent, { host: 'a', port: 1, framing: 'raw' });
    expect(recent.map((r) => r.host)).toEqual(['a', 'b']);
    for (let port = 10; port < 30; port++) recent = withRecent(recent, { host: 'h', port, framing: 'raw' });
    expect(recent).toHaveLength(MAX_RECENT);
    expect(recent[0]).toEqual({ host: 'h', port: 29, framing: 'raw' });
  });

  it('are written whole, readable by the user only, and read back', async () => {
    const dir = path.join(tempDir(), 'nested', 'synack');
    const store = await SettingsStore.open(path.join(dir, 'ui.json'));
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    expect(store.problem).toBeNull();
    await store.update((s) => ({ ...s, view: { hex: true } }));
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(store.file, 'utf8')).view).toEqual({ hex: true });
    expect((await SettingsStore.open(store.file)).get().view).toEqual({ hex: true });
  });

  it('fall back to the defaults when the file is not JSON, and say so', async () => {
    const file = path.join(tempDir(), 'ui.json');
    writeFileSync(file, '{ not json');
    const store = await SettingsStore.open(file);
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    expect(store.problem).toMatch(/^could not read .*ui\.json .*; using defaults$/);
  });

  it('report a failed write without failing the change', async () => {
    const blocker = path.join(tempDir(), 'not-a-folder');
    writeFileSync(blocker, '');
    const store = await SettingsStore.open(path.join(blocker, 'ui.json'));
    await store.update((s) => ({ ...s, view: { hex: true } }));
    expect(store.get().view.hex).toBe(true);
    expect(store.problem).toMatch(/^could not save settings to .*not-a-folder\/ui\.json: /);
  });
});
