import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { ClientTable } from '../../src/machines/client-table.js';
import { listenerMachine, listenerState } from '../../src/machines/listener.js';
import {
  ChatLinks,
  peerMachine,
  peerSampleEvents,
  peerState,
  type ChatLinkEvent,
  type PeerEvent,
  type PeerInput,
  type PeerLinkCommand,
  type PeerLinkInput,
} from '../../src/machines/peer.js';
import { exploreModel } from '../../src/testing/graph.js';
import { Cleanup, fakeListenSocket, firstValue, freePort, listenRaw, waitFor } from '../helpers.js';
import { expectFullCoverage, stillListener } from '../model.js';
import { actorsUnderFakeTimers, frame, RawLink, startWatched } from '../p2p-helpers.js';

/** A stand-in for the peer's registry link effect: records what it is asked to send. */
function fakeRegistryLink() {
  const sent: string[] = [];
  const inputs: PeerLinkInput[] = [];
  let sendBack: ((event: PeerEvent) => void) | undefined;
  let stopped = 0;
  const logic = fromCallback<PeerLinkCommand, PeerLinkInput, PeerEvent>(({ input, sendBack: back, receive }) => {
    inputs.push(input);
    sendBack = back;
    receive((command) => sent.push(command.data.toString()));
    return () => {
      stopped++;
      if (sendBack === back) sendBack = undefined;
    };
  });
  return {
    logic,
    sent,
    inputs,
    get stopped() {
      return stopped;
    },
    emit(event: PeerEvent) {
      if (!sendBack) throw new Error(`fakeRegistryLink: no live link to emit ${event.type}`);
      sendBack(event);
    },
  };
}

const up: PeerEvent = { type: 'REGISTRY.UP', local: '127.0.0.1:50000', peer: '127.0.0.1:9000' };
const list = (payload: string): PeerEvent => ({ type: 'REGISTRY.FRAMES', frames: [{ type: 'GREETING', payload: 'Register Validation' }, { type: 'PEERLIST', payload }] });

describe('peer', () => {
  const running = actorsUnderFakeTimers();

  function start(input: Partial<PeerInput> = {}) {
    const socket = fakeListenSocket();
    const registry = fakeRegistryLink();
    const machine = peerMachine.provide({
      actors: { listener: listenerMachine.provide({ actors: { listenSocket: socket.logic } }), registryLink: registry.logic },
    });
    const actor = createActor(machine, { input: { name: 'alice', registry: { host: '127.0.0.1', port: 9000 }, ...input } });
    const { log, errors } = startWatched(actor, ['registry-up', 'registry-down', 'reconnecting', 'registered', 'peers', 'error'], running);
    return { actor, socket, registry, log, errors, state: () => peerState(actor.getSnapshot()), context: () => actor.getSnapshot().context };
  }

  function listening(input: Partial<PeerInput> = {}) {
    const p = start(input);
    p.socket.emit({ type: 'LISTEN.LISTENING', host: '0.0.0.0', port: 9001, address: '0.0.0.0:9001' });
    return p;
  }

  it('listens for chat first, and dials the registry once it knows its chat port', () => {
    const p = start();
    expect(p.state()).toEqual({ chat: 'BINDING', registry: 'WAITING' });
    expect(p.registry.inputs).toEqual([]);
    p.socket.emit({ type: 'LISTEN.LISTENING', host: '0.0.0.0', port: 9001, address: '0.0.0.0:9001' });
    expect(p.state()).toEqual({ chat: 'LISTENING', registry: 'CONNECTING' });
    expect(p.registry.inputs).toMatchObject([{ host: '127.0.0.1', port: 9000, retry: { attempts: Number.POSITIVE_INFINITY, baseMs: 500, maxMs: 10_000 } }]);
  });

  it('greets and registers the moment the registry link is up, advertising the address it reaches the registry from', () => {
    const p = listening();
    p.registry.emit(up);
    expect(p.registry.sent).toEqual(['GREETING 20 alice:127.0.0.1:9001REGISTER 20 alice@127.0.0.1:9001']);
    expect(p.state().registry).toBe('HANDSHAKE');
    expect(p.context().self).toEqual({ name: 'alice', host: '127.0.0.1', port: 9001 });
  });

  it('advertises the address it is told to instead', () => {
    const p = listening({ advertise: '192.168.1.5' });
    p.registry.emit(up);
    expect(p.registry.sent).toEqual(['GREETING 22 alice:192.168.1.5:9001REGISTER 22 alice@192.168.1.5:9001']);
  });

  it('is registered once the list comes back, and lists the other peers but not itself', () => {
    const p = listening();
    p.registry.emit(up);
    p.registry.emit(list('alice@127.0.0.1:9001;bob@127.0.0.1:9002'));
    expect(p.state().registry).toBe('REGISTERED');
    expect(p.context().peers).toEqual([{ name: 'bob', host: '127.0.0.1', port: 9002 }]);
    expect(p.log.filter((e) => e.type !== 'registry-up')).toEqual([
      { type: 'peers', peers: [{ name: 'bob', host: '127.0.0.1', port: 9002 }] },
      { type: 'registered', self: { name: 'alice', host: '127.0.0.1', port: 9001 }, registry: '127.0.0.1:9000' },
    ]);
    p.registry.emit(list('alice@127.0.0.1:9001;bob@127.0.0.1:9002'));
    expect(p.log.filter((e) => e.type === 'peers')).toHaveLength(1);
  });

  it('re-registers every 15 s while the link is up', () => {
    const p = listening();
    p.registry.emit(up);
    p.registry.emit(list('alice@127.0.0.1:9001'));
    p.registry.sent.splice(0);
    vi.advanceTimersByTime(14_999);
    expect(p.registry.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(p.registry.sent).toEqual(['REGISTER 20 alice@127.0.0.1:9001']);
    vi.advanceTimersByTime(15_000);
    expect(p.registry.sent).toHaveLength(2);
  });

  it('keeps its list when the registry goes away, reports the reconnects, and registers again when it is back', () => {
    const p = listening();
    p.registry.emit(up);
    p.registry.emit(list('alice@127.0.0.1:9001;bob@127.0.0.1:9002'));
    p.registry.emit({ type: 'REGISTRY.DOWN', reason: 'peer-closed', error: null });
    p.registry.emit({ type: 'REGISTRY.RETRYING', attempt: 1, delayMs: 480 });
    expect(p.state().registry).toBe('CONNECTING');
    expect(p.context().peers.map((peer) => peer.name)).toEqual(['bob']);
    vi.advanceTimersByTime(60_000);
    p.registry.sent.splice(0);
    p.registry.emit(up);
    expect(p.registry.sent).toEqual(['GREETING 20 alice:127.0.0.1:9001REGISTER 20 alice@127.0.0.1:9001']);
    p.registry.emit(list('alice@127.0.0.1:9001;bob@127.0.0.1:9002'));
    expect(p.state().registry).toBe('REGISTERED');
    expect(p.context().registrations).toBe(2);
    expect(p.log.map((e) => e.type)).toEqual(['registry-up', 'peers', 'registered', 'registry-down', 'reconnecting', 'registry-up', 'registered']);
  });

  it('backs off when the registry refuses it, saying why, then dials again', () => {
    const p = listening({ backoff: { baseMs: 1_000, jitter: 0 } });
    p.registry.emit(up);
    p.registry.emit({
      type: 'REGISTRY.FRAMES',
      frames: [{ type: 'GREETING', payload: 'Register Refused: E_NAME_TAKEN name "alice" is registered from 10.0.0.5:9001' }],
    });
    expect(p.state().registry).toBe('BACKOFF');
    expect(p.registry.stopped).toBe(1);
    expect(p.log.at(-1)).toEqual({
      type: 'error',
      error: { code: 'E_NAME_TAKEN', message: 'the registry refused us: name "alice" is registered from 10.0.0.5:9001' },
    });
    vi.advanceTimersByTime(999);
    expect(p.registry.inputs).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(p.state().registry).toBe('CONNECTING');
    expect(p.registry.inputs).toHaveLength(2);
  });

  it('backs off when the registry link breaks the protocol', () => {
    const p = listening();
    p.registry.emit(up);
    p.registry.emit({ type: 'REGISTRY.BROKEN', error: { code: 'E_PROTOCOL', message: 'unknown frame type starting "X"' } });
    expect(p.state().registry).toBe('BACKOFF');
    expect(p.log.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_PROTOCOL', message: 'registry link: unknown frame type starting "X"' } });
  });

  it('gives up when a finite retry budget runs out, and dials again when asked', () => {
    const p = listening({ registryRetry: { attempts: 2 } });
    p.registry.emit({ type: 'REGISTRY.FAILED', error: { code: 'E_CONN_REFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9000' } });
    expect(p.state().registry).toBe('GAVE_UP');
    expect(p.log.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_CONN_REFUSED', message: 'gave up on the registry: connect ECONNREFUSED 127.0.0.1:9000' } });
    p.actor.send({ type: 'USER.RECONNECT' });
    expect(p.state().registry).toBe('CONNECTING');
  });

  it('skips malformed entries of a list, saying so', () => {
    const p = listening();
    p.registry.emit(up);
    p.registry.emit(list('bob@127.0.0.1:9002;carol@[::1:9003;dave@::1:9004'));
    expect(p.context().peers.map((peer) => peer.name)).toEqual(['bob']);
    expect(p.log.find((e) => e.type === 'error')).toMatchObject({ error: { code: 'E_PROTOCOL', message: expect.stringMatching(/^registry list: skipped 2 malformed entries/) } });
  });

  it('reports a chat port it cannot bind and does not dial the registry', () => {
    const p = start();
    p.socket.emit({ type: 'LISTEN.ERROR', error: { code: 'E_ADDR_IN_USE', message: 'listen EADDRINUSE 0.0.0.0:9001' } });
    expect(p.state()).toEqual({ chat: 'FAILED', registry: 'WAITING' });
    expect(p.context().lastError?.code).toBe('E_ADDR_IN_USE');
  });

  it('stops everything when asked', () => {
    const p = listening();
    p.registry.emit(up);
    p.actor.send({ type: 'USER.STOP' });
    expect(p.state()).toEqual({ chat: 'STOPPED', registry: 'STOPPED' });
    expect(p.registry.stopped).toBe(1);
    expect(p.errors).toEqual([]);
  });
});

describe('peer model', () => {
  it('reaches every state and every transition along paths generated from its definition', () => {
    const listener = stillListener<PeerEvent>('0.0.0.0', 9001);
    const model = peerMachine.provide({ actors: { listener: listener.logic, registryLink: fakeRegistryLink().logic } });
    const coverage = exploreModel(model, {
      events: [...peerSampleEvents, listener.listening],
      inputs: [{ name: 'alice', registry: { host: '127.0.0.1', port: 9000 } }],
      serializeContext: (c) => ({ listener: c.listener, peers: c.peers.length, registered: c.registrations > 0 }),
    });
    expectFullCoverage(coverage);
  });
});

describe('chat links', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function acceptingLinks(options: { frameTimeoutMs?: number } = {}) {
    const clients = new ClientTable({ idPrefix: 'in' });
    const listener = cleanup.actor(createActor(listenerMachine, { input: { port: 0, clients } }).start());
    cleanup.add(clients, (table) => table.closeAll({ abort: true }));
    listener.send({ type: 'USER.LISTEN' });
    const { context } = await waitFor(listener, (s) => listenerState(s) === 'LISTENING');
    const links = new ChatLinks({ inbound: clients, connectTimeoutMs: 1_000, ...options });
    cleanup.add(links, (l) => {
      l.closeAll({ abort: true });
      l.dispose();
    });
    links.setSelf({ name: 'alice', host: '127.0.0.1', port: context.boundPort! });
    const events: ChatLinkEvent[] = [];
    links.events$.subscribe((e) => events.push(e));
    const next = <T extends ChatLinkEvent['type']>(type: T) =>
      firstValue(links.events$, (e) => e.type === type, 2_000, type) as Promise<Extract<ChatLinkEvent, { type: T }>>;
    const connect = async () => cleanup.add(await RawLink.connect(context.boundPort!), (l) => l.destroy());
    return { links, events, next, connect, port: context.boundPort! };
  }

  it('opens a direct link on the first message, greets, and reuses the link for the next', async () => {
    const { links, port } = await acceptingLinks();
    let accept: (link: RawLink) => void = () => {};
    const accepted = new Promise<RawLink>((resolve) => (accept = resolve));
    const remote = await listenRaw((socket) => accept(new RawLink(socket)));
    cleanup.server(remote.server, remote.sockets);
    await links.send({ name: 'bob', host: '127.0.0.1', port: remote.port }, 'hi bob');
    await links.send({ name: 'bob' }, 'again');
    const bob = await accepted;
    await bob.next((f) => f.payload === 'again');
    expect(bob.frames).toEqual([
      { type: 'GREETING', payload: `alice:127.0.0.1:${port}` },
      { type: 'MESSAGE', payload: 'hi bob' },
      { type: 'MESSAGE', payload: 'again' },
    ]);
    expect(remote.sockets.size).toBe(1);
    expect(links.list()).toMatchObject([{ direction: 'out', name: 'bob', open: true }]);
  });

  it('answers a greeting on an accepted link, delivers its messages, and replies on the same link', async () => {
    const { links, next, connect, port } = await acceptingLinks();
    const bob = await connect();
    const upEvent = next('up');
    const messages = next('messages');
    bob.socket.write(Buffer.concat([frame('GREETING', 'bob:127.0.0.1:9002'), frame('MESSAGE', 'hello alice'), frame('MESSAGE', '你好 👋')]));
    expect(await upEvent).toMatchObject({ name: 'bob', direction: 'in' });
    expect(await messages).toMatchObject({ from: 'bob', texts: ['hello alice', '你好 👋'] });
    expect(await bob.next((f) => f.type === 'GREETING')).toEqual({ type: 'GREETING', payload: `alice:127.0.0.1:${port}` });
    await links.send({ name: 'bob', host: '127.0.0.1', port: 1 }, 'hi back');
    expect(await bob.next((f) => f.type === 'MESSAGE')).toEqual({ type: 'MESSAGE', payload: 'hi back' });
    expect(links.list()).toMatchObject([{ direction: 'in', name: 'bob' }]);
  });

  it('closes an accepted link whose first frame is not a GREETING', async () => {
    const { next, connect } = await acceptingLinks();
    const stranger = await connect();
    const refused = next('refused');
    stranger.socket.write(frame('MESSAGE', 'hi'));
    expect(await refused).toMatchObject({ error: { code: 'E_PROTOCOL', message: 'first frame must be GREETING, got MESSAGE' } });
    await stranger.waitClosed();
  });

  it('closes a chat link that sends a frame type the chat protocol does not have', async () => {
    const { next, connect } = await acceptingLinks();
    const stranger = await connect();
    const refused = next('refused');
    stranger.socket.write(Buffer.concat([frame('GREETING', 'bob:127.0.0.1:9002'), frame('PEERLIST', '')]));
    expect(await refused).toMatchObject({ name: 'bob', error: { code: 'E_PROTOCOL', message: 'unknown frame type starting "P"' } });
    await stranger.waitClosed();
  });

  it('closes a chat link whose frame stops half-way', async () => {
    const { next, connect } = await acceptingLinks({ frameTimeoutMs: 100 });
    const slow = await connect();
    const refused = next('refused');
    slow.socket.write(Buffer.concat([frame('GREETING', 'bob:127.0.0.1:9002'), Buffer.from('MESSAGE 10 hel')]));
    expect(await refused).toMatchObject({ error: { code: 'E_TIMEOUT', message: 'frame stopped half-way: 14 bytes of a frame and no end within 100 ms' } });
    await slow.waitClosed();
  });

  it('refuses an empty message, itself, and a name it has neither a link nor an address for', async () => {
    const { links } = await acceptingLinks();
    await expect(links.send({ name: 'bob', host: '127.0.0.1', port: 9 }, '')).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(links.send({ name: 'alice', host: '127.0.0.1', port: 9 }, 'me')).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(links.send({ name: 'nobody' }, 'hello?')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(links.size).toBe(0);
  });

  it('fails the messages queued for a peer it cannot reach', async () => {
    const { links, next } = await acceptingLinks();
    const port = await freePort();
    const down = next('down');
    await expect(links.send({ name: 'ghost', host: '127.0.0.1', port }, 'anyone?')).rejects.toMatchObject({ code: 'E_CONN_REFUSED' });
    expect(await down).toMatchObject({ name: 'ghost', reason: 'failed' });
    expect(links.size).toBe(0);
  });
});

