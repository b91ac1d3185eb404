import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { diagrams, diagramsDir, renderDiagram } from '../../scripts/diagrams.js';
import { machineToMarkdown, machineToMermaid } from '../../src/testing/diagram.js';

describe('machine diagrams', () => {
  for (const spec of diagrams) {
    it(`docs/diagrams/${spec.name}.md is up to date with ${spec.source}`, () => {
      const file = path.join(diagramsDir, `${spec.name}.md`);
      const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const stale = `docs/diagrams/${spec.name}.md is ${committed ? 'stale' : 'missing'}: run npm run diagrams`;
      expect(committed, stale).toBe(renderDiagram(spec));
    });
  }

  it('has no page for a machine it no longer draws', () => {
    const pages = readdirSync(diagramsDir).filter((name) => name.endsWith('.md'));
    expect(pages.sort(), 'remove the page or add its machine to scripts/diagrams.ts').toEqual(diagrams.map((d) => `${d.name}.md`).sort());
  });

  it('draws every state and every transition of the connection, with guards and delays', () => {
    const connection = diagrams.find((d) => d.name === 'connection')!;
    const mermaid = machineToMermaid(connection.machine);
    expect(mermaid.startsWith('stateDiagram-v2\n  [*] --> CLOSED\n')).toBe(true);
    expect(mermaid).toContain('  state LINK {\n    [*] --> SYN_SENT\n');
    expect(mermaid).toContain('  SYN_SENT --> RETRY_WAIT: after connectTimeout [canRetry]\n');
    expect(mermaid).toContain('  SYN_SENT --> FAILED: after connectTimeout [else]\n');
    expect(mermaid).toContain('  CLOSE_WAIT --> LAST_ACK: always [closesOnPeerEnd]\n');
    expect(mermaid).toContain('  ESTABLISHED --> ESTABLISHED: SOCKET.DATA [carriesHeartbeat]\n');
    expect(mermaid).toContain('  ESTABLISHED --> ESTABLISHED: SOCKET.DATA [heardAfterRetries]\n');
    expect(mermaid).toContain("  ESTABLISHED --> RETRY_WAIT: HEARTBEAT.DEAD [reconnectsOnLoss]\n");
    expect(mermaid.match(/-->/g)).toHaveLength(2 + 38);
  });
});

describe('machineToMermaid', () => {
  const machine = setup({
    guards: { ready: () => true },
    delays: { patience: 1_000 },
  }).createMachine({
    id: 'demo',
    initial: 'idle',
    on: { RESET: { target: '.idle' } },
    states: {
      idle: { on: { GO: [{ guard: 'ready', target: 'busy' }, { target: 'idle' }] } },
      busy: {
        initial: 'idle',
        after: { patience: 'idle', 500: { target: '#demo.busy.done' } },
        states: {
          idle: { always: { target: 'done' } },
          done: {},
        },
      },
    },
  });

  it('gives repeated state keys distinct ids, labelled with their keys', () => {
    expect(machineToMermaid(machine)).toBe(
      [
        'stateDiagram-v2',
        '  [*] --> idle',
        '  idle',
        '  state busy {',
        '    [*] --> busy_idle',
        '    state "idle" as busy_idle',
        '    state "done" as busy_done',
        '  }',
        '',
        '  idle --> busy: GO [ready]',
        '  idle --> idle: GO [else]',
        '  busy --> busy_done: after 500ms',
        '  busy --> idle: after patience',
        '  busy_idle --> busy_done: always',
        '',
      ].join('\n'),
    );
  });

  it('labels a state only when its id differs from its key', () => {
    const mermaid = machineToMermaid(machine);
    expect(mermaid).toContain('state "idle" as busy_idle');
    expect(mermaid).toContain('  state busy {');
    expect(mermaid).not.toContain('"busy"');
  });

  it('lists transitions declared on the machine itself in the page table', () => {
    const page = machineToMarkdown(machine, { source: 'demo.ts' });
    expect(page).toContain('| (any state) | RESET |  | idle |  |');
    expect(page).toContain('from `demo.ts`');
    expect(page).toContain('```mermaid\nstateDiagram-v2\n');
  });
});
