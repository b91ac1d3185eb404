import type net from 'node:net';
import { describe, expect, it, type TestContext } from 'vitest';
import { eventOnce, freePort, listenRaw, readAll, readBytes } from '../../helpers.js';
import { perTestCleanup, stderrLines, type Cli } from './run-cli.js';

/** The bound on each wait for bytes: generous, since a loaded machine slows the CLI's start and replies. */
const WAIT = 10_000;

// Each test's processes, servers and sockets are closed in afterEach (see perTestCleanup).
describe.concurrent('synack client (CLI)', () => {
  const scope = perTestCleanup();

  /** A plain Node server; `peer()` waits for the socket it accepted. */
  async function rawServer(ctx: TestContext, options: net.ServerOpts = {}) {
    const cleanup = scope(ctx);
    const raw = await listenRaw(() => {}, options);
    cleanup.server(raw.server, raw.sockets);
    const peer = async (): Promise<net.Socket> => {
      if (raw.sockets.size === 0) await eventOnce(raw.server, 'connection', 10_000);
      return [...raw.sockets][0]!;
    };
    return { ...raw, peer };
  }

  /** Starts `synack client --port P --json …` and waits until it is connected. */
  async function connect(ctx: TestContext, port: number, ...args: string[]): Promise<Cli> {
    const cli = scope.cli(ctx, ['client', '--port', String(port), '--json', ...args]);
    await cli.waitForEvent('connected', 15_000);
    return cli;
  }

  describe('talking to a server', () => {
    it('sends stdin lines, shows what comes back, and closes gracefully with exit 0 at the end of stdin', async (ctx) => {
      const raw = await rawServer(ctx);
      const cli = await connect(ctx, raw.port);
      expect(cli.seen('connected')).toEqual([{ event: 'connected', ts: expect.any(Number), id: 'client-1', peer: `127.0.0.1:${raw.port}` }]);
      const peer = await raw.peer();
      const everything = readAll(peer, WAIT);
      cli.writeLine('hello');
      expect(await cli.waitForEvent('sent')).toMatchObject({ bytes: 6, text: 'hello\n' });
      peer.write('welcome\n');
      expect(await cli.waitForEvent('data')).toMatchObject({ id: 'client-1', peer: `127.0.0.1:${raw.port}`, bytes: 8, text: 'welcome\n', hex: '77656c636f6d650a' });
      cli.writeLine('bye');
      cli.closeStdin();
      expect((await everything).toString()).toBe('hello\nbye\n');
      const exit = await cli.exited();
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe('');
      expect(cli.seen('disconnected')).toMatchObject([{ reason: 'closed' }]);
      expect(cli.seen('state').map((e) => e.state)).toEqual(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT', 'CLOSED']);
    });

    it('stays connected after the end of stdin with --keep-open, and exits 0 when the server closes', async (ctx) => {
      const raw = await rawServer(ctx);
      const cli = await connect(ctx, raw.port, '--keep-open');
      const peer = await raw.peer();
      const got = readBytes(peer, 5, WAIT);
      cli.writeLine('last');
      cli.closeStdin();
      expect((await got).toString()).toBe('last\n');
      peer.write('still there?');
      expect(await cli.waitForEvent('data')).toMatchObject({ text: 'still there?' });
      expect(cli.done).toBe(false);
      peer.end();
      const exit = await cli.exited();
      expect(exit.code).toBe(0);
      expect(cli.seen('disconnected')).toMatchObject([{ reason: 'peer-closed' }]);
    });

    it('exits 0 when the server closes the connection', async (ctx) => {
      const raw = await rawServer(ctx);
      const cli = await connect(ctx, raw.port);
      (await raw.peer()).end('goodbye\n');
      expect(await cli.waitForEvent('data')).toMatchObject({ text: 'goodbye\n' });
      const exit = await cli.exited();
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe('');
    });

    it('closes gracefully and exits 0 on SIGTERM', async (ctx) => {
      const raw = await rawServer(ctx);
      const cli = await connect(ctx, raw.port);
      const peer = await raw.peer();
      const end = readAll(peer, WAIT);
      cli.signal('SIGTERM');
      expect((await end).length).toBe(0);
      expect((await cli.exited()).code).toBe(0);
    });

    it('with --eol crlf ends each line with CRLF, and with --eol none adds nothing', async (ctx) => {
      const raw = await rawServer(ctx);
      const crlf = await connect(ctx, raw.port, '--eol', 'crlf');
      const first = await raw.peer();
      const got = readBytes(first, 4, WAIT);
      crlf.writeLine('hi');
      expect(await got).toEqual(Buffer.from('hi\r\n'));
      crlf.closeStdin();
      expect((await crlf.exited()).code).toBe(0);
      raw.sockets.clear();
      const none = await connect(ctx, raw.port, '--eol', 'none');
      const second = await raw.peer();
      const all = readAll(second, WAIT);
      none.writeLine('a');
      none.writeLine('b');
      none.closeStdin();
      expect((await all).toString()).toBe('ab');
    });

    it('with --hex sends the bytes stdin spells, and reports bad hex on stderr while staying connected', async (ctx) => {
      const raw = await rawServer(ctx);
      const cli = await connect(ctx, raw.port, '--hex');
      const peer = await raw.peer();
      const all = readAll(peer, WAIT);
      cli.writeLine('48 69 0x00 ff');
      await cli.waitForEvent('sent');
      cli.writeLine('4g');
      expect(await cli.waitForEvent('error')).toMatchObject({ code: 'E_BAD_HEX', message: `invalid hex: 'g' is not a hex digit (in "4g")` });
      cli.writeLine('0a');
      cli.closeStdin();
      expect(await all).toEqual(Buffer.from([0x48, 0x69, 0x00, 0xff, 0x0a]));
      const exit = await cli.exited();
      expect(exit.code).toBe(0);
      expect(stderrLines(exit)).toEqual([`synack: invalid hex: 'g' is not a hex digit (in "4g")`]);
    });
  });

  describe('when it cannot connect', () => {
    it('exits 1 with a one-line reason when the port is refused', async (ctx) => {
      const port = await freePort();
      const cli = scope.cli(ctx, ['client', '--port', String(port), '--json']);
      const exit = await cli.exited(10_000);
      expect(exit.code).toBe(1);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(new RegExp(`^synack: gave up connecting to 127\\.0\\.0\\.1:${port} after 1 attempt: .*ECONNREFUSED`))]);
      expect(cli.seen('error').at(-1)).toMatchObject({ code: 'E_CONN_REFUSED' });
      expect(cli.seen('reconnecting')).toEqual([]);
      expect(cli.seen('connected')).toEqual([]);
    });

    it('with --reconnect 2 reports each retry with a growing delay first, then exits 1', async (ctx) => {
      const port = await freePort();
      const cli = scope.cli(ctx, ['client', '--port', String(port), '--reconnect', '2', '--json']);
      const exit = await cli.exited(10_000);
      expect(exit.code).toBe(1);
      const retries = cli.seen('reconnecting');
      expect(retries.map((e) => e.attempt)).toEqual([1, 2]);
      expect(retries[1]!.delayMs as number).toBeGreaterThan(retries[0]!.delayMs as number);
      const lastRetry = cli.events.lastIndexOf(retries[1]!);
      const finalError = cli.events.findLastIndex((e) => e.event === 'error');
      expect(finalError).toBeGreaterThan(lastRetry);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(/^synack: gave up connecting to 127\.0\.0\.1:\d+ after 3 attempts: /)]);
    });

    it('with --reconnect, retries a lost link and exits 1 once the server is gone for good', async (ctx) => {
      const raw = await rawServer(ctx);
      const cli = await connect(ctx, raw.port, '--reconnect', '1');
      const peer = await raw.peer();
      await new Promise<void>((resolve) => {
        raw.server.close(() => resolve());
        peer.destroy();
      });
      expect(await cli.waitForEvent('disconnected')).toMatchObject({ reason: 'peer-closed' });
      expect(await cli.waitForEvent('reconnecting')).toMatchObject({ attempt: 1 });
      const exit = await cli.exited(10_000);
      expect(exit.code).toBe(1);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(new RegExp(`^synack: gave up reconnecting to 127\\.0\\.0\\.1:${raw.port}: .*ECONNREFUSED`))]);
      expect(cli.seen('disconnected')).toHaveLength(1);
    });

    it('exits 1 with E_HOST_NOT_FOUND for a host that does not resolve', async (ctx) => {
      const cli = scope.cli(ctx, ['client', '--host', 'no.such.host.invalid', '--port', '9', '--json']);
      const exit = await cli.exited(15_000);
      expect(exit.code).toBe(1);
      expect(stderrLines(exit)).toEqual([expect.stringMatching(/^synack: gave up connecting to no\.such\.host\.invalid:9 after 1 attempt: .*no\.such\.host\.invalid/)]);
      expect(cli.seen('error').at(-1)).toMatchObject({ code: 'E_HOST_NOT_FOUND' });
    });
  });
});

// These only start a process and wait for it to exit: they run side by side.
describe.concurrent('synack client (CLI) usage errors', () => {
  const scope = perTestCleanup();

  const usage: [string, string[], RegExp][] = [
    ['a missing port', ['client'], /^synack: --port is required$/],
    ['port 0', ['client', '--port', '0'], /^synack: invalid --port '0': expected a whole number from 1 to 65535$/],
    ['a bad --host', ['client', '--port', '9', '--host', 'a..b'], /^synack: invalid --host 'a\.\.b': expected an IP address or a host name$/],
    ['a bad --reconnect', ['client', '--port', '9', '--reconnect', 'lots'], /^synack: invalid --reconnect 'lots': /],
    ['an unknown option', ['client', '--port', '9', '--verbose'], /^synack: client: Unknown option '--verbose'$/],
  ];

  it.for(usage)('exits 2 with a one-line reason on stderr for %s', async ([, args, reason], ctx) => {
    const exit = await scope.cli(ctx, args).exited(15_000);
    expect(exit.code).toBe(2);
    const lines = stderrLines(exit);
    expect(lines[0]).toMatch(reason);
    expect(lines.slice(1)).toEqual(["Run 'synack client --help' for usage."]);
    expect(exit.stdout).toBe('');
  });
});
