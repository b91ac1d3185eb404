/**
 * The inspector page: one HTML document, one stylesheet and one script, all served by the
 * inspector itself (no CDN, works offline). The script reads the token from its own URL, opens
 * the Server-Sent Events channel, and draws the actor tree and one card per actor. Every value
 * from the model is put into the page as text; the only markup inserted is the statechart SVG
 * the server drew from the machine definition.
 */

/**
 * The start of a page served with its own stylesheet `/NAME.css` and script `/NAME.js`, up to
 * `</head>`; `token` is URL-safe base64 and `title` plain text, so neither needs escaping.
 *
 * @example
 * ```ts
 * documentHead('synack inspector', 'app', token); // '<!doctype html>…<script src="/app.js?token=…" defer></script>\n</head>\n'
 * ```
 */
export function documentHead(title: string, name: string, token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/${name}.css?token=${token}">
<script src="/${name}.js?token=${token}" defer></script>
</head>
`;
}

/** The HTML shell; `token` is URL-safe base64, so it needs no escaping. */
export function pageHtml(token: string): string {
  return `${documentHead('synack inspector', 'app', token)}<body>
<header class="top">
  <h1>synack inspector</h1>
  <span id="live" class="live off">connecting…</span>
  <span id="count" class="count"></span>
</header>
<div class="layout">
  <nav class="tree" aria-label="Actor tree"><h2>Actors</h2><ul id="tree"></ul></nav>
  <main id="cards"><p class="empty" id="empty">Waiting for actors…</p></main>
</div>
</body>
</html>
`;
}

export const PAGE_CSS = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1f2933; --muted:#66788a; --line:#d9dee5; --ok:#15803d; --okbg:#dcfce7; --warn:#b45309; --warnbg:#fef3c7; --bad:#b91c1c; --badbg:#fee2e2; --idle:#475569; --idlebg:#e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
code, .mono, td.v, .events { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.top { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #1f2933; color: #fff; position: sticky; top: 0; z-index: 2; }
.top h1 { font-size: 17px; margin: 0; font-weight: 600; letter-spacing: .2px; }
.live { font-size: 12.5px; padding: 2px 10px; border-radius: 10px; }
.live.on { background: #166534; }
.live.off { background: #92400e; }
.count { color: #cbd5e1; font-size: 13px; }
.layout { display: grid; grid-template-columns: 290px 1fr; gap: 20px; padding: 16px 20px; align-items: start; }
.tree { position: sticky; top: 60px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; max-height: calc(100vh - 80px); overflow: auto; }
.tree h2, .card h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 4px 0 8px; }
.tree ul { list-style: none; margin: 0; padding: 0; }
.tree ul ul { padding-left: 16px; border-left: 1px dotted var(--line); margin-left: 6px; }
.tree li > a { display: flex; align-items: center; gap: 6px; padding: 3px 4px; border-radius: 5px; color: inherit; text-decoration: none; }
.tree li > a:hover { background: #eef2f6; }
.tree .name { font-weight: 600; }
.tree .kind { color: var(--muted); font-size: 12px; }
.tree .stopped > a .name { text-decoration: line-through; color: var(--muted); }
.badge { display: inline-block; font: 600 11.5px/1.6 ui-monospace, "DejaVu Sans Mono", monospace; padding: 0 7px; border-radius: 9px; background: var(--idlebg); color: var(--idle); white-space: nowrap; }
.badge.ok { background: var(--okbg); color: var(--ok); }
.badge.warn { background: var(--warnbg); color: var(--warn); }
.badge.bad { background: var(--badbg); color: var(--bad); }
.tree .badge { margin-left: auto; }
#cards { display: flex; flex-direction: column; gap: 14px; min-width: 0; }
.empty { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px 14px; min-width: 0; }
.card.stopped { opacity: .62; }
.card.d1 { margin-left: 24px; } .card.d2 { margin-left: 48px; } .card.d3 { margin-left: 72px; } .card.d4 { margin-left: 96px; }
.card > header { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; margin-bottom: 10px; }
.card .id { font-size: 16px; font-weight: 700; }
.card .machine { color: var(--muted); }
.card .state-badge { font-size: 13px; padding: 1px 10px; }
.card .status { font-size: 12px; color: var(--bad); font-weight: 600; text-transform: uppercase; }
.card .path { color: var(--muted); font-size: 12px; margin-left: auto; }
.body { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(280px, 1fr); gap: 22px; align-items: start; }
.left { min-width: 0; }
.chart-box { overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart .st > rect { fill: #f8fafc; stroke: #94a3b8; stroke-width: 1.2; }
svg.chart .st.compound > rect { fill: #f1f5f9; stroke-dasharray: 4 3; }
svg.chart .st > rect.inner { fill: none; }
svg.chart .st text { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; fill: #334155; }
svg.chart .st.compound > text { font-weight: 600; fill: #64748b; }
svg.chart .initial { fill: #334155; }
svg.chart .st.active > rect { fill: #dcfce7; stroke: #16a34a; stroke-width: 2.4; stroke-dasharray: none; }
svg.chart .st.compound.active > rect { fill: #f0fdf4; }
svg.chart .st.active > text { fill: #14532d; font-weight: 700; }
table { border-collapse: collapse; width: 100%; }
table.ctx td { border-bottom: 1px solid #eef1f4; padding: 2px 6px; vertical-align: top; }
table.ctx td.k { color: var(--muted); white-space: nowrap; width: 1%; }
table.ctx td.v { word-break: break-all; }
table.ctx tr.error td.v { color: var(--bad); font-weight: 600; }
details.transitions { margin: 8px 0 10px; }
details.transitions summary { cursor: pointer; color: var(--muted); font-size: 12.5px; }
table.tr td { padding: 1px 6px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; color: var(--muted); }
table.tr tr.enabled td { color: var(--ink); }
table.tr tr.enabled td:first-child { border-left: 3px solid #16a34a; }
.events { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow-y: auto; border: 1px solid #eef1f4; border-radius: 6px; }
.events li { padding: 2px 8px; border-bottom: 1px solid #f1f3f5; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.events li:nth-child(odd) { background: #fafbfc; }
.events .t { color: var(--muted); }
.events .ty { font-weight: 700; }
.events .from, .events .data { color: var(--muted); }
.events .to { color: var(--ok); font-weight: 600; }
.events .none { color: var(--muted); }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } .tree { position: static; max-height: none; } .body { grid-template-columns: 1fr; } }
`;

/** The page's script: plain ES2017, no build step, no dependency. */
export const PAGE_JS = String.raw`
(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('token') || '';
  var MAX_EVENTS = 50;
  var actors = new Map();
  var machines = {};
  var cards = new Map();
  var dirty = new Set();
  var structural = true;
  var scheduled = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function tone(state, status) {
    if (status === 'error' || /FAILED|ERROR|DEAD/.test(state)) return 'bad';
    if (/ESTABLISHED|LISTENING|RUNNING|ALIVE|DONE|STREAMING|REGISTERED/.test(state)) return 'ok';
    if (/RETRY_WAIT|SYN_SENT|BINDING|CLOSING|FIN_WAIT|CLOSE_WAIT|LAST_ACK|MISSING|CONNECTING/.test(state)) return 'warn';
    return '';
  }
  function compact(value) {
    if (value === null || value === undefined) return '—';
    if (typeof value === 'string') return value;
    var text = JSON.stringify(value);
    return text.length > 240 ? text.slice(0, 240) + '…' : text;
  }
  function time(ts) {
    var d = new Date(ts);
    var pad = function (n, w) { return String(n).padStart(w || 2, '0'); };
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  }
  function shortType(type) {
    var after = /^xstate\.after\.([^.]+)\./.exec(type);
    return after ? 'after ' + after[1] : type;
  }
  function depthOf(actor) {
    var depth = 0;
    for (var p = actors.get(actor.parent); p && depth < 8; p = actors.get(p.parent)) depth++;
    return depth;
  }
  function pathOf(actor) {
    var names = [actor.id];
    for (var p = actors.get(actor.parent), n = 0; p && n < 8; p = actors.get(p.parent), n++) names.unshift(p.id);
    return names.join(' › ');
  }
  function ordered() {
    var children = new Map();
    var roots = [];
    actors.forEach(function (a) {
      if (a.parent && actors.has(a.parent)) {
        if (!children.has(a.parent)) children.set(a.parent, []);
        children.get(a.parent).push(a);
      } else roots.push(a);
    });
    return { roots: roots, children: children };
  }

  function buildCard(actor) {
    var card = el('section', 'card');
    card.id = 'card-' + actor.key;
    var head = el('header');
    card._id = head.appendChild(el('span', 'id'));
    card._machine = head.appendChild(el('span', 'machine'));
    card._badge = head.appendChild(el('span', 'badge state-badge'));
    card._status = head.appendChild(el('span', 'status'));
    card._path = head.appendChild(el('span', 'path'));
    card.appendChild(head);
    var body = el('div', 'body');
    var left = body.appendChild(el('div', 'left'));
    card._chart = left.appendChild(el('div', 'chart-box'));
    var details = left.appendChild(el('details', 'transitions'));
    card._summary = details.appendChild(el('summary'));
    card._tr = details.appendChild(el('table', 'tr'));
    left.appendChild(el('h3', '', 'Recent events'));
    card._events = left.appendChild(el('ol', 'events'));
    var side = body.appendChild(el('div', 'side'));
    side.appendChild(el('h3', '', 'Context'));
    card._ctx = side.appendChild(el('table', 'ctx'));
    card.appendChild(body);
    card._machineKey = null;
    return card;
  }

  function drawMachine(card, actor) {
    var machine = machines[actor.machine];
    if (!machine || card._machineKey === actor.machine) return;
    card._machineKey = actor.machine;
    card._chart.innerHTML = machine.svg;
    card._summary.textContent = 'Transitions (' + machine.transitions.length + ')';
    card._tr.textContent = '';
    card._rows = machine.transitions.map(function (t) {
      var row = el('tr');
      var name = function (id) { return machine.names[id] || id; };
      row.appendChild(el('td', '', name(t.source)));
      row.appendChild(el('td', '', '→ ' + (t.targets.length ? t.targets.map(name).join(', ') : '(stays)')));
      row.appendChild(el('td', '', t.label));
      card._tr.appendChild(row);
      return { row: row, source: t.source };
    });
  }

  function updateCard(card, actor) {
    card.dataset.key = actor.key;
    card.dataset.actorId = actor.id;
    card.dataset.state = actor.state;
    card.dataset.status = actor.status;
    card.classList.toggle('stopped', actor.stopped);
    card._id.textContent = actor.id;
    card._machine.textContent = actor.machine;
    card._badge.textContent = actor.state;
    card._badge.className = 'badge state-badge ' + tone(actor.state, actor.status);
    card._status.textContent = actor.stopped ? actor.status : '';
    card._path.textContent = pathOf(actor);
    drawMachine(card, actor);
    var active = new Set(actor.active);
    card._chart.querySelectorAll('[data-state]').forEach(function (g) {
      g.classList.toggle('active', active.has(g.getAttribute('data-state')));
    });
    (card._rows || []).forEach(function (r) { r.row.classList.toggle('enabled', !actor.stopped && active.has(r.source)); });
    card._ctx.textContent = '';
    var ctx = actor.context && typeof actor.context === 'object' ? actor.context : { value: actor.context };
    var keys = Object.keys(ctx);
    if (!keys.length) card._ctx.appendChild(el('tr')).appendChild(el('td', 'k', '(empty)'));
    keys.forEach(function (k) {
      var row = el('tr', k === 'lastError' && ctx[k] ? 'error' : '');
      row.appendChild(el('td', 'k', k));
      var v = ctx[k];
      row.appendChild(el('td', 'v', /At$/.test(k) && typeof v === 'number' ? time(v) : compact(v)));
      card._ctx.appendChild(row);
    });
    card._events.textContent = '';
    if (!actor.events.length) card._events.appendChild(el('li', 'none', 'no events since the page opened'));
    for (var i = actor.events.length - 1; i >= 0; i--) {
      var e = actor.events[i];
      var li = el('li');
      li.appendChild(el('span', 't', time(e.ts) + ' '));
      li.appendChild(el('span', 'ty', shortType(e.type)));
      if (e.from) li.appendChild(el('span', 'from', ' from ' + e.from));
      if (e.state) li.appendChild(el('span', 'to', ' → ' + e.state));
      if (e.data !== undefined) li.appendChild(el('span', 'data', ' ' + compact(e.data)));
      li.title = e.type + (e.data !== undefined ? ' ' + JSON.stringify(e.data) : '');
      card._events.appendChild(li);
    }
  }

  function treeItem(actor, children) {
    var li = el('li', actor.stopped ? 'stopped' : '');
    li.dataset.actorId = actor.id;
    var a = el('a');
    a.href = '#card-' + actor.key;
    a.appendChild(el('span', 'name', actor.id));
    a.appendChild(el('span', 'kind', actor.machine));
    a.appendChild(el('span', 'badge ' + tone(actor.state, actor.status), actor.stopped ? actor.status : actor.state));
    li.appendChild(a);
    var kids = children.get(actor.key);
    if (kids && kids.length) {
      var ul = el('ul');
      kids.forEach(function (k) { ul.appendChild(treeItem(k, children)); });
      li.appendChild(ul);
    }
    return li;
  }

  function render() {
    scheduled = false;
    var main = document.getElementById('cards');
    var tree = ordered();
    dirty.forEach(function (key) {
      var actor = actors.get(key);
      if (!actor) return;
      var card = cards.get(key);
      if (!card) { card = buildCard(actor); cards.set(key, card); structural = true; }
      updateCard(card, actor);
    });
    dirty.clear();
    cards.forEach(function (card, key) {
      if (!actors.has(key)) { card.remove(); cards.delete(key); structural = true; }
    });
    var list = document.getElementById('tree');
    list.textContent = '';
    tree.roots.forEach(function (a) { list.appendChild(treeItem(a, tree.children)); });
    if (structural) {
      structural = false;
      var walk = function (a) {
        var card = cards.get(a.key);
        if (card) {
          card.className = card.className.replace(/ ?d\d/g, '') + ' d' + Math.min(4, depthOf(a));
          main.appendChild(card);
        }
        (tree.children.get(a.key) || []).forEach(walk);
      };
      tree.roots.forEach(walk);
    }
    document.getElementById('empty').hidden = actors.size > 0;
    var live = 0;
    actors.forEach(function (a) { if (!a.stopped) live++; });
    document.getElementById('count').textContent = live + ' live actor' + (live === 1 ? '' : 's') + (actors.size > live ? ', ' + (actors.size - live) + ' stopped' : '');
  }
  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
  }

  function merge(update) {
    var known = actors.get(update.key);
    var events = known ? known.events : [];
    var last = events.length ? events[events.length - 1].seq : 0;
    update.events.forEach(function (e) { if (e.seq > last) events.push(e); });
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
    if (!known || known.parent !== update.parent) structural = true;
    update.events = events;
    actors.set(update.key, update);
    dirty.add(update.key);
  }

  function connect() {
    var live = document.getElementById('live');
    var source = new EventSource('/events?token=' + encodeURIComponent(token));
    source.onopen = function () { live.textContent = 'live'; live.className = 'live on'; };
    source.onerror = function () { live.textContent = 'reconnecting…'; live.className = 'live off'; };
    source.addEventListener('snapshot', function (m) {
      var data = JSON.parse(m.data);
      machines = data.machines;
      actors.clear();
      cards.forEach(function (card) { card._machineKey = null; });
      data.actors.forEach(merge);
      structural = true;
      schedule();
    });
    source.addEventListener('machine', function (m) {
      var data = JSON.parse(m.data);
      machines[data.key] = data.machine;
    });
    source.addEventListener('actor', function (m) { merge(JSON.parse(m.data).actor); schedule(); });
    source.addEventListener('removed', function (m) {
      actors.delete(JSON.parse(m.data).key);
      structural = true;
      schedule();
    });
  }
  connect();
})();
`;
