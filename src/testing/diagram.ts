/**
 * Diagrams drawn from machine definitions: a Mermaid `stateDiagram-v2` of the states, nested
 * states, initial states and transitions (event names, guards in brackets, delayed transitions
 * as `after <delay>`), and a Markdown page around it with the full transition table.
 * `npm run diagrams` writes one page per machine to `docs/diagrams/`.
 */
import type { AnyStateMachine } from 'xstate';
import type { AnyStateNode } from 'xstate/graph';
import { stateNodesOf, transitionsOf, type TransitionInfo } from './graph.js';

/** Mermaid ids: a state's own key when every key is unique, else its path joined by `_`. */
function mermaidIds(machine: AnyStateMachine): Map<string, string> {
  const nodes = stateNodesOf(machine);
  const keys = nodes.map((node) => node.key);
  const unique = new Set(keys).size === keys.length;
  return new Map(nodes.map((node) => [node.id, (unique ? node.key : node.path.join('_')).replace(/[^A-Za-z0-9_]/g, '_')]));
}

/** The guard, or `else` for the unguarded last branch after guarded ones. */
function guardText(transition: TransitionInfo): string {
  return transition.guard ?? (transition.index > 0 ? 'else' : '');
}

/** `SOCKET.CLOSED [canRetry]`, `SOCKET.CLOSED [else]`, `after connectTimeout`, `always [closesOnPeerEnd]` */
export function transitionLabel(transition: TransitionInfo): string {
  const trigger =
    transition.kind === 'always'
      ? 'always'
      : transition.kind === 'after'
        ? `after ${typeof transition.delay === 'number' ? `${transition.delay}ms` : transition.delay}`
        : transition.event;
  return `${trigger} [${guardText(transition)}]`.replace(' []', '');
}

function childrenOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states ?? {}) as AnyStateNode[];
}

function initialKey(node: AnyStateNode): string | undefined {
  const target = node.initial?.target?.[0] as AnyStateNode | undefined;
  return target?.id;
}

/**
 * Draws a machine as a Mermaid `stateDiagram-v2`: every state (compound states as nested
 * blocks, each with its `[*]` initial arrow), and every transition of the definition, labelled
 * with its event, its guard in brackets, `after <delay>` for delayed and `always` for eventless
 * transitions. A transition without a target (actions only) is drawn as a loop on its state;
 * those declared on the machine itself are listed by {@link machineToMarkdown} only.
 *
 * @example
 * ```ts
 * import { machineToMermaid } from 'synack/testing';
 * console.log(machineToMermaid(connectionMachine));
 * // stateDiagram-v2
 * //   [*] --> CLOSED
 * //   …
 * //   SYN_SENT --> RETRY_WAIT: after connectTimeout [canRetry]
 * //   SYN_SENT --> FAILED: after connectTimeout [else]
 * ```
 */
export function machineToMermaid(machine: AnyStateMachine): string {
  const ids = mermaidIds(machine);
  const id = (stateId: string) => ids.get(stateId)!;
  const lines = ['stateDiagram-v2'];
  const declare = (node: AnyStateNode, indent: string) => {
    const children = childrenOf(node);
    const initial = initialKey(node);
    if (initial) lines.push(`${indent}[*] --> ${id(initial)}`);
    for (const child of children) {
      const name = id(child.id);
      const label = name === child.key ? '' : `"${child.key}" as `;
      if (childrenOf(child).length === 0) {
        lines.push(`${indent}${label ? `state ${label}${name}` : name}`);
      } else {
        lines.push(`${indent}state ${label}${name} {`);
        declare(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
    }
  };
  declare(machine.root, '  ');
  lines.push('');
  for (const transition of transitionsOf(machine)) {
    if (transition.source === machine.root.id) continue;
    const from = id(transition.source);
    const targets = transition.targets.length > 0 ? transition.targets : [transition.source];
    for (const target of targets) lines.push(`  ${from} --> ${id(target)}: ${transitionLabel(transition)}`);
  }
  return `${lines.join('\n')}\n`;
}

function relativeId(machine: AnyStateMachine, stateId: string): string {
  return stateId === machine.root.id ? '(any state)' : stateId.slice(machine.root.id.length + 1);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * A Markdown page for one machine: a generated-file notice, the Mermaid diagram, and a table of
 * every transition (source, trigger, guard, targets, actions). Deterministic: the same
 * definition always gives the same bytes, so a test can tell when a committed page is stale.
 *
 * @example
 * ```ts
 * writeFileSync('docs/diagrams/connection.md', machineToMarkdown(connectionMachine, { source: 'src/machines/connection.ts' }));
 * ```
 */
export function machineToMarkdown(machine: AnyStateMachine, options: { title?: string; source?: string } = {}): string {
  const title = options.title ?? machine.id;
  const rows = transitionsOf(machine).map((t) => {
    const trigger = t.kind === 'always' ? 'always' : t.kind === 'after' ? `after ${t.delay}` : t.event;
    const targets = t.targets.length > 0 ? t.targets.map((target) => relativeId(machine, target)).join(', ') : '(stays)';
    return `| ${cell(relativeId(machine, t.source))} | ${cell(trigger)} | ${cell(guardText(t))} | ${cell(targets)} | ${cell(t.actions.join(', '))} |`;
  });
  const from = options.source ? ` from \`${options.source}\`` : '';
  return [
    `<!-- Generated by \`npm run diagrams\`${from}. Do not edit: change the machine and run it again. -->`,
    '',
    `# ${title}`,
    '',
    '```mermaid',
    machineToMermaid(machine).trimEnd(),
    '```',
    '',
    '## Transitions',
    '',
    'Guarded branches are tried in the order listed; `else` is the branch taken when no guard before it holds. A transition to `(stays)` runs its actions without leaving the state.',
    '',
    '| from | on | guard | to | actions |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
