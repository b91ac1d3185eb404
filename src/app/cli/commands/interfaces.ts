import { listInterfaces } from '../../../transport/interfaces.js';
import { parseCommandArgs } from '../args.js';
import { createIo } from '../io.js';

export const INTERFACES_HELP = `synack interfaces [--json]

List local network interfaces and their IPv4 and IPv6 addresses.`;

export async function interfacesCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('interfaces', args, {});
  if (values.help) return void process.stdout.write(`${INTERFACES_HELP}\n`);
  const io = createIo({ json: values.json ?? false, hex: false, connectionStates: false });
  for (const address of listInterfaces()) io.print({ event: 'interface', ...address });
}
