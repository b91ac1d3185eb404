import { SynackError } from '../../errors.js';
import { clientCommand, CLIENT_HELP } from './commands/client.js';
import { interfacesCommand, INTERFACES_HELP } from './commands/interfaces.js';
import { peerCommand, PEER_HELP } from './commands/peer.js';
import { recvFileCommand, RECV_FILE_HELP } from './commands/recv-file.js';
import { registryCommand, REGISTRY_HELP } from './commands/registry.js';
import { sendFileCommand, SEND_FILE_HELP } from './commands/send-file.js';
import { serverCommand, SERVER_HELP } from './commands/server.js';
import { uiCommand, UI_HELP } from './commands/ui.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<void>; help: string }> = {
  server: { run: serverCommand, help: SERVER_HELP },
  client: { run: clientCommand, help: CLIENT_HELP },
  interfaces: { run: interfacesCommand, help: INTERFACES_HELP },
  'send-file': { run: sendFileCommand, help: SEND_FILE_HELP },
  'recv-file': { run: recvFileCommand, help: RECV_FILE_HELP },
  registry: { run: registryCommand, help: REGISTRY_HELP },
  peer: { run: peerCommand, help: PEER_HELP },
  ui: { run: uiCommand, help: UI_HELP },
};

const USAGE = `usage: synack <command> [options]

Commands:
${Object.values(COMMANDS)
  .map(({ help }) => `  ${help.split('\n')[0]}`)
  .join('\n')}

Run 'synack <command> --help' for a command's options.`;

/** Runs the CLI; usage errors exit 2 with a one-line reason, runtime failures exit 1. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new SynackError('E_USAGE', `unknown command '${name}': expected one of ${Object.keys(COMMANDS).join(', ')}`);
    await command.run(args);
  } catch (error) {
    const e = SynackError.from(error);
    process.stderr.write(`synack: ${e.message}\n`);
    if (e.code === 'E_USAGE') process.stderr.write(`Run 'synack ${command ? `${name} ` : ''}--help' for usage.\n`);
    process.exitCode = e.code === 'E_USAGE' ? 2 : 1;
  }
}

await main(process.argv.slice(2));
