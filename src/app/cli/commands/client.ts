import { encodeRawLine } from '../../../transport/raw.js';
import { createClient } from '../../client.js';
import { parseCommandArgs, parseCount, parseEol, parseFraming, parseHost, parsePort } from '../args.js';
import { createIo } from '../io.js';

export const CLIENT_HELP = `synack client --host H --port P [options]

Connect to a TCP server. Lines typed on stdin are sent; received bytes are shown.
End of stdin closes the connection gracefully (unless --keep-open).

Options:
  --host H               server address (default 127.0.0.1)
  --port P               server port
  --framing raw          raw bytes (default)
  --connect-timeout MS   give up one connect attempt after MS (default 10000)
  --reconnect N          retry a refused/lost connection N times, with backoff
  --keep-open            stay connected after stdin ends
  --hex                  show received bytes as a hex dump; read stdin lines as hex
  --eol none|lf|crlf     line ending added to each stdin line (default lf)
  --json                 one JSON event per line on stdout`;

export async function clientCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('client', args, {
    host: { type: 'string' },
    port: { type: 'string' },
    framing: { type: 'string' },
    'connect-timeout': { type: 'string' },
    reconnect: { type: 'string' },
    'keep-open': { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(`${CLIENT_HELP}\n`);
  const host = parseHost(values.host, '127.0.0.1');
  const port = parsePort(values.port, { allowZero: false });
  parseFraming(values.framing);
  const eol = parseEol(values.eol);
  const connectTimeoutMs = parseCount(values['connect-timeout'], '--connect-timeout', { min: 1 });
  const attempts = parseCount(values.reconnect, '--reconnect') ?? 0;
  const hex = values.hex ?? false;
  const io = createIo({ json: values.json ?? false, hex, connectionStates: true });

  const client = createClient({
    host,
    port,
    retry: { attempts },
    reconnect: attempts > 0,
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
  });
  client.events$.subscribe(io.print);

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
    } else if (state === 'CLOSED') {
      void finish(0, false);
    }
  });

  const input = io.lines(
    (line) => {
      try {
        if (!client.send(encodeRawLine(line, { eol, hex }))) {
          input.pause();
          void client.drained().then(() => input.resume());
        }
      } catch (error) {
        io.fail(error);
      }
    },
    () => {
      if (!values['keep-open']) void finish(0, true);
    },
  );
}
