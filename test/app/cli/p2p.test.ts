import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { peerCommand, PEER_HELP } from '../../../src/app/cli/commands/peer.js';
import { registryCommand, REGISTRY_HELP } from '../../../src/app/cli/commands/registry.js';
import { listenRaw } from '../../helpers.js';
import { frame, RawLink } from '../../p2p-helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'bin/synack.js');

type Json = Record<string, unknown> & { event: string };

/** A CLI process with its output collected; every wait is bounded. */
class Cli {
  readonly lines: Json[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly #waiters = new Set<() => void>();

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    let partial = '';
    child.stdout.on('data', (text: string) => {
      this.stdout += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.lines.push(JSON.parse(line) as Json);
        } catch {
          // human output
        }
      }
      this.#wake();
    });
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
      this.#wake();
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    void this.exited.then(() => this.#wake());
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves with the first JSON line (so far or to come) that matches, within `timeoutMs`. */
  line(match: (line: Json) => boolean, timeoutMs = 5_000, what = 'line'): Promise<Json> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found) {
          done();
          resolve(found);
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves once stderr contains `text`, within `timeoutMs`. */
  said(text: string, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.stderr.includes(text)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`stderr never said ${JSON.stringify(text)} within ${timeoutMs} ms: ${this.stderr}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** The exit code, within `timeoutMs`. */
  async code(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

describe('synack registry and synack peer', () => {
  const running: Cli[] = [];
  afterEach(async () => {
    for (const cli of running.splice(0)) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });

  /** A CLI process that afterEach kills if it is still running. */
  function run(...args: string[]): Cli {
    const cli = new Cli(spawn(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } }));
    running.push(cli);
    return cli;
  }

  async function registry(...extra: string[]) {
    const cli = run('registry', '--port', '0', '--json', ...extra);
    const listening = await cli.line((l) => l.event === 'listening', 10_000, 'listening');
    return { cli, port: listening.port as number };
  }

  it('runs a registry that two peers join, list each other on, and chat through directly, with --json', async () => {
    const { cli: reg, port } = await registry();
    const alice = run('peer', '--registry', `127.0.0.1:${port}`, '--name', 'alice', '--host', '127.0.0.1', '--json');
    const bob = run('peer', '--registry', `127.0.0.1:${port}`, '--name', 'bob', '--host', '127.0.0.1', '--json');
    const seesBob = (l: Json) => l.event === 'peers' && JSON.stringify(l.peers).includes('"bob"');
    await Promise.all([alice.line(seesBob, 10_000, 'bob in the list'), bob.line((l) => l.event === 'peers' && JSON.stringify(l.peers).includes('"alice"'), 10_000)]);
    const registered = await alice.line((l) => l.event === 'registered');
    expect(registered).toMatchObject({ name: 'alice', host: '127.0.0.1', registry: `127.0.0.1:${port}` });
    expect(typeof registered.ts).toBe('number');

    alice.child.stdin.write('\n/msg bob hello bob, it is alice\n/all to everyone\n/peers\n');
    expect(await bob.line((l) => l.event === 'chat' && l.text === 'hello bob, it is alice')).toMatchObject({ from: 'alice' });
    await bob.line((l) => l.event === 'chat' && l.text === 'to everyone');
    await alice.line((l) => l.event === 'chat-sent' && l.to === 'bob' && l.text === 'to everyone');
    alice.child.stdin.end();
    expect(await alice.code()).toBe(0);

    await reg.line((l) => l.event === 'left' && l.name === 'alice');
    bob.child.kill('SIGTERM');
    expect(await bob.code()).toBe(0);
    reg.child.kill('SIGTERM');
    expect(await reg.code()).toBe(0);
    expect(reg.lines.filter((l) => l.event === 'joined').map((l) => l.name).sort()).toEqual(['alice', 'bob']);
    expect(alice.stderr).toBe('');
  });

  it('tells a peer how to type what it could not understand, and skips empty lines', async () => {
    const { port } = await registry();
    const alice = run('peer', '--registry', `127.0.0.1:${port}`, '--name', 'alice', '--host', '127.0.0.1');
    alice.child.stdin.write('\n   \nhello\n/msg bob\n/msg nobody hi\n/dance\n');
    await alice.said('synack: type /msg NAME text, /all text or /peers');
    await alice.said('synack: usage: /msg NAME text (the text must not be empty)');
    await alice.said('synack: no peer named "nobody"');
    await alice.said('synack: unknown command /dance');
    expect(alice.stderr.trim().split('\n')).toHaveLength(4);
    alice.child.kill('SIGINT');
    expect(await alice.code()).toBe(0);
  });

  it('logs every link it refuses with the reason, and drops a peer after --ttl without a REGISTER', async () => {
    const { cli: reg, port } = await registry('--ttl', '300');
    const link = await RawLink.connect(port);
    link.socket.write(frame('REGISTER', 'mallory@127.0.0.1:9009'));
    await link.waitClosed();
    expect(await reg.line((l) => l.event === 'refused')).toMatchObject({ code: 'E_PROTOCOL', message: 'first frame must be GREETING, got REGISTER' });
    const liar = await RawLink.connect(port);
    liar.socket.write(frame('GREETING', 'mallory:192.0.2.7:9009'));
    await liar.waitClosed();
    await reg.line((l) => l.event === 'refused' && String(l.message).includes('192.0.2.7'));

    const silent = await RawLink.connect(port);
    silent.socket.write(Buffer.concat([frame('GREETING', 'quiet:127.0.0.1:9009'), frame('REGISTER', 'quiet@127.0.0.1:9009')]));
    await reg.line((l) => l.event === 'joined' && l.name === 'quiet');
    expect(await reg.line((l) => l.event === 'left', 5_000)).toMatchObject({ name: 'quiet', reason: 'expired: no REGISTER for 300 ms' });
    await silent.waitClosed();
  });

  // One process per exit path (the exit code is main.ts's); the other usage errors are checked in-process below.
  const usage: { what: string; args: string[]; says: RegExp }[] = [
    { what: 'a registry port that is not a number', args: ['registry', '--port', 'x'], says: /^synack: invalid --port 'x'/ },
    { what: 'a registry that is not host:port', args: ['peer', '--registry', 'localhost', '--name', 'alice'], says: /^synack: invalid --registry 'localhost'/ },
    { what: 'a name the protocol cannot carry', args: ['peer', '--registry', '127.0.0.1:9000', '--name', 'al:ice'], says: /^synack: invalid peer name "al:ice"/ },
  ];

  for (const c of usage) {
    it(`exits 2 with a one-line reason for ${c.what}`, async () => {
      const cli = run(...c.args);
      expect(await cli.code()).toBe(2);
      expect(cli.stderr.split('\n')[0]).toMatch(c.says);
      expect(cli.stdout).toBe('');
    });
  }

  it('rejects every other bad option as a usage error, before opening anything', async () => {
    const bad: [typeof registryCommand, string[], RegExp][] = [
      [registryCommand, ['--port', '0', '--ttl', 'soon'], /^invalid --ttl 'soon'/],
      [registryCommand, ['--port', '0', '--frame-timeout', 'later'], /^invalid --frame-timeout 'later'/],
      [registryCommand, ['--port', '0', '--trust', 'everyone'], /^invalid --trust 'everyone'/],
      [registryCommand, ['--port', '0', '--host', 'bad host'], /^invalid --host 'bad host'/],
      [peerCommand, ['--name', 'alice'], /^--registry is required/],
      [peerCommand, ['--registry', '127.0.0.1:9000'], /^--name is required/],
      [peerCommand, ['--registry', '127.0.0.1:99999', '--name', 'a'], /^invalid --registry '127.0.0.1:99999'/],
      [peerCommand, ['--registry', '127.0.0.1:9000', '--name', 'a', '--advertise', 'me'], /^invalid --advertise 'me'/],
      [peerCommand, ['--registry', '127.0.0.1:9000', '--name', 'a', '--port', '70000'], /^invalid --port '70000'/],
      [peerCommand, ['--registry', '127.0.0.1:9000', '--name', 'a', '--colour'], /^peer: Unknown option '--colour'/],
    ];
    for (const [command, args, message] of bad) {
      await expect(command(args), args.join(' ')).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(message) });
    }
  });

  it('exits 1 when the registry port is taken', async () => {
    const blocker = await listenRaw();
    try {
      const cli = run('registry', '--port', String(blocker.port), '--json');
      expect(await cli.code()).toBe(1);
      expect(cli.stderr).toMatch(/^synack: cannot listen on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
      expect(cli.lines.find((l) => l.event === 'error')).toMatchObject({ code: 'E_ADDR_IN_USE' });
    } finally {
      await new Promise<void>((resolve) => blocker.server.close(() => resolve()));
    }
  });

  it('prints its options with --help', async () => {
    const cli = run('peer', '--help');
    expect(await cli.code()).toBe(0);
    expect(cli.stdout).toBe(`${PEER_HELP}\n`);
    expect(REGISTRY_HELP).toMatch(/^synack registry --port P \[options\]\n/);
  });
});
