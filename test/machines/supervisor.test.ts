import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { connectionMachine, connectionState, type ConnectionActor } from '../../src/machines/connection.js';
import { listenerMachine, listenerState, type ListenerActor } from '../../src/machines/listener.js';
import { supervisorMachine, supervisorSampleEvents } from '../../src/machines/supervisor.js';
import { exploreModel } from '../../src/testing/graph.js';
import { Cleanup, connectRaw, fakeLink, fakeListenSocket, waitFor } from '../helpers.js';
import { expectFullCoverage } from '../model.js';

describe('supervisor', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function startSupervisor(machine = supervisorMachine) {
    const root = cleanup.actor(createActor(machine));
    const errors: unknown[] = [];
    // A root actor with no error observer crashes Node: always subscribe with an error handler.
    root.subscribe({ error: (error) => errors.push(error) });
    root.start();
    return { root, errors, child: (id: string) => root.getSnapshot().children[id] as AnyActorRef | undefined };
  }

  function withFakes() {
    const listen = fakeListenSocket();
    const link = fakeLink();
    const machine = supervisorMachine.provide({
      actors: {
        listener: listenerMachine.provide({ actors: { listenSocket: listen.logic } }),
        connection: connectionMachine.provide({ actors: { socketLink: link.logic } }),
      },
    });
    return { listen, link, ...startSupervisor(machine) };
  }

  it('is RUNNING with no children at first', () => {
    const { root } = startSupervisor();
    expect(root.getSnapshot().value).toBe('RUNNING');
    expect(Object.keys(root.getSnapshot().children)).toEqual([]);
  });

  it('starts a listener by id, with its input', () => {
    const { root, child, listen } = withFakes();
    root.send({ type: 'SUPERVISOR.START', id: 'server', machine: 'listener', input: { port: 0, host: '127.0.0.1' } });
    const server = child('server') as ListenerActor;
    expect(listenerState(server.getSnapshot())).toBe('STOPPED');
    server.send({ type: 'USER.LISTEN' });
    expect(listen.inputs).toEqual([{ host: '127.0.0.1', port: 0 }]);
  });

  it('starts an outbound connection by id, with its input', () => {
    const { root, child, link } = withFakes();
    root.send({ type: 'SUPERVISOR.START', id: 'client', machine: 'connection', input: { host: '127.0.0.1', port: 9 } });
    const client = child('client') as ConnectionActor;
    client.send({ type: 'USER.CONNECT' });
    expect(connectionState(client.getSnapshot())).toBe('SYN_SENT');
    expect(link.inputs[0]).toMatchObject({ host: '127.0.0.1', port: 9 });
  });

  it('stops a child by id, which releases what it holds', () => {
    const { root, child, listen, link, errors } = withFakes();
    root.send({ type: 'SUPERVISOR.START', id: 'server', machine: 'listener', input: { port: 0 } });
    root.send({ type: 'SUPERVISOR.START', id: 'client', machine: 'connection', input: { host: 'h', port: 1 } });
    (child('server') as ListenerActor).send({ type: 'USER.LISTEN' });
    (child('client') as ConnectionActor).send({ type: 'USER.CONNECT' });
    root.send({ type: 'SUPERVISOR.STOP', id: 'server' });
    expect(child('server')).toBeUndefined();
    expect(listen.stopped).toBe(1);
    expect(child('client')).toBeDefined();
    root.send({ type: 'SUPERVISOR.STOP', id: 'client' });
    expect(link.stopped).toBe(1);
    expect(Object.keys(root.getSnapshot().children)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('ignores a stop for an id it does not run', () => {
    const { root, errors } = withFakes();
    root.send({ type: 'SUPERVISOR.STOP', id: 'nobody' });
    expect(root.getSnapshot().status).toBe('active');
    expect(errors).toEqual([]);
  });

  it('handles its own sample events', () => {
    const { root, errors } = withFakes();
    for (const event of supervisorSampleEvents) root.send(event);
    expect(Object.keys(root.getSnapshot().children)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('reaches every state and every transition along paths generated from its definition', () => {
    const model = supervisorMachine.provide({
      actors: {
        listener: listenerMachine.provide({ actors: { listenSocket: fakeListenSocket().logic } }),
        connection: connectionMachine.provide({ actors: { socketLink: fakeLink().logic } }),
      },
    });
    expectFullCoverage(exploreModel(model, { events: supervisorSampleEvents }));
  });

  it('runs a real listener and frees its port when it stops it', async () => {
    const { root, child } = startSupervisor();
    root.send({ type: 'SUPERVISOR.START', id: 'server', machine: 'listener', input: { port: 0 } });
    const server = child('server') as ListenerActor;
    server.send({ type: 'USER.LISTEN' });
    const bound = await waitFor(server, (s) => listenerState(s) === 'LISTENING');
    const port = bound.context.boundPort!;
    cleanup.socket(await connectRaw(port));
    await waitFor(server, (s) => s.context.clientCount === 1);
    // Stopping the actor does not close its clients (see the listener's USER.STOP closeClients).
    bound.context.clients.closeAll({ abort: true });
    root.send({ type: 'SUPERVISOR.STOP', id: 'server' });
    await expect(connectRaw(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
