import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { describe, expect, it, type TestContext } from 'vitest';
import { connectRaw, listenRaw, readAll, readBytes, type Cleanup } from '../../helpers.js';
import { perTestCleanup, stderrLines, type Cli, type JsonEvent } from './run-cli.js';

/** The bound on each wait for bytes: generous, since a loaded machine slows the CLI's start and replies. */
const WAIT = 10_000;

const vector = (name: string) => readFileSync(new URL(`../../vectors/${name}`, import.meta.url));

// Each test's processes, servers and sockets are closed in afterEach (see perTestCleanup).
describe.concurrent('synack server (CLI)', () => {
  const scope = perTestCleanup();

  /** Starts `synack server --port 0 --json …` and waits for its listening event. */
  async function startServer(ctx: TestContext, ...args: string[]): Promise<{ cli: Cli; port: number }> {
    const cli = scope.cli(ctx, ['server', '--port', '0', '--json', ...args]);
    const listening = await cli.waitForEvent('listening', 15_000);
    return { cli, port: listening.port as number };
  }

  /** Connects a raw client and waits for the server to report it; returns its id there. */
  async function join(ctx: TestContext, cli: Cli, port: number): Promise<{ socket: net.Socket; id: string; peer: string }> {
    const socket = scope(ctx).socket(await connectRaw(port));
    const peer = `127.0.0.1:${socket.localPort}`;
    const connected = await cli.waitForEvent((e) => e.event === 'connected' && e.peer === peer);
    return { socket, id: connected.id as string, peer };
  }

  describe('listening and receiving', () => {
    it('prints listening with the port it got for --port 0, as NDJSON with event and ts', async (ctx) => {
      const cleanup = scope(ctx);
      const { cli, port } = await startServer(ctx);
      expect(port).toBeGreaterThan(0);
      const listening = cli.seen('listening')[0]!;
      expect(listening).toEqual({ event: 'listening', ts: expect.any(Number), id: 'server-1', host: '127.0.0.1', port });
      expect(Math.abs(listening.ts - Date.now())).toBeLessThan(60_000);
      for (const line of cli.lines) {
        const parsed = JSON.parse(line) as JsonEvent;
        expect(typeof parsed.event).toBe('string');
        expect(typeof parsed.ts).toBe('number');
      }
      cleanup.socket(await connectRaw(port));
    });

    it('shows what a client sends as data with id, peer, bytes, text and hex', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const client = await join(ctx, cli, port);
      expect(cli.seen('connected')).toEqual([{ event: 'connected', ts: expect.any(Number), id: 'c1', peer: client.peer, clients: 1 }]);
      client.socket.write(Buffer.from('hi \x1b\xff\n', 'latin1'));
      const data = await cli.waitForEvent('data');
      expect(data).toEqual({
        event: 'data',
        ts: expect.any(Number),
        id: 'c1',
        peer: client.peer,
        bytes: 6,
        text: 'hi \\x1b\\xff\n',
        hex: '6869201bff0a',
      });
      client.socket.end();
      expect(await cli.waitForEvent('disconnected')).toMatchObject({ id: 'c1', peer: client.peer, reason: 'peer-closed', clients: 0 });
    });
  });

  describe('sending from stdin', () => {
    it('sends a stdin line to every client', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      const b = await join(ctx, cli, port);
      const reads = [readBytes(a.socket, 10, WAIT), readBytes(b.socket, 10, WAIT)];
      cli.writeLine('hello all');
      for (const got of await Promise.all(reads)) expect(got.toString()).toBe('hello all\n');
      expect(await cli.waitForEvent('sent')).toMatchObject({ id: '*', peer: '2 clients', bytes: 10, text: 'hello all\n' });
    });

    it('sends /to ID text to that client only', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      const b = await join(ctx, cli, port);
      const bGot: Buffer[] = [];
      b.socket.on('data', (chunk: Buffer) => bGot.push(chunk));
      const aGot = readBytes(a.socket, 13, WAIT);
      cli.writeLine(`/to ${a.id} just for you`);
      expect((await aGot).toString()).toBe('just for you\n');
      expect(await cli.waitForEvent('sent')).toMatchObject({ id: a.id, peer: a.peer, text: 'just for you\n' });
      // The next broadcast is the first thing b sees.
      const bNext = readBytes(b.socket, 4, WAIT);
      cli.writeLine('all');
      await bNext;
      expect(Buffer.concat(bGot).toString()).toBe('all\n');
    });

    it('sends a line starting with / when written as //', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      const got = readBytes(a.socket, 6, WAIT);
      cli.writeLine('//path');
      expect((await got).toString()).toBe('/path\n');
    });

    it('lists the clients on /clients', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      const b = await join(ctx, cli, port);
      a.socket.write('abc');
      await cli.waitForEvent('data');
      cli.writeLine('/clients');
      const { clients } = (await cli.waitForEvent('clients')) as unknown as { clients: Record<string, unknown>[] };
      expect(clients).toEqual([
        expect.objectContaining({ id: a.id, peer: a.peer, local: `127.0.0.1:${port}`, state: 'ESTABLISHED', bytesIn: 3, messagesIn: 1 }),
        expect.objectContaining({ id: b.id, peer: b.peer, state: 'ESTABLISHED', bytesIn: 0 }),
      ]);
    });

    it('closes one client on /close ID and keeps the other', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      const b = await join(ctx, cli, port);
      const aEnd = readAll(a.socket, WAIT);
      cli.writeLine(`/close ${a.id}`);
      expect((await aEnd).length).toBe(0);
      expect(await cli.waitForEvent('disconnected')).toMatchObject({ id: a.id, reason: 'closed', clients: 1 });
      const bGot = readBytes(b.socket, 5, WAIT);
      cli.writeLine('more');
      expect((await bGot).toString()).toBe('more\n');
    });

    it('says so on stderr, with an error event, for /to or /close of an unknown client, and an unknown command', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      cli.writeLine('/to c99 hello');
      expect(await cli.waitForEvent('error')).toMatchObject({ code: 'E_USAGE', message: 'no client c99: see /clients' });
      cli.writeLine('/close c42');
      expect(await cli.waitForEvent('error')).toMatchObject({ code: 'E_USAGE', message: 'no client c42: see /clients' });
      cli.writeLine('/frobnicate');
      expect(await cli.waitForEvent('error')).toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/^unknown command \/frobnicate: try \/to/) });
      await cli.waitForStderr('unknown command /frobnicate');
      expect(cli.stderr.trimEnd().split('\n')).toEqual([
        'synack: no client c99: see /clients',
        'synack: no client c42: see /clients',
        expect.stringMatching(/^synack: unknown command \/frobnicate: /),
      ]);
      const a = await join(ctx, cli, port);
      const got = readBytes(a.socket, 8, WAIT);
      cli.writeLine('still up');
      expect((await got).toString()).toBe('still up');
    });

    it('with --eol crlf ends each line with CRLF', async (ctx) => {
      const { cli, port } = await startServer(ctx, '--eol', 'crlf');
      const a = await join(ctx, cli, port);
      const got = readBytes(a.socket, 4, WAIT);
      cli.writeLine('hi');
      expect(await got).toEqual(Buffer.from('hi\r\n'));
    });

    it('with --eol none sends the line without an ending', async (ctx) => {
      const { cli, port } = await startServer(ctx, '--eol', 'none');
      const a = await join(ctx, cli, port);
      const got: Buffer[] = [];
      a.socket.on('data', (chunk: Buffer) => got.push(chunk));
      cli.writeLine('one');
      await cli.waitForEvent('sent');
      cli.writeLine('two');
      await cli.waitForEvent('sent');
      cli.writeLine(`/close ${a.id}`);
      await readAll(a.socket, WAIT);
      expect(Buffer.concat(got).toString()).toBe('onetwo');
    });
  });

  describe('--hex', () => {
    it('reads stdin lines as hex and sends exactly those bytes', async (ctx) => {
      const { cli, port } = await startServer(ctx, '--hex');
      const a = await join(ctx, cli, port);
      const got = readBytes(a.socket, 5, WAIT);
      cli.writeLine('de ad be ef 00');
      expect(await got).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]));
    });

    it('shows received bytes as a hex dump in human output', async (ctx) => {
      const cleanup = scope(ctx);
      const cli = scope.cli(ctx, ['server', '--port', '0', '--hex']);
      const line = await cli.waitForLine(/listening on 127\.0\.0\.1:\d+$/, 10_000);
      const port = Number(/:(\d+)$/.exec(line)![1]);
      const socket = cleanup.socket(await connectRaw(port));
      socket.write(Buffer.from([0x00, 0x41, 0xff, 0x0a]));
      await cli.waitForLine(new RegExp(`← c1 127\\.0\\.0\\.1:${socket.localPort} 4 bytes$`));
      expect(await cli.waitForLine(/^00000000/)).toBe('00000000  00 41 ff 0a' + ' '.repeat(39) + '|.A..|');
    });

    it('reports invalid hex with a one-line error on stderr and an E_BAD_HEX event, and keeps serving', async (ctx) => {
      const { cli, port } = await startServer(ctx, '--hex');
      const a = await join(ctx, cli, port);
      cli.writeLine('de ad zz');
      const error = await cli.waitForEvent('error');
      expect(error).toEqual({ event: 'error', ts: expect.any(Number), code: 'E_BAD_HEX', message: `invalid hex: 'z' is not a hex digit (in "de ad zz")` });
      await cli.waitForStderr('\n');
      expect(cli.stderr).toBe(`synack: invalid hex: 'z' is not a hex digit (in "de ad zz")\n`);
      expect(cli.seen('sent')).toEqual([]);
      const got = readBytes(a.socket, 2, WAIT);
      cli.writeLine('ca fe');
      expect(await got).toEqual(Buffer.from([0xca, 0xfe]));
      expect(cli.done).toBe(false);
    });
  });

  describe('limits', () => {
    it('refuses clients beyond --max-clients with a rejected event, and keeps the others', async (ctx) => {
      const cleanup = scope(ctx);
      const { cli, port } = await startServer(ctx, '--max-clients', '1');
      const a = await join(ctx, cli, port);
      const extra = cleanup.socket(await connectRaw(port));
      const extraPeer = `127.0.0.1:${extra.localPort}`;
      const closed = readAll(extra, WAIT);
      expect(await cli.waitForEvent('rejected')).toMatchObject({ peer: extraPeer, code: 'E_MAX_CLIENTS' });
      expect((await closed).length).toBe(0);
      const got = readBytes(a.socket, 3, WAIT);
      cli.writeLine('ok');
      expect((await got).toString()).toBe('ok\n');
      expect(cli.seen('connected')).toHaveLength(1);
    });
  });

  describe('stopping', () => {
    it('exits 0 on SIGTERM and its clients see the connection close', async (ctx) => {
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      const b = await join(ctx, cli, port);
      const ends = [readAll(a.socket, WAIT), readAll(b.socket, WAIT)];
      cli.signal('SIGTERM');
      for (const end of await Promise.all(ends)) expect(end.length).toBe(0);
      const exit = await cli.exited();
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe('');
      expect(cli.seen('stopped')).toHaveLength(1);
      expect(cli.seen('disconnected').map((e) => e.reason)).toEqual(['closed', 'closed']);
    });

    it('stops listening on /stop and keeps its clients', async (ctx) => {
      const cleanup = scope(ctx);
      const { cli, port } = await startServer(ctx);
      const a = await join(ctx, cli, port);
      cli.writeLine('/stop');
      await cli.waitForEvent('stopped');
      const refused = net.connect({ host: '127.0.0.1', port });
      cleanup.socket(refused);
      const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        refused.once('error', resolve);
        refused.once('connect', () => reject(new Error('a new client got in after /stop')));
      });
      expect(error.code).toBe('ECONNREFUSED');
      const got = readBytes(a.socket, 6, WAIT);
      cli.writeLine('still');
      expect((await got).toString()).toBe('still\n');
    });
  });

  describe('failures', () => {
    it('exits 1 with a one-line message when the port is in use', async (ctx) => {
      const cleanup = scope(ctx);
      const taken = await listenRaw();
      cleanup.server(taken.server, taken.sockets);
      const cli = scope.cli(ctx, ['server', '--port', String(taken.port), '--json']);
      const exit = await cli.exited(10_000);
      expect(exit.code).toBe(1);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(new RegExp(`^synack: cannot listen on 127\\.0\\.0\\.1:${taken.port}: .*EADDRINUSE`))]);
      expect(cli.seen('error')).toEqual([expect.objectContaining({ code: 'E_ADDR_IN_USE' })]);
      expect(cli.seen('listening')).toEqual([]);
    });
  });

  describe('talking to other tools', () => {
    /** A TCP peer of the CLI server: a tool on PATH or plain Node, with the same four verbs. */
    interface Peer {
      send(bytes: Buffer): void;
      read(length: number, timeoutMs?: number): Promise<Buffer>;
      /** Ends the peer's input (stdin EOF for a tool, FIN for Node). */
      finish(): void;
      /** Resolves with the exit code (0 for a Node socket that closed cleanly). */
      exited(timeoutMs?: number): Promise<number | null>;
    }

    const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

    /** A peer that writes to `input`, reads from `output`, and settles `ended` with its exit code. */
    function streamPeer(what: string, input: Writable, output: Readable, ended: Promise<number | null>): Peer {
      const received: Buffer[] = [];
      const waiters = new Set<() => void>();
      output.on('data', (chunk: Buffer) => {
        received.push(chunk);
        for (const w of [...waiters]) w();
      });
      return {
        send: (bytes) => input.write(bytes),
        read: (length, timeoutMs = 5_000) =>
          new Promise((resolve, reject) => {
            const check = () => {
              const all = Buffer.concat(received);
              if (all.length < length) return;
              waiters.delete(check);
              clearTimeout(timer);
              resolve(all);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              reject(new Error(`${what}: ${Buffer.concat(received).length} of ${length} bytes within ${timeoutMs} ms`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        finish: () => input.end(),
        exited: (timeoutMs = 5_000) =>
          Promise.race([ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not end within ${timeoutMs} ms`)), timeoutMs).unref())]),
      };
    }

    function toolPeer(cleanup: Cleanup, command: string, args: string[]): Peer {
      const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      cleanup.add(child, (c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
      child.stdin!.on('error', () => {});
      return streamPeer(command, child.stdin!, child.stdout!, new Promise((resolve) => child.once('exit', (code) => resolve(code))));
    }

    function nodePeer(cleanup: Cleanup, port: number): Peer {
      const socket = cleanup.socket(net.connect({ host: '127.0.0.1', port }));
      socket.on('error', () => {});
      return streamPeer('node peer', socket, socket, new Promise((resolve) => socket.once('close', (hadError) => resolve(hadError ? 1 : 0))));
    }

    // The Node peer is always there; nc and socat join when this machine has them.
    const peers: { name: string; available: boolean; start: (cleanup: Cleanup, port: number) => Peer }[] = [
      { name: 'a plain Node socket', available: true, start: nodePeer },
      { name: 'nc (netcat-openbsd)', available: onPath('nc'), start: (cleanup, port) => toolPeer(cleanup, 'nc', ['127.0.0.1', String(port)]) },
      { name: 'socat', available: onPath('socat'), start: (cleanup, port) => toolPeer(cleanup, 'socat', ['-', `TCP:127.0.0.1:${port}`]) },
    ];

    it.for(peers.filter((p) => p.available))('passes the captured echo bytes both ways unchanged with $name', async ({ start }, ctx) => {
      const request = vector('echo_client_to_server.bin');
      const reply = vector('echo_server_reply.bin');
      const { cli, port } = await startServer(ctx, '--hex');
      const peer = start(scope(ctx), port);
      const connected = await cli.waitForEvent('connected');
      const id = connected.id as string;
      peer.send(request);
      let hex = '';
      while (hex.length < request.length * 2) {
        const data = await cli.waitForEvent((e) => e.event === 'data' && e.id === id);
        hex += data.hex as string;
      }
      expect(hex).toBe(request.toString('hex'));
      expect(cli.seen('data').map((e) => e.text).join('')).toBe('Hello, server!');
      cli.writeLine(reply.toString('hex'));
      expect(await peer.read(reply.length)).toEqual(reply);
      cli.writeLine(`/close ${id}`);
      await cli.waitForEvent((e) => e.event === 'state' && e.actor === id && e.state === 'FIN_WAIT');
      peer.finish();
      expect(await peer.exited()).toBe(0);
      expect(await cli.waitForEvent('disconnected')).toMatchObject({ id, reason: 'closed', clients: 0 });
      // Nothing beyond the reply reached the peer.
      expect(await peer.read(reply.length)).toEqual(reply);
    });
  });
});

// These only start a process and wait for it to exit: they run side by side.
describe.concurrent('synack server (CLI) usage errors', () => {
  const scope = perTestCleanup();

  const usage: [string, string[], RegExp][] = [
    ['a port out of range', ['server', '--port', '70000'], /^synack: invalid --port '70000': expected a whole number from 0 to 65535$/],
    ['a port that is not a number', ['server', '--port', 'http'], /^synack: invalid --port 'http': /],
    ['a missing port', ['server'], /^synack: --port is required$/],
    ['an unknown option', ['server', '--port', '0', '--bogus'], /^synack: server: Unknown option '--bogus'$/],
    ['a bad --host', ['server', '--port', '0', '--host', 'not a host!'], /^synack: invalid --host 'not a host!': expected an IP address or a host name$/],
    ['a bad --eol', ['server', '--port', '0', '--eol', 'cr'], /^synack: invalid --eol 'cr': expected none, lf or crlf$/],
    ['a bad --max-clients', ['server', '--port', '0', '--max-clients', '0'], /^synack: invalid --max-clients '0': /],
    ['an unknown command', ['serve', '--port', '0'], /^synack: unknown command 'serve': expected one of .*server/],
  ];

  it.for(usage)('exits 2 with a one-line reason on stderr for %s', async ([, args, reason], ctx) => {
    const exit = await scope.cli(ctx, [...args, '--json']).exited(15_000);
    expect(exit.code).toBe(2);
    const lines = stderrLines(exit);
    expect(lines[0]).toMatch(reason);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^Run 'synack (\w+ )?--help' for usage\.$/)]);
    expect(exit.stdout).toBe('');
  });
});
