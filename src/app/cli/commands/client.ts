import { SynackError } from '../../../errors.js';
import { createClient } from '../../client.js';
import { BYTES_OPTIONS, INSPECT_OPTION, parseCommandArgs, parseCount, parseEol, parseFramingOptions, parseHost, parsePort } from '../args.js';
import { withInspector } from '../../inspector/cli.js';
import { Supervisor } from '../../supervisor.js';
import { createIo } from '../io.js';
import { createEventPrinter, encodeLine, serial } from '../messages.js';

export const CLIENT_HELP = `synack client --host H --port P [options]

Connect to a TCP server. Lines typed on stdin are sent; received bytes are shown.
End of stdin closes the connection gracefully (unless --keep-open).
With --framing qt: /image FILE and /video FILE send a file as an image or video frame.

Options:
  --host H               server address (default 127.0.0.1)
  --port P               server port
  --framing raw|qt       raw bytes (default) or seed 001 Qt frames
  --heartbeat MS         (qt) ping every MS (default 3000; 0 = off)
  --max-missed N         (qt) declare the server dead after N unanswered pings (default 3)
  --connect-timeout MS   give up one connect attempt after MS (default 10000)
  --reconnect N          retry a refused, lost or dead connection N times, with backoff
  --keep-open            stay connected after stdin ends
  --max-frame BYTES      (qt) largest frame accepted (default 67108864)
  --save-media DIR       (qt) store received images and video frames in DIR
  --hex                  show received bytes as a hex dump; stdin lines are hex bytes sent as they are
  --eol none|lf|crlf     line ending added to each stdin line (default lf)
  --inspect              serve the live inspector on 127.0.0.1 and print its URL
  --json                 one JSON event per line on stdout`;

export async function clientCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('client', args, {
    ...BYTES_OPTIONS,
    ...INSPECT_OPTION,
    host: { type: 'string' },
    port: { type: 'string' },
    framing: { type: 'string' },
    'connect-timeout': { type: 'string' },
    reconnect: { type: 'string' },
    'keep-open': { type: 'boolean' },
    heartbeat: { type: 'string' },
    'max-missed': { type: 'string' },
    'max-frame': { type: 'string' },
    'save-media': { type: 'string' },
  });
  if (values.help) return void process.stdout.write(`${CLIENT_HELP}\n`);
  const host = parseHost(values.host, '127.0.0.1');
  const port = parsePort(values.port, { allowZero: false });
  const { framing, maxFrameBytes } = parseFramingOptions(values, ['heartbeat', 'max-missed', 'save-media']);
  const heartbeatMs = parseCount(values.heartbeat, '--heartbeat') ?? 3_000;
  const maxMissed = parseCount(values['max-missed'], '--max-missed', { min: 1 }) ?? 3;
  const eol = parseEol(values.eol);
  const connectTimeoutMs = parseCount(values['connect-timeout'], '--connect-timeout', { min: 1 });
  const attempts = parseCount(values.reconnect, '--reconnect') ?? 0;
  const hex = values.hex ?? false;
  const io = createIo({ json: values.json ?? false, hex, connectionStates: true, framing });

  const supervisor = new Supervisor();
  await withInspector(supervisor, values.inspect ?? false, io.print);
  const client = createClient({
    supervisor,
    host,
    port,
    retry: { attempts },
    reconnect: attempts > 0,
    framing,
    ...(framing === 'qt' && heartbeatMs > 0 ? { heartbeat: { intervalMs: heartbeatMs, maxMissed } } : {}),
    ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
  });
  client.events$.subscribe(createEventPrinter(io.print, values['save-media'], io.fail));

  let finished = false;
  const finish = async (code: number, graceful: boolean) => {
    if (finished) return;
    finished = true;
    if (graceful && ['ESTABLISHED', 'CLOSE_WAIT'].includes(client.state)) {
      await Promise.race([client.end(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    }
    await client.close();
    io.exit(code);
  };
  io.onSignal(() => void finish(0, true));

  try {
    await client.connect();
  } catch (error) {
    io.fail(error);
    return void finish(1, false);
  }

  client.state$.subscribe((snapshot) => {
    const state = client.state;
    if (state === 'FAILED') {
      io.fail(new Error(`gave up reconnecting to ${host}:${port}: ${snapshot.context.lastError?.message ?? 'closed'}`));
      void finish(1, false);
    } else if (state === 'CLOSED' && snapshot.context.closeReason === 'dead') {
      // A server found dead is a runtime failure, not the normal end of a conversation.
      io.fail(SynackError.fromInfo(snapshot.context.lastError ?? { code: 'E_DEAD_PEER', message: 'peer is dead' }));
      void finish(1, false);
    } else if (state === 'CLOSED') {
      void finish(0, false);
    }
  });

  const queue = serial(io.fail);
  const input = io.lines(
    (line) =>
      queue(async () => {
        if (!client.send(await encodeLine(line, { framing, eol, hex }))) {
          input.pause();
          await client.drained();
          input.resume();
        }
      }),
    () => {
      if (!values['keep-open']) queue(() => finish(0, true));
    },
  );
}
