import type { AnyStateMachine } from 'xstate';
import type { AnyStateNode } from 'xstate/graph';
import { transitionLabel } from '../../testing/diagram.js';
import { transitionsOf } from '../../testing/graph.js';

/** One transition of a machine as the inspector lists it. */
export interface TransitionView {
  /** Id of the state that declares it (`connection.LINK.SYN_SENT`), or the machine's id. */
  source: string;
  /** Ids of the target states; empty when it only runs actions. */
  targets: string[];
  /** `SOCKET.CLOSED [canRetry]`, `after connectTimeout`, `always [closesOnPeerEnd]`. */
  label: string;
}

/** What the page needs to draw a machine: its statechart as SVG and its transitions. */
export interface MachineView {
  id: string;
  /** An `<svg>`; each state is a `<g class="st" data-state="<state id>">` the page can highlight. */
  svg: string;
  /** State id → its name relative to the machine (`LINK.SYN_SENT`). */
  names: Record<string, string>;
  transitions: TransitionView[];
}

interface Box {
  node: AnyStateNode;
  width: number;
  height: number;
  children: { box: Box; x: number; y: number }[];
}

const CHAR = 7.4;
const LEAF_HEIGHT = 30;
const HEADER = 22;
const PAD = 10;
const GAP = 12;

function childrenOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states ?? {}) as AnyStateNode[];
}

function columnsFor(count: number): number {
  return count <= 3 ? count : Math.ceil(Math.sqrt(count));
}

function layout(node: AnyStateNode): Box {
  const kids = childrenOf(node);
  const labelWidth = node.key.length * CHAR + 30;
  if (kids.length === 0) return { node, width: Math.max(96, labelWidth), height: LEAF_HEIGHT, children: [] };
  const boxes = kids.map(layout);
  const columns = columnsFor(boxes.length);
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...boxes.filter((_, i) => i % columns === c).map((b) => b.width)));
  const rows = Math.ceil(boxes.length / columns);
  const heights = Array.from({ length: rows }, (_, r) => Math.max(...boxes.slice(r * columns, r * columns + columns).map((b) => b.height)));
  const children = boxes.map((box, i) => {
    const c = i % columns;
    const r = Math.floor(i / columns);
    const x = PAD + widths.slice(0, c).reduce((sum, w) => sum + w + GAP, 0);
    const y = HEADER + PAD + heights.slice(0, r).reduce((sum, h) => sum + h + GAP, 0);
    return { box, x, y };
  });
  const innerWidth = widths.reduce((sum, w) => sum + w, 0) + GAP * (columns - 1);
  const innerHeight = heights.reduce((sum, h) => sum + h, 0) + GAP * (rows - 1);
  return { node, width: Math.max(labelWidth, innerWidth + 2 * PAD), height: HEADER + innerHeight + 2 * PAD, children };
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function initialId(node: AnyStateNode): string | undefined {
  return (node.initial?.target?.[0] as AnyStateNode | undefined)?.id;
}

function draw(box: Box, x: number, y: number, initial: boolean, out: string[]): void {
  const { node } = box;
  const compound = box.children.length > 0;
  const final = node.type === 'final';
  out.push(`<g class="st${compound ? ' compound' : ''}${final ? ' final' : ''}" data-state="${escapeXml(node.id)}">`);
  out.push(`<rect x="${x}" y="${y}" width="${box.width}" height="${box.height}" rx="${compound ? 8 : 6}"/>`);
  if (final) out.push(`<rect class="inner" x="${x + 3}" y="${y + 3}" width="${box.width - 6}" height="${box.height - 6}" rx="4"/>`);
  const textY = compound ? y + 15 : y + box.height / 2 + 4;
  if (initial) out.push(`<circle class="initial" cx="${x + 11}" cy="${textY - 4}" r="3.5"/>`);
  out.push(`<text x="${compound ? x + 20 : x + box.width / 2 + (initial ? 6 : 0)}" y="${textY}"${compound ? '' : ' text-anchor="middle"'}>${escapeXml(node.key)}</text>`);
  out.push('</g>');
  const first = initialId(node);
  for (const child of box.children) draw(child.box, x + child.x, y + child.y, child.box.node.id === first, out);
}

/**
 * Describes a machine for the inspector page: its states drawn as nested boxes in a grid (the
 * initial state of each level marked with a dot, final states with a double border), its state
 * names, and every transition of the definition with the label the generated diagrams use.
 *
 * @example
 * ```ts
 * const view = describeMachine(connectionMachine);
 * view.svg;            // '<svg …><g class="st" data-state="connection.CLOSED">…'
 * view.transitions[0]; // { source: 'connection.CLOSED', targets: ['connection.LINK.ESTABLISHED'], label: 'always [hasAdoptedSocket]' }
 * ```
 */
export function describeMachine(machine: AnyStateMachine): MachineView {
  const root = layout(machine.root);
  const out: string[] = [];
  const first = initialId(machine.root);
  for (const child of root.children) draw(child.box, child.x - PAD + 1, child.y - HEADER - PAD + 1, child.box.node.id === first, out);
  const width = Math.ceil(Math.max(0, ...root.children.map((c) => c.x - PAD + c.box.width)) + 2);
  const height = Math.ceil(Math.max(0, ...root.children.map((c) => c.y - HEADER - PAD + c.box.height)) + 2);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(machine.id)} statechart">${out.join('')}</svg>`;
  const names: Record<string, string> = { [machine.root.id]: '(any state)' };
  const visit = (node: AnyStateNode) => {
    for (const child of childrenOf(node)) {
      names[child.id] = child.path.join('.');
      visit(child);
    }
  };
  visit(machine.root);
  const transitions = transitionsOf(machine).map((t) => ({ source: t.source, targets: t.targets, label: transitionLabel(t) }));
  return { id: machine.id, svg, names, transitions };
}
