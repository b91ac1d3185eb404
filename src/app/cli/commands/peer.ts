import net from 'node:net';
import { SynackError } from '../../../errors.js';
import { createPeer, parseHostPort } from '../../peer.js';
import { withInspector } from '../../inspector/cli.js';
import { Supervisor } from '../../supervisor.js';
import { INSPECT_OPTION, parseCommandArgs, parseHost, parsePort } from '../args.js';
import { createIo } from '../io.js';

export const PEER_HELP = `synack peer --registry H:P --name NAME [options]

Join a P2P chat through a registry (seed 003, the P2PChatRoom protocol): register, see the
other peers, and chat with them directly. Lines typed on stdin:
  /msg NAME text   send to one peer (opens a direct link, then reuses it)
  /all text        send to every listed peer
  /peers           list the peers
Empty lines are skipped (the original peer cannot read an empty message). End of stdin leaves
gracefully once what was typed is sent (unless --keep-open). If the registry goes away, chat
goes on with the peers already known while the peer reconnects to it with backoff.

Options:
  --registry H:P     the registry (IPv6 as [::1]:9000)
  --name NAME        the name to register (no @ : ; or spaces)
  --port P           chat port to listen on (default 0 = any free port)
  --host H           address the chat listener binds (default 0.0.0.0)
  --advertise IP     address to register (default: the one this peer reaches the registry from)
  --keep-open        stay after stdin ends
  --inspect          serve the live inspector on 127.0.0.1 and print its URL
  --json             one JSON event per line on stdout`;

export async function peerCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('peer', args, {
    ...INSPECT_OPTION,
    registry: { type: 'string' },
    name: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    advertise: { type: 'string' },
    'keep-open': { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(`${PEER_HELP}\n`);
  if (values.registry === undefined) throw new SynackError('E_USAGE', '--registry is required (host:port)');
  if (values.name === undefined) throw new SynackError('E_USAGE', '--name is required');
  let registry: { host: string; port: number };
  try {
    registry = parseHostPort(values.registry);
  } catch {
    throw new SynackError('E_USAGE', `invalid --registry '${values.registry}': expected host:port (IPv6 as [::1]:9000)`);
  }
  parseHost(registry.host);
  const port = values.port === undefined ? 0 : parsePort(values.port, { allowZero: true });
  const host = parseHost(values.host, '0.0.0.0');
  if (values.advertise !== undefined && net.isIP(values.advertise) === 0) {
    throw new SynackError('E_USAGE', `invalid --advertise '${values.advertise}': expected an IP address`);
  }
  const json = values.json ?? false;
  const io = createIo({ json, hex: false, connectionStates: false });

  const supervisor = new Supervisor();
  await withInspector(supervisor, values.inspect ?? false, io.print);
  const peer = createPeer({
    supervisor,
    name: values.name,
    registry,
    port,
    host,
    ...(values.advertise !== undefined ? { advertise: values.advertise } : {}),
  });
  peer.events$.subscribe(io.print);

  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const tracked = work.catch((error: unknown) => io.fail(error)).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  let finished = false;
  const finish = async (code: number) => {
    if (finished) return;
    finished = true;
    await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await peer.close({ graceMs: 1_000 });
    io.exit(code);
  };
  io.onSignal(() => void finish(0));

  try {
    await peer.start();
  } catch (error) {
    io.fail(error);
    await peer.close();
    return io.exit(1);
  }

  io.lines(
    (line) => {
      try {
        if (line.trim() === '') return;
        const match = /^(\/\S+)(?:\s(.*))?$/s.exec(line);
        if (!match) throw new SynackError('E_USAGE', 'type /msg NAME text, /all text or /peers');
        const [, command, rest = ''] = match;
        if (command === '/peers') return io.print({ event: 'peers', id: peer.id, peers: peer.peers() });
        if (command === '/msg') {
          const to = /^(\S+)\s(.*)$/s.exec(rest);
          if (!to || to[2]!.trim() === '') throw new SynackError('E_USAGE', 'usage: /msg NAME text (the text must not be empty)');
          return track(peer.send(to[1]!, to[2]!));
        }
        if (command === '/all') {
          if (rest.trim() === '') throw new SynackError('E_USAGE', 'usage: /all text (the text must not be empty)');
          if (peer.peers().length === 0) return io.print({ event: 'info', message: 'no peers to send to' });
          return track(
            peer.broadcast(rest).then(({ failed }) => {
              for (const { name, error } of failed) io.fail(new SynackError(error.code, `to ${name}: ${error.message}`));
            }),
          );
        }
        throw new SynackError('E_USAGE', `unknown command ${command}: try /msg NAME text, /all text or /peers`);
      } catch (error) {
        io.fail(error);
      }
    },
    () => {
      if (!values['keep-open']) void finish(0);
    },
  );
}
