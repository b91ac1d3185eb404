import { SynackError } from '../../../errors.js';
import type { AddressTrust } from '../../../machines/registry.js';
import { createRegistry } from '../../registry.js';
import { withInspector } from '../../inspector/cli.js';
import { Supervisor } from '../../supervisor.js';
import { INSPECT_OPTION, parseCommandArgs, parseCount, parseHost, parsePort } from '../args.js';
import { createIo } from '../io.js';
import { formatEndpoint } from '../../../transport/socket-bridge.js';

export const REGISTRY_HELP = `synack registry --port P [options]

Run a P2P chat registry (seed 003, the P2PChatRoom protocol). Peers greet, register
name@ip:port every 15 s, and get the full peer list; a peer that stops registering is dropped
after --ttl and everyone gets the new list. Each refused link is logged with its reason.
  /peers        list registered peers     /evict NAME   drop a peer and close its link

Options:
  --port P               port to listen on (0 = any free port)
  --host H               address to bind (default 127.0.0.1; 0.0.0.0 or :: for other hosts)
  --ttl MS               drop a peer that has not registered for MS (default 22000)
  --frame-timeout MS     close a link whose frame stops half-way for MS (default 40000)
  --trust own|private|any  which advertised addresses to accept (default own: the link's own
                         address, or any address of this host for a peer on this host)
  --inspect              serve the live inspector on 127.0.0.1 and print its URL
  --json                 one JSON event per line on stdout`;

function parseTrust(value: string | undefined): AddressTrust {
  if (value === undefined) return 'own';
  if (value === 'own' || value === 'private' || value === 'any') return value;
  throw new SynackError('E_USAGE', `invalid --trust '${value}': expected own, private or any`);
}

export async function registryCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('registry', args, {
    ...INSPECT_OPTION,
    port: { type: 'string' },
    host: { type: 'string' },
    ttl: { type: 'string' },
    'frame-timeout': { type: 'string' },
    trust: { type: 'string' },
  });
  if (values.help) return void process.stdout.write(`${REGISTRY_HELP}\n`);
  const port = parsePort(values.port, { allowZero: true });
  const host = parseHost(values.host, '127.0.0.1');
  const ttlMs = parseCount(values.ttl, '--ttl', { min: 1 });
  const frameTimeoutMs = parseCount(values['frame-timeout'], '--frame-timeout', { min: 1 });
  const trust = parseTrust(values.trust);
  const json = values.json ?? false;
  const io = createIo({ json, hex: false, connectionStates: false });

  const supervisor = new Supervisor();
  await withInspector(supervisor, values.inspect ?? false, io.print);
  const registry = createRegistry({
    supervisor,
    port,
    host,
    trust,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(frameTimeoutMs !== undefined ? { frameTimeoutMs } : {}),
  });
  registry.events$.subscribe(io.print);
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await registry.close({ graceMs: 1_000 });
    io.exit(code);
  };
  io.onSignal(() => void shutdown(0));

  try {
    const bound = await registry.start();
    if (!json) {
      io.print({ event: 'info', message: `peers register with: synack peer --registry ${formatEndpoint(bound.host, bound.port)} --name NAME` });
    }
  } catch (error) {
    io.fail(error);
    await registry.close();
    return io.exit(1);
  }

  io.lines(
    (line) => {
      try {
        const [command, ...rest] = line.trim().split(/\s+/);
        if (!command) return;
        if (command === '/peers') return io.print({ event: 'peers', id: registry.id, peers: registry.peers() });
        if (command === '/evict') {
          const name = rest.join(' ');
          if (!registry.evict(name)) throw new SynackError('E_USAGE', `no peer named ${JSON.stringify(name)}: see /peers`);
          return;
        }
        throw new SynackError('E_USAGE', `unknown command ${command}: try /peers or /evict NAME`);
      } catch (error) {
        io.fail(error);
      }
    },
    () => {},
  );
}
