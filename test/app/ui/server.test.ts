import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allowedHosts } from '../../../src/app/ui/http.js';
import { exposureNotice, startUi, type Ui, type UiOptions } from '../../../src/app/ui/server.js';
import type { UiMessage } from '../../../src/app/ui/session.js';
import { createPeer } from '../../../src/app/peer.js';
import { Cleanup, eventOnce, firstValue, listenRaw } from '../../helpers.js';
import { tempFolder } from '../../temp.js';
import { command, LiveChannel, request } from './ui-client.js';

type Snapshot = Extract<UiMessage, { type: 'snapshot' }>;

describe('web UI server', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const tempDir = () => tempFolder(cleanup, 'synack-ui-');

  async function serve(options: UiOptions = {}): Promise<{ ui: Ui; port: number; token: string }> {
    const ui = cleanup.add(await startUi({ configDir: tempDir(), ...options }), (u) => u.close());
    return { ui, port: ui.port, token: new URL(ui.url).searchParams.get('token')! };
  }

  async function live(port: number, token: string): Promise<LiveChannel> {
    return cleanup.add(await LiveChannel.open(port, token), (c) => c.close());
  }

  it('serves the page, its script and stylesheet on 127.0.0.1 with a random token, and no third-party URL', async () => {
    const { ui, port, token } = await serve();
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    expect(ui.exposure).toBeNull();
    const page = await request(port, `/?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain(`/ui.js?token=${token}`);
    const script = await request(port, `/ui.js?token=${token}`);
    const style = await request(port, `/ui.css?token=${token}`);
    expect([script.status, style.status]).toEqual([200, 200]);
    for (const body of [page.body, script.body, style.body]) expect(body).not.toMatch(/https?:\/\//);
    const other = cleanup.add(await startUi({ configDir: tempDir() }), (u) => u.close());
    expect(new URL(other.url).searchParams.get('token')).not.toBe(token);
  });

  it('refuses every request without the token, or with a wrong one, with 403', async () => {
    const { port, token } = await serve();
    const paths = ['/', '/ui.js', '/api/events', '/api/log?panel=server', '/inspector', '/app.js', '/events', `/?token=${token.slice(1)}`, `/?token=${token}x`, '/?token='];
    for (const p of paths) {
      const reply = await request(port, p);
      expect(reply.status, p).toBe(403);
      expect(reply.body).not.toContain(token);
    }
    const post = await request(port, '/api/command', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type":"server.stop"}' });
    expect(post.status).toBe(403);
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin with 403, and runs no command for them', async () => {
    const { ui, port, token } = await serve();
    expect((await request(port, `/?token=${token}`, { headers: { Host: `evil.example:${port}` } })).status).toBe(403);
    expect((await request(port, `/?token=${token}`, { headers: { Host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
    expect((await request(port, `/?token=${token}`, { headers: { Host: `localhost:${port}` } })).status).toBe(200);
    expect((await request(port, `/api/events?token=${token}`, { headers: { Origin: 'http://evil.example' } })).status).toBe(403);

    const start = { type: 'server.start', host: '127.0.0.1', port: 0, framing: 'raw', relay: false };
    const forged = await command(port, token, start, { Origin: 'http://evil.example' });
    expect(forged.status).toBe(403);
    expect((await command(port, token, start, { Origin: `http://127.0.0.1:${port + 1}` })).status).toBe(403);
    expect(ui.session.serverView().state).toBe('STOPPED');
    expect((await command(port, token, start, { Origin: `http://127.0.0.1:${port}` })).status).toBe(200);
  });

  it('checks every command and answers a bad one with 400 and the reason', async () => {
    const { port, token } = await serve();
    const cases: [unknown, RegExp][] = [
      [{ type: 'server.launch' }, /unknown command "server.launch"/],
      [{ type: 'server.start', host: '127.0.0.1', port: 70000 }, /port: expected a port from 0 \(any free port\) to 65535, got 70000/],
      [{ type: 'server.start', host: '127.0.0.1', port: 'nine' }, /port: .* got "nine"/],
      [{ type: 'server.start', host: '203.0.113.9', port: 0 }, /203\.0\.113\.9 is not an address of this machine/],
      [{ type: 'server.start', host: '127.0.0.1', port: 0, framing: 'raw', relay: true }, /relay: needs qt framing/],
      [{ type: 'server.start', host: '127.0.0.1', port: 0, framing: 'json' }, /framing: expected raw or qt, got "json"/],
      [{ type: 'server.start', host: '127.0.0.1', port: 0, admin: true }, /unknown field: admin/],
      [{ type: 'server.send', to: 'all', data: 'hi' }, /start the server first/],
      [{ type: 'server.send', to: ['c1', '../x'], data: 'hi' }, /to: expected "all" or a list of client ids/],
      [{ type: 'client.add', host: 'not a host!', port: 9000 }, /host: expected an IP address or a host name, got "not a host!"/],
      [{ type: 'client.add', host: '127.0.0.1', port: 0 }, /port: expected a port from 1 to 65535, got 0/],
      [{ type: 'client.add', host: '127.0.0.1', port: 9000, framing: 'raw', heartbeatMs: 1000 }, /heartbeatMs: heartbeats need qt framing/],
      [{ type: 'client.send', id: 'client-9', data: 'hi' }, /no client card client-9/],
      [{ type: 'client.connect', id: 'client-9' }, /no client card client-9/],
      [{ type: 'log.clear', panel: 'nowhere' }, /no panel nowhere/],
      [['server.stop'], /expected a JSON object/],
    ];
    for (const [body, message] of cases) {
      const reply = await command(port, token, body);
      expect(reply, JSON.stringify(body)).toMatchObject({ status: 400, ok: false, error: { code: 'E_USAGE' } });
      expect(reply.error!.message, JSON.stringify(body)).toMatch(message);
    }

    await command(port, token, { type: 'server.start', host: '127.0.0.1', port: 0 });
    const badHex = await command(port, token, { type: 'server.send', to: 'all', data: 'zz', mode: 'hex' });
    expect(badHex).toMatchObject({ status: 400, error: { code: 'E_BAD_HEX', message: expect.stringContaining("'z' is not a hex digit") } });
    const nobody = await command(port, token, { type: 'server.send', to: 'all', data: 'hi' });
    expect(nobody).toMatchObject({ status: 409, error: { code: 'E_NOT_CONNECTED', message: 'no clients to send to' } });
  });

  it('takes commands only as a JSON POST of a bounded size', async () => {
    const { port, token } = await serve();
    const url = `/api/command?token=${token}`;
    expect((await request(port, url)).status).toBe(405);
    expect((await request(port, url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{"type":"server.stop"}' })).status).toBe(415);
    const notJson = await request(port, url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type":' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error.message).toMatch(/the body is not JSON/);
    const huge = await request(port, url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(1024 * 1024 + 1, 0x20) });
    expect(huge.status).toBe(413);
    expect((await request(port, `/?token=${token}`, { method: 'DELETE' })).status).toBe(405);
    expect((await request(port, `/nope?token=${token}`)).status).toBe(404);
  });

  it('streams the whole model first, then what changes, read from the machines', async () => {
    const { port, token } = await serve();
    const channel = await live(port, token);
    const first = (await channel.next((m) => m.type === 'snapshot', 'snapshot')) as Snapshot;
    expect(first.server).toMatchObject({ state: 'STOPPED', can: { start: true, stop: false, send: false } });
    expect(first.interfaces[0]).toMatchObject({ value: '127.0.0.1', family: 'IPv4' });
    expect(first.interfaces.map((i) => i.value)).toEqual(expect.arrayContaining(['::1', '0.0.0.0', '::']));
    expect(first.features).toEqual({ files: true, p2p: true });
    expect(first.p2p).toMatchObject({ registry: { state: 'STOPPED', can: { start: true } }, peer: { chat: 'STOPPED', can: { join: true, send: false } } });

    const started = await command(port, token, { type: 'server.start', host: '127.0.0.1', port: 0, framing: 'raw', relay: false });
    expect(started).toMatchObject({ status: 200, ok: true, result: { host: '127.0.0.1', port: expect.any(Number) } });
    const listening = await channel.next((m) => m.type === 'update' && m.server?.state === 'LISTENING', 'LISTENING server');
    expect(listening).toMatchObject({ server: { can: { start: false, stop: true, send: false } } });

    const peer = cleanup.socket(net.connect({ host: '127.0.0.1', port: started.result!.port as number }));
    peer.on('error', () => {});
    await eventOnce(peer, 'connect');
    peer.write('ping\n');
    const received = await channel.seen((m) => m.type === 'update' && (m.logs?.server ?? []).some((e) => e.kind === 'in'), 'received data in the log');
    const entry = (received as Extract<UiMessage, { type: 'update' }>).logs!.server!.find((e) => e.kind === 'in')!;
    expect(entry).toMatchObject({ text: 'ping', bytes: 5, who: expect.stringMatching(/^c1 127\.0\.0\.1:\d+$/) });
    expect(entry.hex).toContain('70 69 6e 67 0a');
    await channel.seen((m) => m.type === 'update' && m.server?.clients[0]?.bytesIn === 5, 'the client row counting 5 bytes in');
  });

  it('speaks Qt frames: text arrives whole (emoji too), a relay forwards it to the other card, heartbeats are answered but not logged', async () => {
    const { port, token } = await serve();
    const channel = await live(port, token);
    const cards = (m: UiMessage) => (m.type === 'snapshot' ? m.clients : (m.clients ?? []));
    const logOf = (m: UiMessage, panel: string) => (m.type === 'snapshot' ? m.logs[panel] : m.logs?.[panel]) ?? [];
    const started = await command(port, token, { type: 'server.start', host: '127.0.0.1', port: 0, framing: 'qt', relay: true });
    const target = { type: 'client.add', host: '127.0.0.1', port: started.result!.port, framing: 'qt', connect: true };
    const alice = (await command(port, token, { ...target, heartbeatMs: 100 })).result!.id as string;
    const bob = (await command(port, token, { ...target, heartbeatMs: 0 })).result!.id as string;
    for (const id of [alice, bob]) await channel.seen((m) => cards(m).some((c) => c.id === id && c.state === 'ESTABLISHED'), `${id} ESTABLISHED`);

    expect(await command(port, token, { type: 'client.send', id: alice, data: 'héllo 😀' })).toMatchObject({ status: 200, ok: true });
    await channel.seen((m) => logOf(m, alice).some((e) => e.kind === 'out' && e.text === 'héllo 😀'), "alice's log showing what she sent");
    await channel.seen((m) => logOf(m, 'server').some((e) => e.kind === 'in' && e.text === 'héllo 😀'), 'the server log showing it received');
    await channel.seen((m) => logOf(m, bob).some((e) => e.kind === 'in' && e.text === 'héllo 😀'), 'bob receiving it through the relay');

    await channel.seen((m) => cards(m).some((c) => c.id === alice && c.messagesIn >= 2), 'two heartbeat replies counted by alice');
    const everything = channel.messages.flatMap((m) => [...logOf(m, alice), ...logOf(m, 'server')]);
    expect(everything.filter((e) => /heartbeat/i.test(e.text))).toEqual([]);
  });

  it('hosts a registry and joins it as a peer, lists the others, and chats with them directly', async () => {
    const { port, token } = await serve();
    const channel = await live(port, token);
    const p2p = (m: UiMessage) => (m.type === 'snapshot' ? m.p2p : m.p2p);
    const logOf = (m: UiMessage) => (m.type === 'snapshot' ? m.logs.p2p : m.logs?.p2p) ?? [];
    const registry = await command(port, token, { type: 'registry.start', host: '127.0.0.1', port: 0 });
    expect(registry).toMatchObject({ status: 200, result: { port: expect.any(Number) } });
    const at = `127.0.0.1:${registry.result!.port}`;

    expect(await command(port, token, { type: 'peer.join', name: 'al@ice', registry: at, host: '127.0.0.1' })).toMatchObject({ status: 400, error: { message: expect.stringContaining('invalid peer name "al@ice"') } });
    expect(await command(port, token, { type: 'peer.join', name: 'alice', registry: 'nowhere', host: '127.0.0.1' })).toMatchObject({ status: 400, error: { message: 'registry: expected host:port (IPv6 as [::1]:9100), got "nowhere"' } });
    expect(await command(port, token, { type: 'peer.send', to: 'bob', text: 'hi' })).toMatchObject({ status: 400, error: { message: 'join a registry first' } });
    expect(await command(port, token, { type: 'peer.join', name: 'alice', registry: at, host: '127.0.0.1', port: 0 })).toMatchObject({ status: 200 });
    await channel.seen((m) => p2p(m)?.peer.registry === 'REGISTERED', 'alice REGISTERED');
    expect(await command(port, token, { type: 'peer.join', name: 'alice2', registry: at, host: '127.0.0.1' })).toMatchObject({ status: 400, error: { message: 'already joined as alice: leave first' } });

    const bob = cleanup.add(createPeer({ name: 'bob', registry: at, host: '127.0.0.1' }), (p) => p.close({ graceMs: 200 }));
    await bob.start();
    await channel.seen((m) => p2p(m)?.peer.peers.some((p) => p.name === 'bob') ?? false, 'bob in alice\'s list');
    await channel.seen((m) => (p2p(m)?.registry.peers.map((p) => p.name).join() ?? '') === 'alice,bob', 'both registered');

    const heard = firstValue(bob.events$, (e) => e.event === 'chat', 3_000, 'chat to bob');
    expect(await command(port, token, { type: 'peer.send', to: 'bob', text: 'hi bob' })).toMatchObject({ status: 200, result: { sent: ['bob'] } });
    expect(await heard).toMatchObject({ from: 'alice', text: 'hi bob' });
    await bob.send('alice', 'hi alice');
    await channel.seen((m) => logOf(m).some((e) => e.kind === 'in' && e.who === 'bob' && e.text === 'hi alice'), 'bob\'s answer in the chat log');
    expect(await command(port, token, { type: 'peer.send', to: 'carol', text: 'hi' })).toMatchObject({ status: 409, error: { code: 'E_NOT_FOUND' } });

    expect(await command(port, token, { type: 'peer.leave' })).toMatchObject({ status: 200 });
    await channel.seen((m) => (p2p(m)?.registry.peers.map((p) => p.name).join() ?? '') === 'bob', 'alice gone from the registry');
  });

  it('receives files into a folder and sends a file the page hands over, with matching SHA-256 on both ends', async () => {
    const { port, token } = await serve({ maxUploadBytes: 1024 * 1024 });
    const channel = await live(port, token);
    const files = (m: UiMessage) => (m.type === 'snapshot' ? m.files : m.files);
    const into = tempDir();
    const receiving = await command(port, token, { type: 'files.receive', host: '127.0.0.1', port: 0, dir: into });
    expect(receiving).toMatchObject({ status: 200, result: { dir: into, port: expect.any(Number) } });
    await channel.seen((m) => files(m)?.receiver.state === 'LISTENING', 'the receiver LISTENING');

    const upload = (name: string, body: Buffer, type = 'application/octet-stream') =>
      request(port, `/api/upload?token=${token}&name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'Content-Type': type }, body });
    expect((await upload('a.bin', Buffer.from('x'), 'application/json')).status).toBe(415);
    expect((await upload('a.bin', Buffer.alloc(1024 * 1024 + 1))).status).toBe(413);
    const unsafe = await upload('..', Buffer.from('x'));
    expect(unsafe.status).toBe(400);
    expect(JSON.parse(unsafe.body).error.code).toBe('E_UNSAFE_NAME');
    expect(await command(port, token, { type: 'files.send', upload: 'u99', host: '127.0.0.1', port: 9 })).toMatchObject({ status: 400, error: { message: 'no upload u99 (choose the file again)' } });

    const content = Buffer.alloc(300_000, 'synack ');
    const sha256 = createHash('sha256').update(content).digest('hex');
    const uploaded = await upload('notes 1.txt', content);
    expect(JSON.parse(uploaded.body)).toEqual({ ok: true, result: { upload: expect.stringMatching(/^u\d+$/), name: 'notes 1.txt', bytes: 300_000 } });
    const sent = await command(port, token, { type: 'files.send', upload: JSON.parse(uploaded.body).result.upload, host: '127.0.0.1', port: receiving.result!.port });
    expect(sent).toMatchObject({ status: 200, result: { id: expect.any(String) } });

    const done = (direction: string) => (m: UiMessage) => files(m)?.transfers.some((t) => t.direction === direction && t.state === 'DONE' && t.sha256 === sha256) ?? false;
    await channel.seen(done('send'), 'the sending transfer DONE');
    const received = await channel.seen(done('receive'), 'the receiving transfer DONE');
    expect(files(received)!.transfers.find((t) => t.direction === 'receive')).toMatchObject({ name: 'notes 1.txt', bytes: 300_000, total: 300_000, path: path.join(into, 'notes 1.txt') });
    const last = (await channel.seen((m) => files(m)?.transfers.find((t) => t.direction === 'send')?.verified ?? false, 'the receipt')) as UiMessage;
    expect(files(last)!.transfers.find((t) => t.direction === 'send')).toMatchObject({ bytes: 300_000, can: { cancel: false } });
    expect(readFileSync(path.join(into, 'notes 1.txt')).equals(content)).toBe(true);
  });

  it('reports a port already in use as a conflict, with the listener FAILED', async () => {
    const { ui, port, token } = await serve();
    const { server, port: taken } = await listenRaw();
    cleanup.server(server);
    const reply = await command(port, token, { type: 'server.start', host: '127.0.0.1', port: taken });
    expect(reply).toMatchObject({ status: 409, ok: false, error: { code: 'E_ADDR_IN_USE' } });
    expect(ui.session.serverView()).toMatchObject({ state: 'FAILED', lastError: { code: 'E_ADDR_IN_USE' }, can: { start: true, stop: false } });
  });

  it('keeps settings and recent targets in ui.json between runs', async () => {
    const dir = tempDir();
    const first = await startUi({ configDir: dir });
    const token = new URL(first.url).searchParams.get('token')!;
    await command(first.port, token, { type: 'server.start', host: '127.0.0.1', port: 0, framing: 'qt', relay: true });
    await command(first.port, token, { type: 'client.add', host: '127.0.0.1', port: 9123, framing: 'qt', heartbeatMs: 2000, reconnect: 4 });
    await command(first.port, token, { type: 'view.set', hex: true, eol: 'crlf' });
    await first.close();

    const saved = JSON.parse(readFileSync(path.join(dir, 'ui.json'), 'utf8'));
    expect(saved).toMatchObject({
      server: { host: '127.0.0.1', port: 0, framing: 'qt', relay: true },
      client: { host: '127.0.0.1', port: 9123, framing: 'qt', heartbeatMs: 2000, reconnect: 4 },
      view: { hex: true },
      send: { eol: 'crlf' },
      recent: [{ host: '127.0.0.1', port: 9123, framing: 'qt' }],
    });

    const second = cleanup.add(await startUi({ configDir: dir }), (u) => u.close());
    expect(second.session.snapshot().settings).toEqual(saved);
  });

  it('offers a panel log as a download, as text or hex', async () => {
    const { port, token } = await serve();
    const started = await command(port, token, { type: 'server.start', host: '127.0.0.1', port: 0 });
    const text = await request(port, `/api/log?panel=server&token=${token}`);
    expect(text.status).toBe(200);
    expect(text.headers['content-disposition']).toMatch(/^attachment; filename="synack-server-\d{8}-\d{6}\.log"$/);
    expect(text.body).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z -- listening on 127\\.0\\.0\\.1:${started.result!.port}\\n$`));
    expect((await request(port, `/api/log?panel=client-7&token=${token}`)).status).toBe(404);
  });

  it('serves the live inspector of the same supervisor, framable by the UI only', async () => {
    const { port, token } = await serve();
    await command(port, token, { type: 'server.start', host: '127.0.0.1', port: 0 });
    const page = await request(port, `/inspector?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    const events = await new Promise<string>((resolve, reject) => {
      let text = '';
      const req = http.get({ host: '127.0.0.1', port, path: `/events?token=${token}`, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (/event: snapshot\ndata: .*\n\n/.test(text)) {
            clearTimeout(timer);
            resolve(text);
          }
        });
      });
      cleanup.add(req, (r) => r.destroy());
      const timer = setTimeout(() => reject(new Error('no inspector snapshot within 3000 ms')), 3_000);
      req.on('error', reject);
    });
    expect(events).toMatch(/"id":"server-1","parent":"a\d+","machine":"listener","state":"LISTENING"/);
  });

  it('closes every server and client the page started when it closes', async () => {
    const { port, token } = await serve();
    const started = await command(port, token, { type: 'server.start', host: '127.0.0.1', port: 0 });
    const serverPort = started.result!.port as number;
    await command(port, token, { type: 'client.add', host: '127.0.0.1', port: serverPort, connect: true });
    const channel = await live(port, token);
    await channel.next((m) => (m.type === 'snapshot' ? m.clients : (m.clients ?? [])).some((c) => c.state === 'ESTABLISHED'), 'an ESTABLISHED client card');
    await cleanup.run();
    const refused = net.connect({ host: '127.0.0.1', port: serverPort });
    const [error] = (await eventOnce(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await expect(request(port, `/?token=${token}`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('says plainly what serving beyond loopback exposes, and answers only to its own addresses', () => {
    expect(exposureNotice('127.0.0.1', 8080)).toBeNull();
    expect(exposureNotice('::1', 8080)).toBeNull();
    const notice = exposureNotice('0.0.0.0', 8080)!;
    expect(notice).toMatch(/every IPv4 interface/);
    expect(notice).toMatch(/listen on its ports, connect from it to any host/);
    expect(notice).toMatch(/token crosses the network unencrypted/);
    expect(notice).toContain('ssh -L 8080:127.0.0.1:8080');
    expect(exposureNotice('192.0.2.2', 8080)).toMatch(/serves on 192\.0\.2\.2:8080 \(an address other machines can reach\)/);

    const interfaces = () => [
      { name: 'lo', family: 'IPv4' as const, address: '127.0.0.1', cidr: null, internal: true },
      { name: 'eth0', family: 'IPv4' as const, address: '192.0.2.2', cidr: null, internal: false },
      { name: 'eth0', family: 'IPv6' as const, address: 'fd00::2', cidr: null, internal: false },
    ];
    expect(allowedHosts('127.0.0.1', 8080, interfaces)).toEqual(new Set(['127.0.0.1:8080', 'localhost:8080']));
    expect(allowedHosts('0.0.0.0', 8080, interfaces)).toEqual(new Set(['0.0.0.0:8080', 'localhost:8080', `${os.hostname().toLowerCase()}:8080`, '127.0.0.1:8080', '192.0.2.2:8080']));
    expect(allowedHosts('::', 8080, interfaces)).toContain('[fd00::2]:8080');
  });
});
