/**
 * Actor overhead with XState inspection off and on, measured in a process of its own:
 * `node --import tsx bench/load/inspection-worker.ts`, then `run {events, rounds}` →
 * `result {…}` (nanoseconds per event, medians of alternating rounds).
 *
 * 1. connection machine: an accepted connection (its socket link replaced by a no-op, so only
 *    the machine runs) processing SOCKET.DATA and USER.SEND alternately, created with
 *    `createActor(…)` (off) or `createActor(…, { inspect: () => {} })` (on).
 * 2. synack Server: `server.send(id, bytes)` to a real accepted connection (listener actor →
 *    client table → connection actor → socket, and a `sent` event on `events$`), the Server path
 *    with actor events (received chunks have none); default Server (off) vs one whose Supervisor
 *    has a no-op `inspect` (on), paired round by round. Also reports whether the default
 *    Server's connection actors carry an inspection observer.
 * 3. reference: the same bookkeeping as a plain function (no actor), to show the actor's own cost.
 */
import net from 'node:net';
import { once } from 'node:events';
import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import { connectionMachine } from '../../dist/machines/connection.js';
import { createServer, Supervisor, type Server } from '../../dist/index.js';
import { median, serveChild, withTimeout } from '../types.js';

const noop = () => {};
const fakeSocket = {
  localAddress: '127.0.0.1',
  localPort: 9000,
  remoteAddress: '127.0.0.1',
  remotePort: 50000,
  remoteFamily: 'IPv4',
  destroyed: false,
  connecting: false,
} as unknown as net.Socket;
const machine = connectionMachine.provide({ actors: { socketLink: fromCallback(() => noop) } } as never);
const chunk = Buffer.alloc(1024, 0x63);
const dataEvent = { type: 'SOCKET.DATA' as const, bytes: chunk.length, heartbeats: 0 };
const sendEvent = { type: 'USER.SEND' as const, data: chunk };

function machineNsPerEvent(inspect: boolean, events: number): number {
  const actor = createActor(machine, { input: { id: 'c1', socket: fakeSocket }, ...(inspect ? { inspect: noop } : {}) });
  actor.subscribe({ next: noop, error: noop });
  actor.start();
  const warm = Math.min(2_000, events);
  for (let i = 0; i < warm; i++) actor.send(i % 2 ? sendEvent : dataEvent);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) actor.send(i % 2 ? sendEvent : dataEvent);
  const ns = Number(process.hrtime.bigint() - t0) / events;
  actor.stop();
  return ns;
}

/**
 * The bookkeeping the machine does per event, as plain code: a send is written and counted; a
 * `SOCKET.DATA` (already counted by the link) only has its guards looked at.
 */
function plainNsPerEvent(events: number): number {
  const ctx = { bytesOut: 0, messagesOut: 0, retries: 0, heartbeat: null as object | null };
  const link = { write: noop as (c: Buffer) => void };
  let guarded = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    if (i % 2) {
      link.write(chunk);
      ctx.bytesOut += chunk.length;
      ctx.messagesOut++;
    } else if (ctx.retries > 0 || (ctx.heartbeat !== null && dataEvent.heartbeats > 0)) guarded++;
  }
  if (guarded !== 0) throw new Error('plain bookkeeping: no guard should pass');
  return Number(process.hrtime.bigint() - t0) / events;
}

type ServerRig = {
  server: Server;
  id: string;
  actor: AnyActorRef;
  client: net.Socket;
  /** Bytes sent to the client so far. */
  sent: number;
  bytesAt: (bytes: number) => Promise<void>;
};

/** A Server (with or without an inspecting supervisor) and one client reading what it is sent. */
async function serverRig(inspect: boolean): Promise<ServerRig> {
  const server = createServer({ port: 0, ...(inspect ? { supervisor: new Supervisor({ inspect: noop }) } : {}) });
  let connectedId = '';
  server.events$.subscribe((e) => {
    if (e.event === 'connected') connectedId = e.id;
  });
  const { port } = await server.listen();
  const client = net.connect({ host: '127.0.0.1', port });
  client.on('error', noop);
  let received = 0;
  let waiting: { bytes: number; resolve: () => void } | undefined;
  client.on('data', (data: Buffer) => {
    received += data.length;
    if (waiting && received >= waiting.bytes) waiting.resolve();
  });
  await once(client, 'connect');
  const deadline = performance.now() + 5_000;
  while (!connectedId && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const actor = server.clients.get(connectedId);
  if (!actor) throw new Error('inspection bench: no accepted connection to drive');
  const bytesAt = (bytes: number) =>
    received >= bytes
      ? Promise.resolve()
      : withTimeout(new Promise<void>((resolve) => (waiting = { bytes, resolve })), 10_000, `the client receiving ${bytes} bytes`);
  return { server, id: connectedId, actor, client, sent: 0, bytesAt };
}

const MESSAGE = Buffer.alloc(16, 0x6d);

/**
 * ns per `server.send(id, bytes)`: the listener's USER.SEND_TO and the connection's USER.SEND,
 * two actor events, each inspected when inspection is on. (A received chunk causes no actor
 * event, so inspection cannot reach it.)
 */
async function serverNsPerSend(rig: ServerRig, events: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) rig.server.send(rig.id, MESSAGE);
  const ns = Number(process.hrtime.bigint() - t0) / events;
  rig.sent += events * MESSAGE.length;
  await rig.bytesAt(rig.sent);
  return ns;
}

const send = serveChild({
  run: async (m) => {
    const events = m.events as number;
    const rounds = m.rounds as number;
    const off: number[] = [];
    const on: number[] = [];
    const plain: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        off.push(machineNsPerEvent(false, events));
        on.push(machineNsPerEvent(true, events));
      } else {
        on.push(machineNsPerEvent(true, events));
        off.push(machineNsPerEvent(false, events));
      }
      plain.push(plainNsPerEvent(events));
    }
    const rigs = { off: await serverRig(false), on: await serverRig(true) };
    const serverOff: number[] = [];
    const serverOn: number[] = [];
    // Paired: each round's off against the on measured right beside it, so that drift (CPU clock,
    // other load) cancels; the figure is the median of those ratios.
    const serverRatios: number[] = [];
    for (const rig of Object.values(rigs)) await serverNsPerSend(rig, events); // warm-up, unmeasured
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        (mode === 'off' ? serverOff : serverOn).push(await serverNsPerSend(rigs[mode], events));
      }
      serverRatios.push(serverOff.at(-1)! / serverOn.at(-1)!);
    }
    const defaultInspected = Boolean((rigs.off.actor as unknown as { options?: { inspect?: unknown } }).options?.inspect);
    for (const rig of Object.values(rigs)) {
      rig.client.destroy();
      await rig.server.close({ graceMs: 200 });
    }
    send({
      type: 'result',
      machineOff: median(off),
      machineOn: median(on),
      spreadOff: (Math.max(...off) - Math.min(...off)) / median(off),
      plain: median(plain),
      serverOff: median(serverOff),
      serverOn: median(serverOn),
      serverRatio: median(serverRatios),
      spreadServerOff: (Math.max(...serverOff) - Math.min(...serverOff)) / median(serverOff),
      defaultInspected,
    });
  },
});
send({ type: 'ready' });
