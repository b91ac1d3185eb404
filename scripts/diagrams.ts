/**
 * Writes one Markdown page per machine to docs/diagrams/, drawn from the machine definitions
 * (`npm run diagrams`). test/docs/diagrams.test.ts fails when a committed page is stale.
 * To add a machine, add one line to `diagrams`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { heartbeatMachine } from '../src/machines/heartbeat.js';
import { connectionMachine } from '../src/machines/connection.js';
import { listenerMachine } from '../src/machines/listener.js';
import { supervisorMachine } from '../src/machines/supervisor.js';
import { fileSendMachine } from '../src/machines/file-send.js';
import { fileReceiveMachine } from '../src/machines/file-receive.js';
import { registryMachine } from '../src/machines/registry.js';
import { peerMachine } from '../src/machines/peer.js';
import { machineToMarkdown } from '../src/testing/diagram.js';

export interface DiagramSpec {
  /** File name in docs/diagrams/ (without `.md`). */
  name: string;
  machine: AnyStateMachine;
  /** Where the machine is defined, for the page's header. */
  source: string;
}

export const diagrams: DiagramSpec[] = [
  { name: 'connection', machine: connectionMachine, source: 'src/machines/connection.ts' },
  { name: 'listener', machine: listenerMachine, source: 'src/machines/listener.ts' },
  { name: 'supervisor', machine: supervisorMachine, source: 'src/machines/supervisor.ts' },
  { name: 'heartbeat', machine: heartbeatMachine, source: 'src/machines/heartbeat.ts' },
  { name: 'file-send', machine: fileSendMachine, source: 'src/machines/file-send.ts' },
  { name: 'file-receive', machine: fileReceiveMachine, source: 'src/machines/file-receive.ts' },
  { name: 'registry', machine: registryMachine, source: 'src/machines/registry.ts' },
  { name: 'peer', machine: peerMachine, source: 'src/machines/peer.ts' },
];

export const diagramsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'diagrams');

/** The page for one spec, exactly as it should be committed. */
export function renderDiagram(spec: DiagramSpec): string {
  return machineToMarkdown(spec.machine, { title: spec.name, source: spec.source });
}

function main(): void {
  mkdirSync(diagramsDir, { recursive: true });
  for (const spec of diagrams) {
    const file = path.join(diagramsDir, `${spec.name}.md`);
    writeFileSync(file, renderDiagram(spec));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
