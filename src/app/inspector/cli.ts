import type { Supervisor } from '../supervisor.js';
import { startInspector, type InspectorOptions } from './server.js';

/** What `withInspector` prints: an `info` line, which every CLI renderer shows. */
export type InspectorNotice = { event: 'info'; message: string };

/** The inspector of one CLI command, or a stand-in when `--inspect` was not given. */
export interface CommandInspector {
  /** The page's URL, or null when the inspector is off. */
  url: string | null;
  close(): Promise<void>;
}

/**
 * What a CLI command calls for `--inspect`: when `enabled`, serves the inspector for the
 * command's supervisor and prints its URL (`inspector: http://127.0.0.1:PORT/?token=…`);
 * otherwise does nothing and costs nothing. Close it when the command ends.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor();
 * const inspector = await withInspector(supervisor, values.inspect ?? false, io.print);
 * const client = createClient({ host, port, supervisor });
 * // … on exit
 * await inspector.close();
 * ```
 */
export async function withInspector(
  supervisor: Supervisor,
  enabled: boolean,
  print: (event: InspectorNotice) => void,
  options: InspectorOptions = {},
): Promise<CommandInspector> {
  if (!enabled) return { url: null, close: async () => {} };
  const inspector = await startInspector(supervisor, options);
  print({ event: 'info', message: `inspector: ${inspector.url}` });
  return { url: inspector.url, close: () => inspector.close() };
}
