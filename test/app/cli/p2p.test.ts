import { afterEach, describe, expect, it } from 'vitest';
import { peerCommand, PEER_HELP } from '../../../src/app/cli/commands/peer.js';
import { registryCommand, REGISTRY_HELP } from '../../../src/app/cli/commands/registry.js';
import { listenRaw } from '../../helpers.js';
import { frame, RawLink } from '../../p2p-helpers.js';
import { killClis, runCli, type JsonEvent } from './run-cli.js';

describe('synack registry and synack peer', () => {
  afterEach(killClis);

  async function registry(...extra: string[]) {
    const cli = runCli(['registry', '--port', '0', '--json', ...extra]);
    const listening = await cli.waitForSeen('listening');
    return { cli, port: listening.port as number };
  }

  it('runs a registry that two peers join, list each other on, and chat through directly, with --json', async () => {
    const { cli: reg, port } = await registry();
    const alice = runCli(['peer', '--registry', `127.0.0.1:${port}`, '--name', 'alice', '--host', '127.0.0.1', '--json']);
    const bob = runCli(['peer', '--registry', `127.0.0.1:${port}`, '--name', 'bob', '--host', '127.0.0.1', '--json']);
    const seesBob = (l: JsonEvent) => l.event === 'peers' && JSON.stringify(l.peers).includes('"bob"');
    await Promise.all([alice.waitForSeen(seesBob), bob.waitForSeen((l) => l.event === 'peers' && JSON.stringify(l.peers).includes('"alice"'))]);
    const registered = await alice.waitForSeen((l) => l.event === 'registered');
    expect(registered).toMatchObject({ name: 'alice', host: '127.0.0.1', registry: `127.0.0.1:${port}` });
    expect(typeof registered.ts).toBe('number');

    alice.write('\n/msg bob hello bob, it is alice\n/all to everyone\n/peers\n');
    expect(await bob.waitForSeen((l) => l.event === 'chat' && l.text === 'hello bob, it is alice')).toMatchObject({ from: 'alice' });
    await bob.waitForSeen((l) => l.event === 'chat' && l.text === 'to everyone');
    await alice.waitForSeen((l) => l.event === 'chat-sent' && l.to === 'bob' && l.text === 'to everyone');
    alice.closeStdin();
    expect((await alice.exited()).code).toBe(0);

    await reg.waitForSeen((l) => l.event === 'left' && l.name === 'alice');
    bob.signal('SIGTERM');
    expect((await bob.exited()).code).toBe(0);
    reg.signal('SIGTERM');
    expect((await reg.exited()).code).toBe(0);
    expect(reg.seen('joined').map((l) => l.name).sort()).toEqual(['alice', 'bob']);
    expect(alice.stderr).toBe('');
  });

  it('tells a peer how to type what it could not understand, and skips empty lines', async () => {
    const { port } = await registry();
    const alice = runCli(['peer', '--registry', `127.0.0.1:${port}`, '--name', 'alice', '--host', '127.0.0.1']);
    alice.write('\n   \nhello\n/msg bob\n/msg nobody hi\n/dance\n');
    await alice.waitForStderr('synack: type /msg NAME text, /all text or /peers');
    await alice.waitForStderr('synack: usage: /msg NAME text (the text must not be empty)');
    await alice.waitForStderr('synack: no peer named "nobody"');
    await alice.waitForStderr('synack: unknown command /dance');
    expect(alice.stderr.trim().split('\n')).toHaveLength(4);
    alice.signal('SIGINT');
    expect((await alice.exited()).code).toBe(0);
  });

  it('logs every link it refuses with the reason, and drops a peer after --ttl without a REGISTER', async () => {
    const { cli: reg, port } = await registry('--ttl', '300');
    const link = await RawLink.connect(port);
    link.socket.write(frame('REGISTER', 'mallory@127.0.0.1:9009'));
    await link.waitClosed();
    expect(await reg.waitForSeen((l) => l.event === 'refused')).toMatchObject({ code: 'E_PROTOCOL', message: 'first frame must be GREETING, got REGISTER' });
    const liar = await RawLink.connect(port);
    liar.socket.write(frame('GREETING', 'mallory:192.0.2.7:9009'));
    await liar.waitClosed();
    await reg.waitForSeen((l) => l.event === 'refused' && String(l.message).includes('192.0.2.7'));

    const silent = await RawLink.connect(port);
    silent.socket.write(Buffer.concat([frame('GREETING', 'quiet:127.0.0.1:9009'), frame('REGISTER', 'quiet@127.0.0.1:9009')]));
    await reg.waitForSeen((l) => l.event === 'joined' && l.name === 'quiet');
    expect(await reg.waitForSeen((l) => l.event === 'left', 5_000)).toMatchObject({ name: 'quiet', reason: 'expired: no REGISTER for 300 ms' });
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
      const cli = runCli(c.args);
      expect((await cli.exited()).code).toBe(2);
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
      const cli = runCli(['registry', '--port', String(blocker.port), '--json']);
      expect((await cli.exited()).code).toBe(1);
      expect(cli.stderr).toMatch(/^synack: cannot listen on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
      expect(cli.seen('error')[0]).toMatchObject({ code: 'E_ADDR_IN_USE' });
    } finally {
      await new Promise<void>((resolve) => blocker.server.close(() => resolve()));
    }
  });

  it('prints its options with --help', async () => {
    const cli = runCli(['peer', '--help']);
    expect((await cli.exited()).code).toBe(0);
    expect(cli.stdout).toBe(`${PEER_HELP}\n`);
    expect(REGISTRY_HELP).toMatch(/^synack registry --port P \[options\]\n/);
  });
});
