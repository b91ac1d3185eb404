/**
 * The seed's case: a pulled cable. TCP still says connected while nothing arrives, so only the
 * heartbeat can tell. Detection must come within interval × (maxMissed + 1) of the pull.
 * The exact timing logic is proven with fake timers in test/machines/heartbeat.test.ts; here it
 * is measured on real sockets, with real timers, against a bound.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/app/client.js';
import type { SynackEvent } from '../../src/app/events.js';
import { QtFrameDecoder } from '../../src/transport/qt-frame.js';
import { Cleanup, firstValue, listenRaw } from '../helpers.js';
import { killClis, runCli } from './cli/run-cli.js';

const run = promisify(execFile);
const seedPong = readFileSync(new URL('../vectors/server_heartbeat_reply.bin', import.meta.url));

const INTERVAL_MS = 200;
const MAX_MISSED = 3;
const DEADLINE_MS = INTERVAL_MS * (MAX_MISSED + 1); // 800
const MARGIN_MS = 400;

describe('a pulled cable', () => {
  const cleanup = new Cleanup();
  afterEach(async () => {
    await killClis();
    await cleanup.run();
  });

  it('is found dead within interval × (maxMissed + 1) when the peer stops reading and answering without closing', async () => {
    // The peer answers the first two pings, then the cable is "pulled": it stops reading and
    // writing, but its socket stays open, so TCP on both ends still says ESTABLISHED.
    let pulledAt = 0;
    let peerSocket: net.Socket | undefined;
    const peer = await listenRaw((socket) => {
      peerSocket = socket;
      const decoder = new QtFrameDecoder();
      let answered = 0;
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          if (frame.type !== 100 || pulledAt) continue;
          socket.write(seedPong);
          if (++answered === 2) {
            socket.pause();
            pulledAt = Date.now();
          }
        }
      });
    });
    cleanup.server(peer.server, peer.sockets);
    const client = createClient({
      host: '127.0.0.1',
      port: peer.port,
      framing: 'qt',
      heartbeat: { intervalMs: INTERVAL_MS, maxMissed: MAX_MISSED },
    });
    cleanup.add(client, (c) => c.close());
    const events: SynackEvent[] = [];
    client.events$.subscribe((e) => events.push(e));
    const dead = firstValue(client.events$, (e) => e.event === 'disconnected', 5_000, 'disconnected');
    await client.connect();
    const disconnected = (await dead) as Extract<SynackEvent, { event: 'disconnected' }>;
    const detectedMs = Date.now() - pulledAt;
    // At the moment of detection the peer's TCP has not heard of any of this: still open.
    const peerOpen = peerSocket!.readyState === 'open' && !peerSocket!.destroyed;
    console.log(`pulled cable (a), peer stops reading: detected ${detectedMs} ms after the pull (bound ${DEADLINE_MS} + ${MARGIN_MS} ms)`);

    expect(pulledAt).toBeGreaterThan(0);
    expect(disconnected).toMatchObject({ reason: 'dead', code: 'E_DEAD_PEER' });
    expect(detectedMs).toBeLessThanOrEqual(DEADLINE_MS + MARGIN_MS);
    // Not earlier than maxMissed intervals: the pings sent after the pull had their chance.
    expect(detectedMs).toBeGreaterThanOrEqual(MAX_MISSED * INTERVAL_MS - 20);
    expect(peerOpen).toBe(true);
    // Nothing but the heartbeat noticed: no socket error, no reset, no FIN from the peer.
    expect(events.filter((e) => e.event === 'error').map((e) => (e as { code: string }).code)).toEqual(['E_DEAD_PEER']);
    const beats = events.filter((e): e is Extract<SynackEvent, { event: 'heartbeat' }> => e.event === 'heartbeat');
    expect(beats.filter((b) => b.direction === 'received')).toHaveLength(2);
    expect(beats.filter((b) => b.direction === 'sent').map((b) => b.missed).slice(-MAX_MISSED)).toEqual([0, 1, 2]);
    expect(client.state).toBe('CLOSED');
  });

  describe('between two network namespaces joined by a veth pair whose link is taken down', () => {
    const tag = `synack-${process.pid}-${Date.now().toString(36).slice(-4)}`;
    const ns1 = `${tag}-a`;
    const ns2 = `${tag}-b`;
    const serverAddress = '10.254.0.1';
    /** Namespaces this test made, deleted in afterEach whatever happened. */
    const made: string[] = [];

    /** Whether this machine lets us make namespaces (root with iproute2); says why not otherwise. */
    async function namespacesAvailable(): Promise<boolean> {
      if (process.platform !== 'linux' || process.getuid?.() !== 0) {
        console.warn('pulled cable (b) not run: it needs Linux and root to create network namespaces');
        return false;
      }
      try {
        await run('ip', ['netns', 'add', ns1]);
      } catch (error) {
        console.warn(`pulled cable (b) not run: 'ip netns add' failed: ${(error as Error).message.split('\n')[0]}`);
        return false;
      }
      made.push(ns1);
      return true;
    }

    /** ns1 (10.254.0.1/30, veth-a) ↔ ns2 (10.254.0.2/30, veth-b); nothing outside them is touched. */
    async function buildLink(): Promise<void> {
      await run('ip', ['netns', 'add', ns2]);
      made.push(ns2);
      await run('ip', ['-n', ns1, 'link', 'add', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', ns2]);
      await run('ip', ['-n', ns1, 'addr', 'add', `${serverAddress}/30`, 'dev', 'veth-a']);
      await run('ip', ['-n', ns2, 'addr', 'add', '10.254.0.2/30', 'dev', 'veth-b']);
      for (const [ns, dev] of [[ns1, 'veth-a'], [ns2, 'veth-b'], [ns1, 'lo'], [ns2, 'lo']] as const) {
        await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      }
    }

    /** The TCP connections `ss` lists as established inside a namespace, as `local peer` lines. */
    async function established(ns: string): Promise<string[]> {
      const { stdout } = await run('ip', ['netns', 'exec', ns, 'ss', '-Htn', 'state', 'established']);
      return stdout
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => line.trim().split(/\s+/).slice(-2).join(' '));
    }

    afterEach(async () => {
      // Whatever happened, no namespace of this run may be left behind (deleting ns1 also
      // destroys the veth pair). The processes inside go first.
      await killClis();
      const failures: unknown[] = [];
      for (const ns of made.splice(0).reverse()) await run('ip', ['netns', 'del', ns]).catch((error: unknown) => failures.push(error));
      const { stdout } = await run('ip', ['netns', 'list']);
      expect(stdout).not.toContain(tag);
      expect(failures).toEqual([]);
    });

    it('is found dead by the client within interval × (maxMissed + 1), while TCP on both ends still says ESTABLISHED', async () => {
      if (!(await namespacesAvailable())) return;
      await buildLink();
      const server = runCli(['server', '--framing', 'qt', '--host', serverAddress, '--port', '0', '--json'], {
        via: ['ip', 'netns', 'exec', ns1],
      });
      const { port } = await server.waitForEvent('listening', 10_000);
      const client = runCli(
        ['client', '--framing', 'qt', '--host', serverAddress, '--port', String(port), '--heartbeat', String(INTERVAL_MS), '--max-missed', String(MAX_MISSED), '--json'],
        { via: ['ip', 'netns', 'exec', ns2] },
      );
      await client.waitForEvent('connected', 10_000);
      await client.waitForEvent((e) => e.event === 'heartbeat' && e.direction === 'received', 3_000);
      const connection = `10.254.0.2:\\d+ ${serverAddress.replaceAll('.', '\\.')}:${port}`;

      const pulledAt = Date.now();
      await run('ip', ['-n', ns2, 'link', 'set', 'veth-b', 'down']);
      const linkDownAt = Date.now();
      // The client's kernel still has the connection ESTABLISHED: nothing tells TCP the cable is gone.
      const beforeDetection = await established(ns2);
      const disconnected = await client.waitForEvent('disconnected', DEADLINE_MS + MARGIN_MS + 2_000);
      const detectedMs = disconnected.ts - pulledAt;
      console.log(
        `pulled cable (b), veth link down between namespaces: detected ${detectedMs} ms after 'ip link set down' began ` +
          `(${disconnected.ts - linkDownAt} ms after it returned; bound ${DEADLINE_MS} + ${MARGIN_MS} ms)`,
      );
      // The server's kernel never hears of it either (our FIN cannot cross a downed link).
      const serverSide = await established(ns1);

      expect(disconnected).toMatchObject({ reason: 'dead', code: 'E_DEAD_PEER' });
      expect(detectedMs).toBeLessThanOrEqual(DEADLINE_MS + MARGIN_MS);
      expect(beforeDetection.some((line) => new RegExp(`^${connection}$`).test(line))).toBe(true);
      expect(serverSide).toEqual([expect.stringMatching(new RegExp(`^${serverAddress.replaceAll('.', '\\.')}:${port} 10\\.254\\.0\\.2:\\d+$`))]);
      expect(server.seen('disconnected')).toEqual([]);
      expect((await client.exited(5_000)).code).toBe(1);
    });
  });
});
