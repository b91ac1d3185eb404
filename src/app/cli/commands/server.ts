import { SynackError } from '../../../errors.js';
import { createServer } from '../../server.js';
import { BYTES_OPTIONS, INSPECT_OPTION, parseCommandArgs, parseCount, parseEol, parseFramingOptions, parseHost, parsePort } from '../args.js';
import { withInspector } from '../../inspector/cli.js';
import { Supervisor } from '../../supervisor.js';
import { createIo } from '../io.js';
import { createEventPrinter, encodeLine, serial } from '../messages.js';

export const SERVER_HELP = `synack server --port P [options]

Listen for TCP clients. Lines typed on stdin go to every client.
  /to ID text   send to one client        /clients      list clients
  /close ID     disconnect one client     /stop         stop listening, keep clients
  //text        send a line starting with /
  /image FILE   /video FILE               (qt framing) send a file as an image or video frame

Options:
  --port P             port to listen on (0 = any free port)
  --host H             address to bind (default 127.0.0.1; 0.0.0.0 or :: for all)
  --framing raw|qt     raw bytes (default) or seed 001 Qt frames (answers heartbeats)
  --relay              (qt) forward text/image/video frames to every other client
  --idle-timeout MS    evict clients silent for longer than MS
  --max-clients N      refuse clients beyond N
  --max-frame BYTES    (qt) largest frame accepted (default 67108864)
  --save-media DIR     (qt) store received images and video frames in DIR
  --hex                show received bytes as a hex dump; stdin lines are hex bytes sent as they are
  --eol none|lf|crlf   line ending added to each stdin line (default lf)
  --inspect            serve the live inspector on 127.0.0.1 and print its URL
  --json               one JSON event per line on stdout`;

export async function serverCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('server', args, {
    ...BYTES_OPTIONS,
    ...INSPECT_OPTION,
    port: { type: 'string' },
    host: { type: 'string' },
    framing: { type: 'string' },
    'max-clients': { type: 'string' },
    relay: { type: 'boolean' },
    'idle-timeout': { type: 'string' },
    'max-frame': { type: 'string' },
    'save-media': { type: 'string' },
  });
  if (values.help) return void process.stdout.write(`${SERVER_HELP}\n`);
  const port = parsePort(values.port, { allowZero: true });
  const host = parseHost(values.host, '127.0.0.1');
  const { framing, maxFrameBytes } = parseFramingOptions(values, ['relay', 'save-media']);
  const eol = parseEol(values.eol);
  const maxClients = parseCount(values['max-clients'], '--max-clients', { min: 1 });
  const idleTimeoutMs = parseCount(values['idle-timeout'], '--idle-timeout', { min: 1 });
  const hex = values.hex ?? false;
  const io = createIo({ json: values.json ?? false, hex, connectionStates: false, framing });

  const supervisor = new Supervisor();
  await withInspector(supervisor, values.inspect ?? false, io.print);
  const server = createServer({
    supervisor,
    port,
    host,
    framing,
    relay: values.relay ?? false,
    ...(maxClients !== undefined ? { maxClients } : {}),
    ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
    ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
  });
  server.events$.subscribe(createEventPrinter(io.print, values['save-media'], io.fail));
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await server.close({ graceMs: 1_000 });
    io.exit(code);
  };
  io.onSignal(() => void shutdown(0));

  try {
    const bound = await server.listen();
    if (!values.json) {
      const where = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
      io.print({ event: 'info', message: `connect with: nc ${bound.host} ${bound.port}   or   synack client --host ${where} --port ${bound.port}` });
    }
  } catch (error) {
    // The server's events already carried this error; stderr still gets its one line.
    io.fail(error, { reported: true });
    await server.close();
    return io.exit(1);
  }

  const queue = serial(io.fail);
  const send = async (text: string, to?: string) => {
    const data = await encodeLine(text, { framing, eol, hex });
    if (to === undefined) {
      if (server.broadcast(data) === 0) io.print({ event: 'info', message: 'no clients to send to' });
    } else if (!server.send(to, data)) {
      throw new SynackError('E_USAGE', `no client ${to}: see /clients`);
    }
  };

  io.lines(
    (line) => {
      try {
        // `//text` sends `/text`: raw lines are sent as typed, so drop the escape here (qt's encodeLine drops it itself).
        if (line.startsWith('//') && (framing === 'raw' || hex)) return queue(() => send(line.slice(1)));
        if (line.startsWith('//') || !line.startsWith('/') || /^\/(image|video)\b/.test(line)) return queue(() => send(line));
        const [command, ...rest] = line.split(' ');
        const argument = rest.join(' ');
        if (command === '/clients') return io.print({ event: 'clients', clients: server.list() });
        if (command === '/to') {
          const [id, ...text] = rest;
          if (!id) throw new SynackError('E_USAGE', 'usage: /to ID text');
          return queue(() => send(text.join(' '), id));
        }
        if (command === '/close') {
          if (!server.disconnect(argument)) throw new SynackError('E_USAGE', `no client ${argument}: see /clients`);
          return;
        }
        if (command === '/stop') return void server.stop();
        throw new SynackError('E_USAGE', `unknown command ${command}: try /to, /clients, /close, /stop, /image, /video (or // to send a line starting with /)`);
      } catch (error) {
        io.fail(error);
      }
    },
    () => {},
  );
}
