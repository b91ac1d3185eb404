import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPeer, parseHostPort, type Peer, type PeerOptions } from '../../src/app/peer.js';
import type { P2pFacadeEvent } from '../../src/app/p2p-events.js';
import { createRegistry, type Registry, type RegistryOptions } from '../../src/app/registry.js';
import { Cleanup, firstValue, listenRaw, waitFor } from '../helpers.js';
import { OriginalPeer, settle } from '../p2p-helpers.js';

type Event<K extends P2pFacadeEvent['event']> = Extract<P2pFacadeEvent, { event: K }>;

function next<K extends P2pFacadeEvent['event']>(source: Registry | Peer, kind: K, match: (e: Event<K>) => boolean = () => true, timeoutMs = 3_000) {
  return firstValue(source.events$, (e) => e.event === kind && match(e as Event<K>), timeoutMs, `${kind} from ${source.id}`) as Promise<Event<K>>;
}

const names = (list: { name: string }[]) => list.map((p) => p.name).sort();

describe('p2p chat through a registry', () => {
  const cleanup = new Cleanup();
  afterEach(async () => {
    vi.useRealTimers();
    await cleanup.run();
  });

  async function registry(options: Partial<RegistryOptions> = {}) {
    const r = cleanup.add(createRegistry({ port: 0, ...options }), (x) => x.close({ graceMs: 200 }));
    const { port } = await r.start();
    return { registry: r, port };
  }

  function peer(name: string, port: number, options: Partial<PeerOptions> = {}) {
    return cleanup.add(
      createPeer({ name, registry: `127.0.0.1:${port}`, host: '127.0.0.1', registryRetry: { baseMs: 20, maxMs: 60 }, ...options }),
      (p) => p.close({ graceMs: 200 }),
    );
  }

  const sees = (p: Peer, expected: string[]) => waitFor(p.actor, (s) => JSON.stringify(names(s.context.peers)) === JSON.stringify(expected), 3_000, `${p.name} seeing ${expected}`);

  async function threePeers() {
    const { registry: r, port } = await registry();
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((name) => peer(name, port)) as [Peer, Peer, Peer];
    await Promise.all([alice, bob, carol].map((p) => p.start()));
    await Promise.all([sees(alice, ['bob', 'carol']), sees(bob, ['alice', 'carol']), sees(carol, ['alice', 'bob'])]);
    return { registry: r, port, alice, bob, carol };
  }

  it('lets three peers see each other and chat directly, and chat on when the registry is gone', async () => {
    const { registry: r, alice, bob, carol } = await threePeers();
    expect(names(r.peers())).toEqual(['alice', 'bob', 'carol']);

    const toBob = next(bob, 'chat');
    await alice.send('bob', 'hi bob');
    expect(await toBob).toMatchObject({ from: 'alice', text: 'hi bob' });

    const lost = Promise.all([alice, bob, carol].map((p) => next(p, 'disconnected', (e) => e.id === 'registry')));
    await r.close({ graceMs: 200 });
    await lost;

    // A link that did not exist while the registry was up: chat needs only the list each peer kept.
    const toAlice = next(alice, 'chat', (e) => e.from === 'carol');
    await carol.send('alice', 'the registry is gone, still here');
    expect(await toAlice).toMatchObject({ from: 'carol', text: 'the registry is gone, still here' });
    const reply = next(alice, 'chat', (e) => e.from === 'bob');
    await bob.send('alice', 'me too');
    expect(await reply).toMatchObject({ text: 'me too' });
    expect(bob.links()).toMatchObject([{ direction: 'in', name: 'alice' }]);
    expect(names(carol.peers())).toEqual(['alice', 'bob']);
  });

  it('lets everyone register again when the registry restarts on the same port', async () => {
    const { registry: r, port, alice, bob, carol } = await threePeers();
    await r.close({ graceMs: 200 });
    await Promise.all([alice, bob, carol].map((p) => waitFor(p.actor, (s) => s.context.registrations === 1 && p.state.registry === 'CONNECTING', 3_000)));

    const again = cleanup.add(createRegistry({ port }), (x) => x.close({ graceMs: 200 }));
    await again.start();
    await Promise.all([alice, bob, carol].map((p) => waitFor(p.actor, (s) => s.context.registrations === 2, 3_000, `${p.name} registering again`)));
    expect(names(again.peers())).toEqual(['alice', 'bob', 'carol']);
    await Promise.all([sees(alice, ['bob', 'carol']), sees(bob, ['alice', 'carol']), sees(carol, ['alice', 'bob'])]);
  });

  it('evicts a peer that goes silent when its 22 s run out, and tells the others', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { registry: r, port } = await registry({ coalesce: { factor: 0 } });
    const retry = { registryRetry: { baseMs: 10, maxMs: 10, jitter: 0 } };
    const alice = peer('alice', port, retry);
    const bob = peer('bob', port, retry);
    // Carol registers once, then says nothing for longer than the registry waits.
    const carol = peer('carol', port, { ...retry, refreshMs: 60_000 });
    await Promise.all([alice, bob, carol].map((p) => p.start()));
    await settle(() => [alice, bob, carol].every((p) => p.peers().length === 2), 'three peers seeing each other');

    const carolEntry = r.entries().find((e) => e.peer.name === 'carol')!;
    expect(carolEntry.expiresAt - carolEntry.joinedAt).toBe(22_000);
    vi.advanceTimersByTime(15_000);
    await settle(() => r.entries().filter((e) => e.expiresAt > carolEntry.expiresAt).length === 2, 'alice and bob refreshing');

    vi.advanceTimersByTime(carolEntry.expiresAt - 1 - Date.now());
    expect(names(r.peers())).toEqual(['alice', 'bob', 'carol']);
    const left = next(r, 'left');
    const lists: string[] = [];
    alice.events$.subscribe((e) => e.event === 'peers' && lists.push(names(e.peers).join()));
    vi.advanceTimersByTime(1);
    expect(names(r.peers())).toEqual(['alice', 'bob']);
    expect(await left).toMatchObject({ name: 'carol', reason: 'expired: no REGISTER for 22000 ms', peers: 2 });
    await settle(() => lists.includes('bob'), 'the list without carol', 3_000, 1);

    // The registry closed carol's link; she dials again and is back.
    await settle(() => names(r.peers()).length === 3 && alice.peers().length === 2, 'carol registering again', 3_000, 5);
  });

  it('refuses a second peer with a name already taken from another address, and admits it once the name is free', async () => {
    const { registry: r, port } = await registry();
    const first = peer('alice', port);
    await first.start();
    await first.registered();
    const second = peer('alice', port, { backoff: { baseMs: 20, maxMs: 20, jitter: 0 } });
    const refused = next(r, 'refused');
    const error = next(second, 'error');
    await second.start();
    expect(await refused).toMatchObject({ code: 'E_NAME_TAKEN' });
    expect(await error).toMatchObject({ code: 'E_NAME_TAKEN', message: expect.stringMatching(/^the registry refused us: name "alice" is registered from 127\.0\.0\.1:\d+/) });
    await first.close();
    const self = await second.registered();
    expect(r.peers()).toEqual([self]);
  });

  it('evicts a peer on request and tells the others; the peer registers again by itself', async () => {
    const { registry: r, alice, bob, carol } = await threePeers();
    const gone = Promise.all([sees(alice, ['carol']), sees(carol, ['alice'])]);
    expect(r.evict('bob')).toBe(true);
    expect(r.evict('nobody')).toBe(false);
    await gone;
    await waitFor(bob.actor, (s) => s.context.registrations === 2, 3_000, 'bob registering again');
    await sees(alice, ['bob', 'carol']);
  });

  it('says why a message cannot be sent', async () => {
    const { port } = await registry();
    const alice = peer('alice', port);
    await alice.start();
    await expect(alice.send('nobody', 'hi')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await expect(alice.send('bob', '')).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(() => createPeer({ name: 'al ice', registry: `127.0.0.1:${port}` })).toThrow(/invalid peer name "al ice"/);
    expect(() => createPeer({ name: 'alice', registry: 'localhost' })).toThrow(/expected host:port/);
    expect(parseHostPort('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });

  it('rejects start with E_ADDR_IN_USE when the registry port is taken', async () => {
    const blocker = await listenRaw();
    cleanup.server(blocker.server, blocker.sockets);
    const r = cleanup.add(createRegistry({ port: blocker.port }), (x) => x.close());
    await expect(r.start()).rejects.toMatchObject({ code: 'E_ADDR_IN_USE' });
  });
});

describe('an original P2PChatRoom peer', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function setUp() {
    const r = cleanup.add(createRegistry({ port: 0 }), (x) => x.close({ graceMs: 200 }));
    const { port } = await r.start();
    const alice = cleanup.add(createPeer({ name: 'alice', registry: `127.0.0.1:${port}`, host: '127.0.0.1' }), (p) => p.close({ graceMs: 200 }));
    const { port: alicePort } = await alice.start();
    await alice.registered();
    const qt = cleanup.add(new OriginalPeer('qt'), (p) => p.close());
    await qt.listen();
    const listed = next(alice, 'peers', (e) => e.peers.some((p) => p.name === 'qt'));
    await qt.register(port);
    await qt.until(() => qt.list.length === 2, 2_000, 'a list of two');
    await listed;
    return { registry: r, alice, alicePort, qt };
  }

  it('registers with a synack registry, byte for byte', async () => {
    const { registry: r, alicePort, qt } = await setUp();
    const list = `alice@127.0.0.1:${alicePort};qt@127.0.0.1:${qt.port}`;
    expect(qt.registry!.text()).toBe(`GREETING 19 Register ValidationPEERLIST ${list.length} ${list}`);
    expect(r.peers().map((p) => p.name)).toEqual(['alice', 'qt']);
  });

  it('chats with a synack peer on a link it opens, and gets the reply on that link', async () => {
    const { alice, alicePort, qt } = await setUp();
    const received = next(alice, 'chat');
    const link = await qt.chat('alice', 'hello from Qt');
    expect(await received).toMatchObject({ from: 'qt', text: 'hello from Qt' });
    expect(await link.next((f) => f.type === 'GREETING')).toEqual({ type: 'GREETING', payload: `alice:127.0.0.1:${alicePort}` });
    await alice.send('qt', 'hi Qt');
    expect(await link.next((f) => f.type === 'MESSAGE')).toEqual({ type: 'MESSAGE', payload: 'hi Qt' });
    expect(alice.links()).toMatchObject([{ direction: 'in', name: 'qt' }]);
  });

  it('accepts a link a synack peer opens, greeting back as the Qt client does', async () => {
    const { alice, alicePort, qt } = await setUp();
    await alice.send('qt', 'ping');
    await qt.until(() => (qt.chatLinks[0]?.frames.length ?? 0) >= 2, 2_000, 'greeting and message');
    const link = qt.chatLinks[0]!;
    expect(link.text()).toBe(`GREETING ${`alice:127.0.0.1:${alicePort}`.length} alice:127.0.0.1:${alicePort}MESSAGE 4 ping`);
    const pong = next(alice, 'chat');
    link.write('MESSAGE', 'pong');
    expect(await pong).toMatchObject({ from: 'qt', text: 'pong' });
  });
});
