import { startUi } from '../../ui/server.js';
import { parseCommandArgs, parseHost, parsePort } from '../args.js';
import { createIo } from '../io.js';

export const UI_HELP = `synack ui [--port P] [--host H]

Serve the network debugging assistant as a web page and print its URL: a TCP server and
client cards, file transfer (send and receive), P2P chat with a registry, and the live
inspector, all run by this process. The URL carries a random token; the page works offline.
Settings and recent targets are kept in $XDG_CONFIG_HOME/synack/ui.json
(default ~/.config/synack/ui.json).

Options:
  --port P     port to serve the page on (default 0 = any free port)
  --host H     address to serve on (default 127.0.0.1). Any other address lets other machines
               open the page and use this machine's network through it: a warning says so
  --json       print the URL as a JSON event ({"event":"ui","url":…})`;

/**
 * `synack ui`: serves the web UI until SIGINT/SIGTERM, then closes every server and client the
 * page started. Prints the URL (and, for a non-loopback `--host`, what that exposes).
 *
 * @example
 * ```ts
 * await uiCommand(['--port', '8080']); // prints "synack ui: open http://127.0.0.1:8080/?token=…"
 * ```
 */
export async function uiCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('ui', args, {
    port: { type: 'string' },
    host: { type: 'string' },
  });
  if (values.help) return void process.stdout.write(`${UI_HELP}\n`);
  const port = parsePort(values.port ?? '0', { allowZero: true });
  const host = parseHost(values.host, '127.0.0.1');
  const json = values.json ?? false;
  const io = createIo({ json, hex: false, connectionStates: false });

  let ui: Awaited<ReturnType<typeof startUi>>;
  try {
    ui = await startUi({ port, host });
  } catch (error) {
    io.fail(error);
    return io.exit(1);
  }
  if (ui.exposure) process.stderr.write(`${ui.exposure}\n`);
  if (json) {
    process.stdout.write(`${JSON.stringify({ event: 'ui', ts: Date.now(), url: ui.url, urls: ui.urls, host: ui.host, port: ui.port })}\n`);
  } else {
    io.print({ event: 'info', message: `synack ui: open ${ui.url}` });
    for (const other of ui.urls.slice(1)) io.print({ event: 'info', message: `         or ${other}` });
    io.print({ event: 'info', message: 'press Ctrl+C to stop (servers and clients started in the page close with it)' });
  }
  const problem = ui.session.settings.problem;
  if (problem) io.print({ event: 'info', message: problem });

  io.onSignal(() => {
    void ui.close().then(() => io.exit(0));
  });
}
