/**
 * Actor overhead with XState inspection off and on, measured in a process of its own:
 * `node --import tsx bench/load/inspection-worker.ts`, then `run {events, rounds}` →
 * `result {…}` (nanoseconds per event, medians of alternating rounds).
 *
 * 1. connection machine: an accepted connection (its socket link replaced by a no-op, so only
 *    the machine runs) processing SOCKET.DATA and USER.SEND alternately, created with
 *    `createActor(…)` (off) or `createActor(…, { inspect: () => {} })` (on).
 * 2. synack Server: the whole per-chunk path of a real accepted connection (socket 'data' →
 *    bridge → connection actor → client table → `events$`), driven by emitting 'data' on the
 *    accepted socket; default Server (off) vs one whose Supervisor has a no-op `inspect` (on).
 *    Also reports whether the default Server's connection actors carry an inspection observer.
 * 3. reference: the same bookkeeping as a plain function (no actor), to show the actor's own cost.
 */
import net from 'node:net';
import { once } from 'node:events';
import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import { connectionMachine } from '../../dist/machines/connection.js';
import { createServer, Supervisor, type Server } from '../../dist/index.js';
import { median, serveChild } from '../types.js';

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

/** The bookkeeping the machine does per event, as plain code: count, notify, hand to the link. */
function plainNsPerEvent(events: number): number {
  const ctx = { bytesIn: 0, messagesIn: 0, bytesOut: 0, messagesOut: 0, lastReceivedAt: 0 };
  const listeners = [noop as (c: Buffer) => void];
  const link = { write: noop as (c: Buffer) => void };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    if (i % 2) {
      link.write(chunk);
      ctx.bytesOut += chunk.length;
      ctx.messagesOut++;
    } else {
      ctx.bytesIn += chunk.length;
      ctx.messagesIn++;
      ctx.lastReceivedAt = Date.now();
      for (const l of listeners) l(chunk);
    }
  }
  return Number(process.hrtime.bigint() - t0) / events;
}

type ServerRig = { server: Server; client: net.Socket; accepted: net.Socket; actor: AnyActorRef; received: () => number };

async function serverRig(inspect: boolean): Promise<ServerRig> {
  const server = createServer({ port: 0, ...(inspect ? { supervisor: new Supervisor({ inspect: noop }) } : {}) });
  let chunks = 0;
  let connectedId = '';
  server.events$.subscribe((e) => {
    if (e.event === 'data') chunks++;
    else if (e.event === 'connected') connectedId = e.id;
  });
  const { port } = await server.listen();
  const client = net.connect({ host: '127.0.0.1', port });
  client.on('error', noop);
  await once(client, 'connect');
  const deadline = performance.now() + 5_000;
  while (!connectedId && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const actor = server.clients.get(connectedId);
  const accepted = actor?.getSnapshot().context.adopted as net.Socket | undefined;
  if (!actor || !accepted) throw new Error('inspection bench: no accepted connection to drive');
  return { server, client, accepted, actor, received: () => chunks };
}

async function serverNsPerChunk(rig: ServerRig, events: number): Promise<number> {
  const start = rig.received();
  for (let i = 0; i < Math.min(2_000, events); i++) rig.accepted.emit('data', chunk);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) rig.accepted.emit('data', chunk);
  const ns = Number(process.hrtime.bigint() - t0) / events;
  if (rig.received() - start < events) throw new Error(`server saw ${rig.received() - start} of ${events} chunks`);
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
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        (mode === 'off' ? serverOff : serverOn).push(await serverNsPerChunk(rigs[mode], events));
      }
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
      spreadServerOff: (Math.max(...serverOff) - Math.min(...serverOff)) / median(serverOff),
      defaultInspected,
    });
  },
});
send({ type: 'ready' });
