import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, connectRaw, listenRaw, readBytes } from '../../helpers.js';
import { killClis, runCli, stderrLines, type Cli } from './run-cli.js';

const seedPing = readFileSync(new URL('../../vectors/client_heartbeat.bin', import.meta.url));
const seedPong = readFileSync(new URL('../../vectors/server_heartbeat_reply.bin', import.meta.url));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('synack CLI with --framing qt', () => {
  const cleanup = new Cleanup();
  afterEach(async () => {
    await killClis();
    await cleanup.run();
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'synack-qt-'));
    cleanup.add(dir, (d) => rm(d, { recursive: true, force: true }));
    return dir;
  }

  /** `synack server --framing qt --relay --json` on a free port; resolves with it and its port. */
  async function relayServer(): Promise<{ server: Cli; port: number }> {
    const server = runCli(['server', '--port', '0', '--framing', 'qt', '--relay', '--json']);
    const { port } = await server.waitForEvent('listening', 10_000);
    return { server, port: port as number };
  }

  /** Two `synack client --framing qt --json …` (started together), both connected and seen by the server. */
  async function qtClients(server: Cli, port: number, bobArgs: string[] = []): Promise<[Cli, Cli]> {
    const start = (args: string[]) => runCli(['client', '--port', String(port), '--framing', 'qt', '--json', ...args]);
    const pair: [Cli, Cli] = [start([]), start(bobArgs)];
    await Promise.all(pair.map((client) => client.waitForEvent('connected', 10_000)));
    await server.waitForEvent((e) => e.event === 'connected' && e.clients === 2, 10_000);
    return pair;
  }

  it('relays a stdin line from one client to the other as a message event, and not back to the sender', async () => {
    const { server, port } = await relayServer();
    const [alice, bob] = await qtClients(server, port);
    alice.writeLine('hello 你好 🙂');
    expect(await bob.waitForEvent('message')).toEqual({
      event: 'message',
      ts: expect.any(Number),
      id: 'client-1',
      peer: `127.0.0.1:${port}`,
      type: 1,
      description: 'this is text',
      text: 'hello 你好 🙂',
    });
    expect(await server.waitForEvent('message')).toMatchObject({ id: expect.stringMatching(/^c[12]$/), type: 1, text: 'hello 你好 🙂' });
    bob.writeLine('hi alice');
    expect(await alice.waitForEvent('message')).toMatchObject({ type: 1, text: 'hi alice' });
    // Alice's own line never came back: the one message she got is Bob's.
    expect(alice.seen('message').map((e) => e.text)).toEqual(['hi alice']);
  });

  it('sends /image and /video files, which arrive with size and sha256 and are stored byte-identical with --save-media', async () => {
    const { server, port } = await relayServer();
    const media = await tempDir();
    const [alice, bob] = await qtClients(server, port, ['--save-media', media]);
    const files = await tempDir();
    const image = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(200 * 1024)]);
    const video = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xdb]), randomBytes(30 * 1024)]);
    await writeFile(path.join(files, 'shot.jpg'), image);
    await writeFile(path.join(files, 'frame.jpg'), video);
    alice.writeLine(`/image ${path.join(files, 'shot.jpg')}`);
    alice.writeLine(`/video ${path.join(files, 'frame.jpg')}`);
    const gotImage = await bob.waitForEvent('message', 10_000);
    const gotVideo = await bob.waitForEvent('message', 10_000);
    expect(gotImage).toMatchObject({ type: 2, description: 'this is image', bytes: image.length, sha256: sha256(image) });
    expect(gotVideo).toMatchObject({ type: 3, description: 'this is video image', bytes: video.length, sha256: sha256(video) });
    expect(gotImage).not.toHaveProperty('text');
    expect(path.dirname(gotImage.path as string)).toBe(media);
    expect((await readFile(gotImage.path as string)).equals(image)).toBe(true);
    expect((await readFile(gotVideo.path as string)).equals(video)).toBe(true);
    expect(await server.waitForEvent('message')).toMatchObject({ type: 2, bytes: image.length, sha256: sha256(image) });
  });

  it('drops a client silent past --idle-timeout with E_IDLE and one that sends a frame over --max-frame with E_FRAME_TOO_LARGE, and keeps serving', async () => {
    const server = runCli(['server', '--port', '0', '--framing', 'qt', '--idle-timeout', '400', '--max-frame', '1024', '--json']);
    const port = (await server.waitForEvent('listening', 10_000)).port as number;
    const silent = await connectRaw(port);
    cleanup.socket(silent);
    await server.waitForEvent('connected');
    const oversized = await connectRaw(port);
    cleanup.socket(oversized);
    const { id: oversizedId } = await server.waitForEvent('connected');
    oversized.write(Buffer.from([0x00, 0x00, 0x04, 0x01])); // declares 1025 bytes: refused on sight
    expect(await server.waitForEvent('disconnected')).toMatchObject({ id: oversizedId, reason: 'protocol-error', code: 'E_FRAME_TOO_LARGE' });
    expect(await server.waitForEvent('disconnected', 3_000)).toMatchObject({ reason: 'idle', code: 'E_IDLE', clients: 0 });
    const late = await connectRaw(port);
    cleanup.socket(late);
    const pong = readBytes(late, seedPong.length);
    late.write(seedPing);
    expect(await pong).toEqual(seedPong);
  });

  describe('against a server that accepts and then never answers', () => {
    async function silentServer() {
      const raw = await listenRaw((socket) => socket.pause());
      cleanup.server(raw.server, raw.sockets);
      let accepted = 0;
      raw.server.on('connection', () => accepted++);
      return { port: raw.port, accepted: () => accepted };
    }

    it('sends heartbeats, reconnects with --reconnect 1 once the server is found dead, then exits 1 with a one-line error', async () => {
      const silent = await silentServer();
      const cli = runCli(['client', '--port', String(silent.port), '--framing', 'qt', '--heartbeat', '200', '--max-missed', '2', '--reconnect', '1', '--json']);
      await cli.waitForEvent('connected', 10_000);
      expect(await cli.waitForEvent('heartbeat')).toMatchObject({ direction: 'sent', missed: 0 });
      expect(await cli.waitForEvent('heartbeat')).toMatchObject({ direction: 'sent', missed: 1 });
      expect(await cli.waitForEvent('disconnected', 3_000)).toMatchObject({ reason: 'dead', code: 'E_DEAD_PEER' });
      expect(await cli.waitForEvent('reconnecting')).toMatchObject({ attempt: 1, delayMs: expect.any(Number) });
      await cli.waitForEvent('connected', 5_000);
      expect(await cli.waitForEvent('disconnected', 3_000)).toMatchObject({ reason: 'dead', code: 'E_DEAD_PEER' });
      const exit = await cli.exited(5_000);
      expect(exit.code).toBe(1);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(/^synack: gave up reconnecting to 127\.0\.0\.1:\d+: peer did not answer 2 heartbeats/)]);
      expect(cli.seen('reconnecting')).toHaveLength(1);
      expect(cli.seen('heartbeat').every((e) => e.direction === 'sent')).toBe(true);
      expect(silent.accepted()).toBe(2);
    });

    it('without --reconnect, exits 1 with a one-line error once the server is found dead', async () => {
      const silent = await silentServer();
      const cli = runCli(['client', '--port', String(silent.port), '--framing', 'qt', '--heartbeat', '100', '--max-missed', '3', '--json']);
      await cli.waitForEvent('connected', 10_000);
      expect(await cli.waitForEvent('disconnected', 3_000)).toMatchObject({ reason: 'dead', code: 'E_DEAD_PEER' });
      const exit = await cli.exited(5_000);
      expect(exit.code).toBe(1);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(/^synack: peer did not answer 3 heartbeats \(silent for \d+ ms\)$/)]);
      expect(cli.seen('heartbeat').map((e) => e.missed)).toEqual([0, 1, 2]);
    });
  });

  it('refuses --relay without --framing qt with exit 2 and a one-line reason', async () => {
    const exit = await runCli(['server', '--port', '0', '--relay']).exited(10_000);
    expect(exit.code).toBe(2);
    expect(stderrLines(exit)[0]).toBe('synack: --relay needs --framing qt');
    expect(exit.stdout).toBe('');
  });

  it('refuses the qt-only client options without --framing qt with exit 2', async () => {
    const exit = await runCli(['client', '--port', '9', '--heartbeat', '200']).exited(10_000);
    expect(exit.code).toBe(2);
    expect(stderrLines(exit)[0]).toBe('synack: --heartbeat needs --framing qt');
  });
});
