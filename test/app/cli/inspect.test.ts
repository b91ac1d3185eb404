import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActorView, InspectorMessage } from '../../../src/app/inspector/recorder.js';
import { Cleanup, freePort } from '../../helpers.js';
import { tempFolder } from '../../temp.js';
import { LiveChannel } from '../ui/ui-client.js';
import { killClis, runCli, type Cli } from './run-cli.js';

function actorsIn(m: unknown): ActorView[] {
  const message = m as InspectorMessage;
  return message.type === 'snapshot' ? message.actors : message.type === 'actor' ? [message.actor] : [];
}

describe('--inspect on every command that runs actors', () => {
  const cleanup = new Cleanup();
  afterEach(killClis);
  afterEach(() => cleanup.run());

  /** The inspector URL the command printed, and its live channel opened. */
  async function liveChannel(cli: Cli): Promise<LiveChannel> {
    const info = await cli.waitForSeen((e) => e.event === 'info' && String(e.message).startsWith('inspector: '));
    const url = new URL(String(info.message).slice('inspector: '.length));
    expect(url.hostname).toBe('127.0.0.1');
    return cleanup.add(await LiveChannel.open(Number(url.port), url.searchParams.get('token')!, '/events'), (c) => c.close());
  }

  /** Starts the command with --inspect and waits until its inspector shows an actor of `machine` in `state`. */
  async function inspect(args: string[], machine: string, state: string): Promise<ActorView & { parentMachine: string | undefined }> {
    const channel = await liveChannel(runCli([...args, '--inspect', '--json']));
    const found = await channel.seen((m) => actorsIn(m).some((a) => a.machine === machine && a.state === state), `${machine} in ${state}`, 5_000);
    const actor = actorsIn(found).find((a) => a.machine === machine && a.state === state)!;
    const known = channel.messages.flatMap(actorsIn);
    return { ...actor, parentMachine: known.find((a) => a.key === actor.parent)?.machine };
  }

  it('server: shows the listener LISTENING', async () => {
    const actor = await inspect(['server', '--port', '0'], 'listener', 'LISTENING');
    expect(actor.parentMachine).toBe('supervisor');
  });

  it('client: shows the connection retrying in RETRY_WAIT', async () => {
    await inspect(['client', '--port', String(await freePort()), '--reconnect', '50'], 'connection', 'RETRY_WAIT');
  });

  it('registry: shows the registry LISTENING, under the supervisor', async () => {
    const actor = await inspect(['registry', '--port', '0'], 'registry', 'LISTENING');
    expect(actor.parentMachine).toBe('supervisor');
  });

  it('peer: shows the peer while it waits for a registry that is not there', async () => {
    const actor = await inspect(['peer', '--registry', `127.0.0.1:${await freePort()}`, '--name', 'alice', '--host', '127.0.0.1', '--keep-open'], 'peer', 'LISTENING/CONNECTING');
    expect(actor.context).toMatchObject({ name: 'alice' });
  });

  it('recv-file: shows each transfer it receives, here one that is DONE', async () => {
    const dir = tempFolder(cleanup, 'synack-inspect-');
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'hello');
    const receiver = runCli(['recv-file', '--port', '0', '--out', path.join(dir, 'in'), '--inspect', '--json']);
    const port = (await receiver.waitForSeen('listening')).port as number;
    const channel = await liveChannel(receiver);
    const sender = runCli(['send-file', '--port', String(port), file, '--json']);
    expect((await sender.exited()).code).toBe(0);
    await channel.seen((m) => actorsIn(m).some((a) => a.machine === 'file-receive' && a.state === 'DONE'), 'file-receive in DONE', 5_000);
  });

  it('send-file: shows the transfer retrying in RETRY_WAIT', async () => {
    const file = path.join(tempFolder(cleanup, 'synack-inspect-'), 'a.txt');
    writeFileSync(file, 'hello');
    await inspect(['send-file', '--port', String(await freePort()), '--retry', '50', file], 'file-send', 'RETRY_WAIT');
  });
});
