import http from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachInspector } from '../../../src/app/inspector/index.js';
import { withInspector } from '../../../src/app/inspector/cli.js';
import { startInspector, type Inspector } from '../../../src/app/inspector/server.js';
import { createServer } from '../../../src/app/server.js';
import { Supervisor } from '../../../src/app/supervisor.js';
import { Cleanup } from '../../helpers.js';
import { request } from '../ui/ui-client.js';

/** Opens the live channel and resolves with its first event (name and parsed data), then closes it. */
function firstEvent(port: number, path: string): Promise<{ name: string; data: unknown; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const match = /event: (\w+)\ndata: (.*)\n\n/.exec(buffer);
        if (match) resolve({ name: match[1]!, data: JSON.parse(match[2]!), res });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no event on the live channel within 2000 ms'));
    }, 2_000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
  });
}

describe('inspector server', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function serve() {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const inspector = cleanup.add(await startInspector(supervisor), (i) => i.close());
    const url = new URL(inspector.url);
    const token = url.searchParams.get('token')!;
    return { supervisor, inspector, port: inspector.port, token };
  }

  it('serves on 127.0.0.1 with a random token in its URL', async () => {
    const { inspector, token } = await serve();
    expect(inspector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    const other = cleanup.add(await startInspector(new Supervisor()), (i) => i.close());
    expect(new URL(other.url).searchParams.get('token')).not.toBe(token);
  });

  it('serves the page, its script and its stylesheet with the token, and no third-party URL', async () => {
    const { port, token } = await serve();
    const page = await request(port, `/?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain(`/app.js?token=${token}`);
    const script = await request(port, `/app.js?token=${token}`);
    const style = await request(port, `/app.css?token=${token}`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(style.status).toBe(200);
    for (const body of [page.body, script.body, style.body]) expect(body).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('refuses a request without the token, or with a wrong one, with 403', async () => {
    const { port, token } = await serve();
    for (const path of ['/', '/app.js', '/events', `/?token=${token.slice(1)}`, `/?token=${token}x`, '/?token=']) {
      const reply = await request(port, path);
      expect(reply.status, path).toBe(403);
      expect(reply.body).not.toContain(token);
    }
  });

  it('refuses a foreign Host header (DNS rebinding) with 403', async () => {
    const { port, token } = await serve();
    expect((await request(port, `/?token=${token}`, { headers: { Host: `evil.example:${port}` } })).status).toBe(403);
    expect((await request(port, `/?token=${token}`, { headers: { Host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
    expect((await request(port, `/?token=${token}`, { headers: { Host: `localhost:${port}` } })).status).toBe(200);
  });

  it('refuses a cross-origin request with 403 and accepts its own origin', async () => {
    const { port, token } = await serve();
    expect((await request(port, `/events?token=${token}`, { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
    expect((await request(port, `/?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port + 1}` } })).status).toBe(403);
    expect((await request(port, `/app.css?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
  });

  it('answers only GET, and 404 for unknown paths', async () => {
    const { port, token } = await serve();
    expect((await request(port, `/?token=${token}`, { method: 'POST' })).status).toBe(405);
    expect((await request(port, `/nope?token=${token}`)).status).toBe(404);
  });

  it('sends the current model first on the live channel, and records only while a page is connected', async () => {
    const { supervisor, port, token } = await serve();
    const server = createServer({ port: 0, supervisor, id: 'server-1' });
    cleanup.add(server, (s) => s.close({ graceMs: 200 }));
    await server.listen();
    const register = vi.spyOn(supervisor.actor.system, 'inspect');

    const { name, data, res } = await firstEvent(port, `/events?token=${token}`);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(name).toBe('snapshot');
    expect(data).toMatchObject({
      type: 'snapshot',
      actors: expect.arrayContaining([expect.objectContaining({ id: 'server-1', machine: 'listener', state: 'LISTENING' })]),
      machines: { listener: expect.objectContaining({ svg: expect.stringContaining('<svg') }) },
    });
    expect(register).toHaveBeenCalledTimes(1);
    const unregistered = vi.spyOn(register.mock.results[0]!.value as { unsubscribe(): void }, 'unsubscribe');
    res.destroy();
    await vi.waitFor(() => expect(unregistered).toHaveBeenCalled(), { timeout: 2_000 });
  });

  it('ends open live channels when closed', async () => {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const inspector: Inspector = await startInspector(supervisor);
    const token = new URL(inspector.url).searchParams.get('token')!;
    const { res } = await firstEvent(inspector.port, `/events?token=${token}`);
    const ended = new Promise<void>((resolve) => res.once('close', () => resolve()));
    await inspector.close();
    await ended;
    await expect(request(inspector.port, `/?token=${token}`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serves on loopback only', async () => {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    await expect(startInspector(supervisor, { host: '0.0.0.0' as '127.0.0.1' })).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('is attached by the library call and by the CLI helper, which prints its URL', async () => {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const attached = cleanup.add(await attachInspector(supervisor), (i) => i.close());
    expect(attached.url).toMatch(/^http:\/\/127\.0\.0\.1:/);

    const printed: unknown[] = [];
    const off = await withInspector(supervisor, false, (e) => printed.push(e));
    expect(off.url).toBeNull();
    await off.close();
    expect(printed).toEqual([]);

    const on = cleanup.add(await withInspector(supervisor, true, (e) => printed.push(e)), (i) => i.close());
    expect(printed).toEqual([{ event: 'info', message: `inspector: ${on.url}` }]);
    const page = new URL(on.url!);
    expect((await request(Number(page.port), page.pathname + page.search)).status).toBe(200);
  });
});
