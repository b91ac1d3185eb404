import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { ClientTable } from '../../src/machines/client-table.js';
import { listenerMachine } from '../../src/machines/listener.js';
import {
  endpointIp,
  normalizeIp,
  ownsAddress,
  PeerBook,
  REGISTRY_REFUSED,
  registryMachine,
  registrySampleEvents,
  registryState,
  type RegistryEmitted,
  type RegistryEvent,
  type RegistryInput,
  type RegistryLinkCommand,
  type RegistryLinksInput,
} from '../../src/machines/registry.js';
import { exploreModel } from '../../src/testing/graph.js';
import { fakeListenSocket, waitFor } from '../helpers.js';
import { expectFullCoverage, stillListener } from '../model.js';
import { actorsUnderFakeTimers, frame, RawLink, startWatched } from '../p2p-helpers.js';

const alice = { name: 'alice', host: '127.0.0.1', port: 9001 };
const bob = { name: 'bob', host: '127.0.0.1', port: 9002 };

describe('registry addresses', () => {
  it('normalises IPv4-mapped IPv6 addresses and reads the IP of an endpoint', () => {
    expect(normalizeIp('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('FE80::1')).toBe('fe80::1');
    expect(endpointIp('[::ffff:127.0.0.1]:5000')).toBe('127.0.0.1');
    expect(endpointIp('[::1]:5000')).toBe('::1');
    expect(endpointIp('10.0.0.2:5000')).toBe('10.0.0.2');
  });

  it('lets a peer advertise the address its link comes from', () => {
    expect(ownsAddress('10.0.0.9', '10.0.0.9', 'own', [])).toBe(true);
    expect(ownsAddress('10.0.0.9', '::ffff:10.0.0.9', 'own', [])).toBe(true);
    expect(ownsAddress('10.0.0.8', '10.0.0.9', 'own', [])).toBe(false);
  });

  it('lets a peer on this host advertise any address of this host, and nothing else', () => {
    const local = ['127.0.0.1', '192.168.1.5', '::1'];
    expect(ownsAddress('192.168.1.5', '127.0.0.1', 'own', local)).toBe(true);
    expect(ownsAddress('127.0.0.1', '192.168.1.5', 'own', local)).toBe(true);
    expect(ownsAddress('192.0.2.7', '127.0.0.1', 'own', local)).toBe(false);
    expect(ownsAddress('127.0.0.1', '10.0.0.9', 'own', local)).toBe(false);
  });

  it('lets private addresses vouch for each other only under the private policy, and anything under any', () => {
    expect(ownsAddress('192.168.1.7', '10.0.0.9', 'own', [])).toBe(false);
    expect(ownsAddress('192.168.1.7', '10.0.0.9', 'private', [])).toBe(true);
    expect(ownsAddress('203.0.113.5', '10.0.0.9', 'private', [])).toBe(false);
    expect(ownsAddress('203.0.113.5', '10.0.0.9', 'any', [])).toBe(true);
  });
});

describe('peer book', () => {
  function greeted(book: PeerBook, id: string, peer = alice) {
    book.openLink(id, `${peer.host}:4${id.slice(1).padStart(4, '0')}`);
    book.greet(id, peer);
  }

  it('adds a peer, refreshes it without changing the list, and owes each registrant the list', () => {
    const book = new PeerBook();
    greeted(book, 'c1');
    expect(book.register('c1', alice, 1_000, 22_000).kind).toBe('added');
    const version = book.version;
    expect(book.register('c1', alice, 5_000, 22_000).kind).toBe('refreshed');
    expect(book.version).toBe(version);
    expect(book.takeOwed()).toEqual(['c1']);
    expect(book.takeOwed()).toEqual([]);
    expect(book.nextExpiry).toBe(27_000);
  });

  it('shows a link from an IPv4-mapped address as IPv4', () => {
    const link = new PeerBook().openLink('c1', '[::ffff:10.0.0.9]:4000');
    expect(link).toMatchObject({ peer: '10.0.0.9:4000', remote: '10.0.0.9' });
  });

  it('refuses a name held by another address and keeps the holder', () => {
    const book = new PeerBook();
    greeted(book, 'c1');
    book.register('c1', alice, 0, 22_000);
    greeted(book, 'c2', { ...alice, port: 9999 });
    const outcome = book.register('c2', { ...alice, port: 9999 }, 0, 22_000);
    expect(outcome).toMatchObject({ kind: 'taken', holder: { peer: alice, link: 'c1' } });
    expect(book.list()).toEqual([alice]);
  });

  it('moves a registration to a newer link from the same address', () => {
    const book = new PeerBook();
    greeted(book, 'c1');
    book.register('c1', alice, 0, 22_000);
    greeted(book, 'c2');
    expect(book.register('c2', alice, 10, 22_000)).toMatchObject({ kind: 'moved', previousLink: 'c1' });
    expect(book.dropLink('c1')).toBeUndefined();
    expect(book.entryOf('c2')?.peer).toEqual(alice);
  });

  it('expires entries in refresh order, oldest first, and only those due', () => {
    const book = new PeerBook();
    greeted(book, 'c1');
    greeted(book, 'c2', bob);
    book.register('c1', alice, 0, 100);
    book.register('c2', bob, 10, 100);
    book.register('c1', alice, 20, 100);
    expect(book.nextExpiry).toBe(110);
    expect(book.expire(109)).toEqual([]);
    expect(book.expire(110).map((e) => e.peer.name)).toEqual(['bob']);
    expect(book.list()).toEqual([alice]);
  });

  it('builds the PEERLIST frame once per change and lists peers in the order they joined', () => {
    const book = new PeerBook();
    greeted(book, 'c1');
    greeted(book, 'c2', bob);
    book.register('c1', alice, 0, 100);
    book.register('c2', bob, 0, 100);
    const first = book.listFrame();
    expect(first.toString()).toBe('PEERLIST 39 alice@127.0.0.1:9001;bob@127.0.0.1:9002');
    book.register('c1', alice, 50, 100);
    expect(book.listFrame()).toBe(first);
    book.dropLink('c1');
    expect(book.listFrame().toString()).toBe('PEERLIST 18 bob@127.0.0.1:9002');
  });
});

/** A stand-in for the registry's links effect: records commands, sends PEER.* events back. */
function fakeRegistryLinks() {
  const commands: RegistryLinkCommand[] = [];
  let sendBack: ((event: RegistryEvent) => void) | undefined;
  const logic = fromCallback<RegistryLinkCommand, RegistryLinksInput, RegistryEvent>(({ sendBack: back, receive }) => {
    sendBack = back;
    receive((command) => commands.push(command));
    return () => {
      if (sendBack === back) sendBack = undefined;
    };
  });
  return {
    logic,
    commands,
    emit(event: RegistryEvent) {
      if (!sendBack) throw new Error(`fakeRegistryLinks: no live links effect to emit ${event.type}`);
      sendBack(event);
    },
    /** Commands since the last call, as readable strings. */
    take(): string[] {
      return commands.splice(0).map((c) => {
        if (c.type === 'CLOSE') return `CLOSE ${c.id}`;
        if (c.type === 'WRITE') return `WRITE ${c.id} ${c.data.toString()}`;
        return `BROADCAST ${c.ids.join(',')} ${c.data.toString()}`;
      });
    },
  };
}

describe('registry', () => {
  const running = actorsUnderFakeTimers();

  function start(input: Partial<RegistryInput> = {}) {
    const socket = fakeListenSocket();
    const links = fakeRegistryLinks();
    const machine = registryMachine.provide({
      actors: { listener: listenerMachine.provide({ actors: { listenSocket: socket.logic } }), registryLinks: links.logic },
    });
    const actor = createActor(machine, { input: { port: 9000, localAddresses: ['127.0.0.1'], ...input } });
    const { log, errors } = startWatched(actor, ['joined', 'left', 'refused', 'list'], running);
    socket.emit({ type: 'LISTEN.LISTENING', host: '127.0.0.1', port: 9000, address: '127.0.0.1:9000' });
    expect(registryState(actor.getSnapshot())).toBe('LISTENING');
    const open = (id: string, peer = `127.0.0.1:4${id.slice(1).padStart(4, '0')}`) => links.emit({ type: 'PEER.OPENED', id, peer });
    const frames = (id: string, ...list: [string, string][]) =>
      links.emit({ type: 'PEER.FRAMES', id, frames: list.map(([type, payload]) => ({ type, payload })) });
    const join = (id: string, peer = alice) => {
      open(id);
      frames(id, ['GREETING', `${peer.name}:${peer.host}:${peer.port}`], ['REGISTER', `${peer.name}@${peer.host}:${peer.port}`]);
    };
    return { actor, socket, links, log, errors, open, frames, join, context: () => actor.getSnapshot().context };
  }

  it('answers a greeting with "Register Validation" and each REGISTER with the list', () => {
    const r = start();
    r.join('c1');
    expect(r.links.take()).toEqual(['WRITE c1 GREETING 19 Register Validation']);
    vi.advanceTimersByTime(0);
    expect(r.links.take()).toEqual(['BROADCAST c1 PEERLIST 20 alice@127.0.0.1:9001']);
    r.frames('c1', ['REGISTER', 'alice@127.0.0.1:9001']);
    vi.advanceTimersByTime(0);
    expect(r.links.take()).toEqual(['BROADCAST c1 PEERLIST 20 alice@127.0.0.1:9001']);
    expect(r.context()).toMatchObject({ stats: { broadcasts: 1, answers: 1 }, peerCount: 1 });
    expect(r.log.map((e) => e.type)).toEqual(['joined', 'list']);
  });

  it('broadcasts the full list to every registered peer when someone joins', () => {
    const r = start();
    r.join('c1');
    vi.advanceTimersByTime(0);
    r.links.take();
    r.open('c3');
    r.join('c2', bob);
    vi.advanceTimersByTime(0);
    expect(r.links.take()).toEqual([
      'WRITE c2 GREETING 19 Register Validation',
      'BROADCAST c1,c2 PEERLIST 39 alice@127.0.0.1:9001;bob@127.0.0.1:9002',
    ]);
  });

  it('coalesces a thousand joins in one tick into one broadcast of the full list', () => {
    const r = start();
    for (let i = 1; i <= 1_000; i++) r.join(`c${i}`, { name: `p${i}`, host: '127.0.0.1', port: 10_000 + i });
    r.links.commands.splice(0).filter((c) => c.type !== 'WRITE');
    vi.advanceTimersByTime(0);
    const broadcasts = r.links.commands.filter((c) => c.type === 'BROADCAST');
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]!.type === 'BROADCAST' && broadcasts[0]!.ids.length).toBe(1_000);
    expect(r.context()).toMatchObject({ peerCount: 1_000, stats: { broadcasts: 1 } });
  });

  it('waits longer between broadcasts when the last one was costly', () => {
    const r = start({ coalesce: { factor: 4 } });
    r.join('c1');
    vi.advanceTimersByTime(0);
    r.links.take();
    r.links.emit({ type: 'PEER.LIST_SENT', ms: 50, bytes: 1_000, writes: 1 });
    r.join('c2', bob);
    vi.advanceTimersByTime(199);
    expect(r.links.take()).toEqual(['WRITE c2 GREETING 19 Register Validation']);
    vi.advanceTimersByTime(1);
    expect(r.links.take()).toEqual(['BROADCAST c1,c2 PEERLIST 39 alice@127.0.0.1:9001;bob@127.0.0.1:9002']);
  });

  it('evicts a peer that stops registering when its 22 s run out, closes its link and tells the others', () => {
    const r = start();
    r.join('c1');
    vi.advanceTimersByTime(5_000);
    r.join('c2', bob);
    vi.advanceTimersByTime(10_000);
    r.frames('c2', ['REGISTER', 'bob@127.0.0.1:9002']);
    vi.advanceTimersByTime(0);
    r.links.take();
    vi.advanceTimersByTime(22_000 - 15_000 - 1);
    expect(r.context().peerCount).toBe(2);
    vi.advanceTimersByTime(1);
    expect(r.context().peerCount).toBe(1);
    expect(r.links.take()).toEqual(['CLOSE c1']);
    // A timer set while fake time advances fires 1 ms later at the earliest.
    vi.advanceTimersByTime(1);
    expect(r.links.take()).toEqual(['BROADCAST c2 PEERLIST 18 bob@127.0.0.1:9002']);
    expect(r.log.at(-2)).toMatchObject({ type: 'left', link: 'c1', entry: alice, reason: 'expired: no REGISTER for 22000 ms', peers: 1 });
    r.frames('c2', ['REGISTER', 'bob@127.0.0.1:9002']);
    vi.advanceTimersByTime(21_999);
    expect(r.context().peerCount).toBe(1);
  });

  it('uses the configured ttl', () => {
    const r = start({ ttlMs: 1_000 });
    r.join('c1');
    vi.advanceTimersByTime(999);
    expect(r.context().peerCount).toBe(1);
    vi.advanceTimersByTime(1);
    expect(r.context().peerCount).toBe(0);
    expect(registryState(r.actor.getSnapshot())).toBe('LISTENING');
  });

  it('refuses a name held by another address with E_NAME_TAKEN, and keeps the holder', () => {
    const r = start();
    r.join('c1');
    vi.advanceTimersByTime(0);
    r.links.take();
    r.join('c2', { ...alice, port: 9999 });
    const [greetingAnswer, refusal, close] = r.links.take();
    expect(greetingAnswer).toBe('WRITE c2 GREETING 19 Register Validation');
    expect(refusal).toMatch(/^WRITE c2 GREETING \d+ Register Refused: E_NAME_TAKEN name "alice" is registered from 127\.0\.0\.1:9001/);
    expect(close).toBe('CLOSE c2');
    expect(r.log.at(-1)).toMatchObject({ type: 'refused', link: 'c2', error: { code: 'E_NAME_TAKEN' } });
    expect(r.context().book.list()).toEqual([alice]);
  });

  it('moves a registration to a newer link from the same address and closes the old link', () => {
    const r = start();
    r.join('c1');
    vi.advanceTimersByTime(0);
    r.links.take();
    r.join('c2');
    vi.advanceTimersByTime(0);
    expect(r.links.take()).toEqual(['WRITE c2 GREETING 19 Register Validation', 'CLOSE c1', 'BROADCAST c2 PEERLIST 20 alice@127.0.0.1:9001']);
    r.links.emit({ type: 'PEER.CLOSED', id: 'c1', reason: 'closed', error: null });
    expect(r.context().book.entryOf('c2')?.peer).toEqual(alice);
  });

  it('drops a peer whose link fails and broadcasts the new list', () => {
    const r = start();
    r.join('c1');
    r.join('c2', bob);
    vi.advanceTimersByTime(0);
    r.links.take();
    r.links.emit({ type: 'PEER.CLOSED', id: 'c1', reason: 'reset', error: { code: 'E_CONN_RESET', message: 'read ECONNRESET' } });
    vi.advanceTimersByTime(0);
    expect(r.links.take()).toEqual(['BROADCAST c2 PEERLIST 18 bob@127.0.0.1:9002']);
    expect(r.log.at(-2)).toMatchObject({ type: 'left', entry: alice, reason: 'link reset: read ECONNRESET' });
  });

  describe('bad input', () => {
    const cases: { what: string; frames: [string, string][]; code: string; message: RegExp }[] = [
      { what: 'a first frame other than GREETING', frames: [['REGISTER', 'bob@127.0.0.1:9002']], code: 'E_PROTOCOL', message: /first frame must be GREETING, got REGISTER/ },
      { what: 'a greeting that is not name:ip:port', frames: [['GREETING', 'bob@127.0.0.1:9002']], code: 'E_PROTOCOL', message: /malformed greeting "bob@127.0.0.1:9002"/ },
      { what: 'a greeting with a bad port', frames: [['GREETING', 'bob:127.0.0.1:99999']], code: 'E_PROTOCOL', message: /malformed greeting.*bad port/ },
      {
        what: 'a REGISTER that is not name@ip:port',
        frames: [['GREETING', 'bob:127.0.0.1:9002'], ['REGISTER', 'bob:127.0.0.1:9002']],
        code: 'E_PROTOCOL',
        message: /malformed REGISTER "bob:127.0.0.1:9002"/,
      },
      {
        what: 'a REGISTER naming another peer than the greeting',
        frames: [['GREETING', 'bob:127.0.0.1:9002'], ['REGISTER', 'carol@127.0.0.1:9002']],
        code: 'E_PROTOCOL',
        message: /does not match the greeting/,
      },
      {
        what: 'a greeting naming an address the link does not own',
        frames: [['GREETING', 'bob:192.0.2.7:9002']],
        code: 'E_PROTOCOL',
        message: /names 192\.0\.2\.7 but the link comes from 127\.0\.0\.1/,
      },
    ];

    for (const c of cases) {
      it(`closes only the link that sends ${c.what}, saying why`, () => {
        const r = start();
        r.join('c1');
        vi.advanceTimersByTime(0);
        r.links.take();
        r.open('c2');
        r.frames('c2', ...c.frames);
        const commands = r.links.take();
        expect(commands.at(-2)).toMatch(new RegExp(`^WRITE c2 GREETING \\d+ ${REGISTRY_REFUSED}${c.code} `));
        expect(commands.at(-1)).toBe('CLOSE c2');
        const refused = r.log.at(-1);
        expect(refused).toMatchObject({ type: 'refused', link: 'c2', peer: '127.0.0.1:40002', error: { code: c.code } });
        expect(refused?.type === 'refused' && refused.error.message).toMatch(c.message);
        r.frames('c2', ['REGISTER', 'bob@127.0.0.1:9002']);
        expect(r.links.take()).toEqual([]);
        r.frames('c1', ['REGISTER', 'alice@127.0.0.1:9001']);
        vi.advanceTimersByTime(0);
        expect(r.links.take()).toEqual(['BROADCAST c1 PEERLIST 20 alice@127.0.0.1:9001']);
      });
    }

    it('closes a link its links effect reports as failed (a bad frame or a timeout), and drops its entry', () => {
      const r = start();
      r.join('c1');
      r.join('c2', bob);
      vi.advanceTimersByTime(0);
      r.links.take();
      r.links.emit({ type: 'PEER.FAILED', id: 'c2', error: { code: 'E_TIMEOUT', message: 'frame stopped half-way: 10 bytes of a frame and no end within 40000 ms' } });
      vi.advanceTimersByTime(0);
      const commands = r.links.take();
      expect(commands[0]).toMatch(/^WRITE c2 GREETING \d+ Register Refused: E_TIMEOUT frame stopped half-way/);
      expect(commands.slice(1)).toEqual(['CLOSE c2', 'BROADCAST c1 PEERLIST 20 alice@127.0.0.1:9001']);
      expect(r.log.filter((e) => e.type === 'refused')).toMatchObject([{ link: 'c2', error: { code: 'E_TIMEOUT' } }]);
    });
  });

  it('fails when its listener cannot bind, and starts afresh when asked again', () => {
    const socket = fakeListenSocket();
    const links = fakeRegistryLinks();
    const machine = registryMachine.provide({
      actors: { listener: listenerMachine.provide({ actors: { listenSocket: socket.logic } }), registryLinks: links.logic },
    });
    const actor = createActor(machine, { input: { port: 9000 } }).start();
    running.push(actor);
    actor.send({ type: 'USER.START' });
    socket.emit({ type: 'LISTEN.ERROR', error: { code: 'E_ADDR_IN_USE', message: 'listen EADDRINUSE' } });
    expect(registryState(actor.getSnapshot())).toBe('FAILED');
    expect(actor.getSnapshot().context.lastError?.code).toBe('E_ADDR_IN_USE');
    actor.send({ type: 'USER.START' });
    expect(registryState(actor.getSnapshot())).toBe('BINDING');
  });

  it('stops by stopping its listener with its links', () => {
    const r = start();
    r.join('c1');
    r.actor.send({ type: 'USER.STOP' });
    expect(registryState(r.actor.getSnapshot())).toBe('CLOSING');
    expect(r.socket.commands).toEqual(['CLOSE']);
    r.socket.emit({ type: 'LISTEN.CLOSED' });
    expect(registryState(r.actor.getSnapshot())).toBe('STOPPED');
    expect(r.errors).toEqual([]);
  });
});

describe('registry model', () => {
  it('reaches every state and every transition along paths generated from its definition', () => {
    const listener = stillListener<RegistryEvent>('127.0.0.1', 9000);
    const model = registryMachine.provide({ actors: { listener: listener.logic, registryLinks: fakeRegistryLinks().logic } });
    const coverage = exploreModel(model, {
      events: [...registrySampleEvents, listener.listening],
      inputs: [{ port: 9000, localAddresses: ['127.0.0.1'], persistentBook: true }],
      // What the guards read, bounded (versions grow without end; the samples use two link ids).
      serializeContext: (c) => ({ links: c.linkCount, peers: c.peerCount, due: c.version !== c.announcedVersion || c.owed > 0 }),
      limit: 5_000,
    });
    expectFullCoverage(coverage);
  });
});

describe('registry over loopback', () => {
  const open: { stop(): void }[] = [];
  const sockets: RawLink[] = [];
  afterEach(() => {
    for (const link of sockets.splice(0)) link.destroy();
    for (const actor of open.splice(0)) actor.stop();
  });

  async function serve(input: Partial<RegistryInput> = {}) {
    const clients = new ClientTable();
    const actor = createActor(registryMachine, { input: { port: 0, localAddresses: ['127.0.0.1'], clients, ...input } });
    const log: RegistryEmitted[] = [];
    for (const type of ['joined', 'left', 'refused', 'list'] as const) actor.on(type, (e) => log.push(e));
    actor.start();
    open.push({ stop: () => (clients.closeAll({ abort: true }), actor.stop()) });
    actor.send({ type: 'USER.START' });
    const { context } = await waitFor(actor, (s) => registryState(s) === 'LISTENING');
    const connect = async () => {
      const link = await RawLink.connect(context.boundPort!);
      sockets.push(link);
      return link;
    };
    return { actor, log, connect, port: context.boundPort! };
  }

  async function registered(r: Awaited<ReturnType<typeof serve>>, name: string, port: number) {
    const link = await r.connect();
    link.socket.write(Buffer.concat([frame('GREETING', `${name}:127.0.0.1:${port}`), frame('REGISTER', `${name}@127.0.0.1:${port}`)]));
    await link.next((f) => f.type === 'PEERLIST' && f.payload.includes(`${name}@`), 2_000, `${name}'s list`);
    return link;
  }

  it('greets, registers and lists peers over real sockets, byte for byte', async () => {
    const r = await serve();
    const a = await registered(r, 'alice', 9001);
    expect(a.text()).toBe('GREETING 19 Register ValidationPEERLIST 20 alice@127.0.0.1:9001');
    const b = await registered(r, 'bob', 9002);
    const both = 'PEERLIST 39 alice@127.0.0.1:9001;bob@127.0.0.1:9002';
    await a.next((f) => f.payload.includes('bob'));
    expect(a.text()).toBe(`GREETING 19 Register ValidationPEERLIST 20 alice@127.0.0.1:9001${both}`);
    expect(b.text()).toBe(`GREETING 19 Register Validation${both}`);
  });

  const bad: { what: string; bytes: string; code: string; message: RegExp }[] = [
    { what: 'a first frame other than GREETING', bytes: 'REGISTER 20 carol@127.0.0.1:9003', code: 'E_PROTOCOL', message: /first frame must be GREETING, got REGISTER/ },
    { what: 'an unknown frame type', bytes: 'HELLO 2 hi', code: 'E_PROTOCOL', message: /unknown frame type starting "H"/ },
    { what: 'a chat MESSAGE, unknown on a registry link', bytes: 'MESSAGE 2 hi', code: 'E_PROTOCOL', message: /unknown frame type starting "M"/ },
    { what: 'a length that is not a number', bytes: 'GREETING twenty carol:127.0.0.1:9003', code: 'E_PROTOCOL', message: /length is not a decimal number: "t"/ },
    { what: 'a negative length', bytes: 'GREETING -20 carol:127.0.0.1:9003', code: 'E_PROTOCOL', message: /length is not a decimal number: "-"/ },
    { what: 'a length over 1,024,000 bytes', bytes: 'GREETING 1024001 ', code: 'E_FRAME_TOO_LARGE', message: /1024001 bytes exceeds the limit of 1024000/ },
    { what: 'a malformed name:ip:port', bytes: 'GREETING 12 carol:nohost', code: 'E_PROTOCOL', message: /malformed greeting "carol:nohost"/ },
    {
      what: 'a malformed name@ip:port',
      bytes: 'GREETING 20 carol:127.0.0.1:9003REGISTER 14 carol@9003:127',
      code: 'E_PROTOCOL',
      message: /malformed REGISTER "carol@9003:127"/,
    },
    { what: 'an address it does not own', bytes: 'GREETING 20 carol:192.0.2.7:9003', code: 'E_PROTOCOL', message: /names 192\.0\.2\.7 but the link comes from 127\.0\.0\.1/ },
  ];

  for (const c of bad) {
    it(`closes only the link that sends ${c.what}, logs why, and keeps serving the others`, async () => {
      const r = await serve();
      const good = await registered(r, 'alice', 9001);
      const link = await r.connect();
      link.socket.write(c.bytes);
      await link.waitClosed();
      expect(link.text()).toMatch(new RegExp(`GREETING \\d+ ${REGISTRY_REFUSED}${c.code} `));
      const refused = r.log.find((e) => e.type === 'refused');
      expect(refused).toMatchObject({ type: 'refused', error: { code: c.code } });
      expect(refused?.type === 'refused' && refused.error.message).toMatch(c.message);
      good.write('REGISTER', 'alice@127.0.0.1:9001');
      await good.next((f) => f.type === 'PEERLIST');
      expect(good.isClosed).toBe(false);
      expect(r.actor.getSnapshot().context.book.list().map((p) => p.name)).toEqual(['alice']);
    });
  }

  it('closes a link whose frame stops half-way once the frame timeout passes', async () => {
    const r = await serve({ frameTimeoutMs: 150 });
    const good = await registered(r, 'alice', 9001);
    const link = await r.connect();
    link.socket.write('GREETING 20 carol:127.0');
    await link.waitClosed();
    expect(r.log.find((e) => e.type === 'refused')).toMatchObject({
      error: { code: 'E_TIMEOUT', message: 'frame stopped half-way: 23 bytes of a frame and no end within 150 ms' },
    });
    good.write('REGISTER', 'alice@127.0.0.1:9001');
    await good.next((f) => f.type === 'PEERLIST');
    expect(good.isClosed).toBe(false);
  });

  it('closes a link that connects and never sends a frame', async () => {
    const r = await serve({ frameTimeoutMs: 150 });
    const link = await r.connect();
    await link.waitClosed();
    expect(r.log.find((e) => e.type === 'refused')).toMatchObject({ error: { code: 'E_TIMEOUT', message: 'no frame within 150 ms of connecting' } });
  });

  it('closes a link that greets and never registers', async () => {
    const r = await serve({ frameTimeoutMs: 150 });
    const link = await r.connect();
    link.write('GREETING', 'carol:127.0.0.1:9003');
    await link.next((f) => f.payload === 'Register Validation');
    await link.waitClosed();
    expect(r.log.find((e) => e.type === 'refused')).toMatchObject({ error: { code: 'E_TIMEOUT', message: 'no REGISTER within 150 ms' } });
  });

  it('evicts a peer whose socket fails, closing it and telling the others', async () => {
    const r = await serve();
    const a = await registered(r, 'alice', 9001);
    const b = await registered(r, 'bob', 9002);
    await a.next((f) => f.payload.includes('bob'));
    b.socket.resetAndDestroy();
    await a.next((f) => f.type === 'PEERLIST' && !f.payload.includes('bob'));
    expect(r.log.find((e) => e.type === 'left')).toMatchObject({ entry: { name: 'bob' }, reason: expect.stringMatching(/^link reset/) });
  });
});
