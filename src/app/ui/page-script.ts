/**
 * The web UI's script: plain ES2020, no build step, no dependency. It reads the token from its
 * own URL, renders the model streamed on `/api/events`, and sends what the user asks for as
 * commands to `/api/command`. It holds no network logic: badges, counters and which buttons are
 * enabled all come from the machine snapshots in the model. Every value is put in the page as
 * text, never as markup.
 */
export const UI_JS = String.raw`
(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('token') || '';
  var PAGE_LOG = 1000;
  var model = { server: null, p2p: null, files: null, settings: null, interfaces: [] };
  var cards = new Map();
  var logs = new Map();
  var selected = new Set();
  var rows = new Map();
  var busy = new Set();
  var filled = false;

  function withToken(path) { return path + (path.indexOf('?') === -1 ? '?' : '&') + 'token=' + encodeURIComponent(token); }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function option(value, label) { var o = el('option', '', label); o.value = value; return o; }
  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  function clock(ts, ms) {
    var d = new Date(ts);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + (ms ? '.' + pad(d.getMilliseconds(), 3) : '');
  }
  function bytes(n) {
    if (n < 10240) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MiB';
    return (n / 1073741824).toFixed(2) + ' GiB';
  }
  function stacked(cell, top, bottom) {
    cell.textContent = '';
    cell.appendChild(el('span', '', top));
    cell.appendChild(el('small', '', bottom));
  }
  function traffic(b, m) { return bytes(b) + ' · ' + m + ' msg' + (m === 1 ? '' : 's'); }
  function tone(state) {
    if (/FAILED|GAVE_UP/.test(state)) return 'bad';
    if (/ESTABLISHED|LISTENING|REGISTERED/.test(state)) return 'ok';
    if (/RETRY_WAIT|SYN_SENT|BINDING|CLOSING|FIN_WAIT|CLOSE_WAIT|LAST_ACK|WAITING|CONNECTING|HANDSHAKE|BACKOFF/.test(state)) return 'warn';
    return '';
  }
  function where(host, port) { return (host.indexOf(':') === -1 ? host : '[' + host + ']') + ':' + port; }
  /** Replaces a select's options only when they changed, keeping the choice when it is still there. */
  function setOptions(select, list) {
    var key = JSON.stringify(list);
    if (select._key === key) return;
    select._key = key;
    var current = select.value;
    select.textContent = '';
    list.forEach(function (o) { select.appendChild(option(o.value, o.label)); });
    select.value = current;
    if (select.selectedIndex < 0 || select.value !== current) select.selectedIndex = 0;
  }
  function fillInterfaces(select, wanted) {
    var current = select.value || wanted;
    select.textContent = '';
    var groups = { IPv4: el('optgroup'), IPv6: el('optgroup') };
    groups.IPv4.label = 'IPv4';
    groups.IPv6.label = 'IPv6';
    model.interfaces.forEach(function (i) { groups[i.family].appendChild(option(i.value, i.label)); });
    select.appendChild(groups.IPv4);
    select.appendChild(groups.IPv6);
    select.value = current;
    if (select.value !== current) select.selectedIndex = 0;
  }
  function setBadge(node, text, state) {
    node.textContent = text;
    node.className = 'badge ' + tone(state);
  }
  function showNotice(node, error) {
    node.textContent = '';
    if (error.code) node.appendChild(el('span', 'code', error.code));
    node.appendChild(document.createTextNode(error.message));
    node.hidden = false;
  }

  function post(path, type, body) {
    return fetch(withToken(path), { method: 'POST', headers: { 'Content-Type': type }, body: body })
      .then(function (res) {
        return res.json().catch(function () { return { ok: false, error: { code: 'HTTP ' + res.status, message: res.statusText } }; });
      })
      .catch(function (error) { return { ok: false, error: { code: 'E_OFFLINE', message: 'the synack UI did not answer (' + error.message + ')' } }; });
  }

  function rerender() {
    renderServer();
    renderP2p();
    renderFiles();
    cards.forEach(function (card) { renderCard(card); });
  }

  /** Sends a command; shows its refusal in notice; the button stays disabled while it runs. */
  function command(body, notice, button) {
    if (button) { busy.add(button); button.disabled = true; }
    return post('/api/command', 'application/json', JSON.stringify(body)).then(function (reply) {
      if (button) busy.delete(button);
      if (notice) { if (reply.ok) notice.hidden = true; else showNotice(notice, reply.error); }
      rerender();
      return reply.ok ? reply.result : null;
    });
  }

  // ---- logs ---------------------------------------------------------------------------------
  var ARROWS = { in: '←', out: '→', event: '•', error: '!' };

  function entryNode(e, hex) {
    var li = el('li', e.kind);
    li.dataset.seq = e.seq;
    li.appendChild(el('time', '', clock(e.ts, true)));
    li.appendChild(el('span', 'dir', ARROWS[e.kind] || ''));
    if (e.who) li.appendChild(el('span', 'who', e.who));
    var showHex = hex && e.hex !== undefined;
    li.appendChild(el('span', 'body' + (e.who ? '' : ' wide'), showHex ? e.bytes + ' byte' + (e.bytes === 1 ? '' : 's') : e.text));
    if (showHex) li.appendChild(el('pre', 'dump', e.hex));
    return li;
  }

  function makeLog(panel, send) {
    var view = { panel: panel, entries: [], last: 0, hex: !!(model.settings && model.settings.view.hex) };
    var root = el('div', 'log');
    root.dataset.panel = panel;
    var bar = root.appendChild(el('div', 'log-bar'));
    bar.appendChild(el('h3', '', 'Log'));
    var seg = bar.appendChild(el('div', 'seg'));
    seg.setAttribute('role', 'group');
    seg.setAttribute('aria-label', 'Show data as');
    seg.hidden = send.views === false;
    var asText = seg.appendChild(el('button', '', 'Text'));
    var asHex = seg.appendChild(el('button', '', 'Hex'));
    asText.type = asHex.type = 'button';
    asText.dataset.view = 'text';
    asHex.dataset.view = 'hex';
    var followBox = el('input');
    followBox.type = 'checkbox';
    followBox.checked = true;
    var follow = bar.appendChild(el('label', 'check small'));
    follow.appendChild(followBox);
    follow.appendChild(document.createTextNode(' follow'));
    bar.appendChild(el('span', 'spacer'));
    var clear = bar.appendChild(el('button', 'small', 'Clear'));
    clear.type = 'button';
    clear.className = 'small clear';
    var save = bar.appendChild(el('a', 'button small save', 'Save log'));
    var list = root.appendChild(el('ol', 'entries'));
    var placeholder = el('li', 'placeholder', 'Nothing yet.');
    list.appendChild(placeholder);

    function setHex(hex) {
      view.hex = hex;
      asText.setAttribute('aria-pressed', String(!hex));
      asHex.setAttribute('aria-pressed', String(hex));
      save.href = withToken('/api/log?panel=' + encodeURIComponent(panel) + '&format=' + (hex ? 'hex' : 'text'));
      save.setAttribute('download', '');
      redraw();
    }
    function redraw() {
      list.textContent = '';
      if (!view.entries.length) list.appendChild(placeholder);
      view.entries.forEach(function (e) { list.appendChild(entryNode(e, view.hex)); });
      if (followBox.checked) list.scrollTop = list.scrollHeight;
    }
    view.add = function (entries) {
      var fresh = entries.filter(function (e) { return e.seq > view.last; });
      if (!fresh.length) return;
      placeholder.remove();
      view.last = fresh[fresh.length - 1].seq;
      fresh.forEach(function (e) { view.entries.push(e); list.appendChild(entryNode(e, view.hex)); });
      var extra = view.entries.length - PAGE_LOG;
      if (extra > 0) {
        view.entries.splice(0, extra);
        for (var i = 0; i < extra && list.firstChild; i++) list.removeChild(list.firstChild);
      }
      if (followBox.checked) list.scrollTop = list.scrollHeight;
    };
    view.reset = function (entries) {
      view.entries = [];
      view.last = 0;
      redraw();
      view.add(entries || []);
    };
    asText.onclick = function () { setHex(false); command({ type: 'view.set', hex: false }); };
    asHex.onclick = function () { setHex(true); command({ type: 'view.set', hex: true }); };
    clear.onclick = function () { command({ type: 'log.clear', panel: panel }, send.notice, clear); };
    setHex(view.hex);

    view.root = root;
    if (send.input === false) return view;
    var form = root.appendChild(el('form', 'sendbox'));
    form.noValidate = true;
    var text = form.appendChild(el('textarea'));
    text.rows = 1;
    text.spellcheck = false;
    text.placeholder = 'Message · Enter sends';
    text.title = 'Enter sends; Shift+Enter starts a new line';
    text.setAttribute('aria-label', 'Message to send');
    var opts = form.appendChild(el('div', 'send-opts'));
    var target = null;
    if (send.targets) {
      target = opts.appendChild(el('select', 'target'));
      target.setAttribute('aria-label', 'Send to');
      target.onchange = function () { send.refresh(); };
    }
    var mode = null;
    var eol = null;
    if (send.modes !== false) {
      mode = opts.appendChild(el('select', 'mode'));
      mode.setAttribute('aria-label', 'Type of message');
      mode.appendChild(option('text', 'Text'));
      mode.appendChild(option('hex', 'Hex bytes'));
      eol = opts.appendChild(el('select', 'eol'));
      eol.setAttribute('aria-label', 'Line ending');
      eol.appendChild(option('lf', 'LF'));
      eol.appendChild(option('crlf', 'CRLF'));
      eol.appendChild(option('none', 'no line end'));
      if (model.settings) { mode.value = model.settings.send.mode; eol.value = model.settings.send.eol; }
      var persist = function () { command({ type: 'view.set', mode: mode.value, eol: eol.value }); send.refresh(); };
      mode.onchange = persist;
      eol.onchange = persist;
    }
    var button = opts.appendChild(el('button', 'primary', 'Send'));
    button.type = 'submit';
    text.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (!button.disabled) form.requestSubmit();
      }
    });
    form.onsubmit = function (event) {
      event.preventDefault();
      var body = send.body({ data: text.value, mode: mode ? mode.value : 'text', eol: eol ? eol.value : 'none' }, target ? target.value : null);
      command(body, send.notice, button).then(function (result) {
        if (!result) return;
        if (send.clearAfter) text.value = ''; else text.select();
      });
    };
    view.sendButton = button;
    view.target = target;
    view.mode = mode;
    view.eol = eol;
    view.text = text;
    view.busy = function () { return busy.has(button); };
    return view;
  }

  // ---- server panel -------------------------------------------------------------------------
  var serverLog = null;

  function selectedIds() {
    var ids = [];
    selected.forEach(function (id) { if (rows.has(id)) ids.push(id); });
    return ids;
  }

  function rowFor(id) {
    var row = rows.get(id);
    if (row) return row;
    row = el('tr');
    row.dataset.clientId = id;
    var pick = row.appendChild(el('td', 'pick'));
    row._box = pick.appendChild(el('input'));
    row._box.type = 'checkbox';
    row._box.setAttribute('aria-label', 'Select ' + id);
    row._box.onchange = function () {
      if (row._box.checked) selected.add(id); else selected.delete(id);
      renderServer();
    };
    var who = row.appendChild(el('td', 'who'));
    who.appendChild(el('b', '', id));
    row._peer = who.appendChild(el('span', 'peer'));
    row._state = row.appendChild(el('td')).appendChild(el('span', 'badge'));
    row._in = row.appendChild(el('td', 'num in'));
    row._out = row.appendChild(el('td', 'num out'));
    row._since = row.appendChild(el('td', 'since'));
    var actions = row.appendChild(el('td'));
    row._close = actions.appendChild(el('button', 'small danger', 'Disconnect'));
    row._close.title = 'Disconnect ' + id;
    row._close.type = 'button';
    row._close.onclick = function () { command({ type: 'server.disconnect', id: id }, $('server-notice'), row._close); };
    rows.set(id, row);
    return row;
  }

  function renderServer() {
    var s = model.server;
    if (!s) return;
    var panel = $('server');
    panel.dataset.state = s.state;
    panel.dataset.address = s.address || '';
    setBadge($('server-state'), s.state, s.state);
    var mode = s.config ? (s.config.framing === 'qt' ? 'Qt frames' + (s.config.relay ? ', relaying' : '') : 'raw bytes') : '';
    $('server-address').textContent = s.address ? 'on ' + s.address + ' · ' + mode : '';
    var editable = s.can.start;
    ['server-host', 'server-port', 'server-framing'].forEach(function (id) { $(id).disabled = !editable; });
    $('server-relay').disabled = !editable || $('server-framing').value !== 'qt';
    $('server-start').disabled = !s.can.start || busy.has($('server-start'));
    $('server-stop').disabled = !s.can.stop || busy.has($('server-stop'));
    var fault = $('server-error');
    fault.hidden = !s.lastError;
    if (s.lastError) fault.textContent = s.lastError.code + ': ' + s.lastError.message;

    var tbody = document.querySelector('#server-clients tbody');
    var present = new Set();
    s.clients.forEach(function (c, index) {
      present.add(c.id);
      var row = rowFor(c.id);
      row.dataset.state = c.state;
      row.dataset.bytesIn = c.bytesIn;
      row.dataset.bytesOut = c.bytesOut;
      row.dataset.messagesIn = c.messagesIn;
      row.dataset.messagesOut = c.messagesOut;
      row._peer.textContent = c.peer;
      setBadge(row._state, c.state, c.state);
      stacked(row._in, bytes(c.bytesIn), c.messagesIn + ' msg' + (c.messagesIn === 1 ? '' : 's'));
      stacked(row._out, bytes(c.bytesOut), c.messagesOut + ' msg' + (c.messagesOut === 1 ? '' : 's'));
      row._since.textContent = c.since ? clock(c.since) : '';
      row._box.checked = selected.has(c.id);
      row.classList.toggle('selected', selected.has(c.id));
      row._close.disabled = !c.canClose || busy.has(row._close);
      if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] || null);
    });
    rows.forEach(function (row, id) {
      if (!present.has(id)) { row.remove(); rows.delete(id); selected.delete(id); }
    });
    $('server-empty').hidden = s.clients.length > 0;
    var all = $('select-all');
    all.disabled = s.clients.length === 0;
    all.checked = s.clients.length > 0 && selectedIds().length === s.clients.length;
    $('server-empty').textContent = s.state === 'LISTENING' ? 'No clients connected yet.' : 'No clients connected.';

    if (serverLog) {
      var toSelected = serverLog.target.value === 'selected';
      var picked = selectedIds().length;
      serverLog.target.options[1].textContent = 'to selected (' + picked + ')';
      serverLog.sendButton.disabled = !s.can.send || (toSelected && picked === 0) || serverLog.busy();
      serverLog.eol.disabled = serverLog.mode.value === 'hex' || (s.config && s.config.framing === 'qt');
    }
  }

  function fillServerForm() {
    fillInterfaces($('server-host'), model.settings.server.host);
    if (filled) return;
    var s = model.settings.server;
    $('server-port').value = s.port;
    $('server-framing').value = s.framing;
    $('server-relay').checked = s.relay;
    $('server-close-clients').checked = s.closeClientsOnStop;
  }

  // ---- client cards -------------------------------------------------------------------------
  function fillClientForm() {
    var c = model.settings.client;
    $('client-host').value = c.host;
    $('client-port').value = c.port;
    $('client-framing').value = c.framing;
    $('client-heartbeat').value = c.heartbeatMs;
    $('client-reconnect').value = c.reconnect;
    syncClientForm();
  }

  function syncClientForm() {
    $('client-heartbeat').disabled = $('client-framing').value !== 'qt';
  }

  function renderRecent() {
    var recent = model.settings.recent;
    var select = $('client-recent');
    select.textContent = '';
    select.appendChild(option('', recent.length ? 'recent targets…' : 'no recent targets'));
    var hosts = $('recent-hosts');
    hosts.textContent = '';
    var seen = new Set();
    recent.forEach(function (r, i) {
      select.appendChild(option(String(i), r.host + ' : ' + r.port + ' · ' + r.framing));
      if (!seen.has(r.host)) { seen.add(r.host); hosts.appendChild(option(r.host, r.host)); }
    });
    select.disabled = recent.length === 0;
  }

  function fact(dl, label) {
    var div = dl.appendChild(el('div'));
    div.appendChild(el('dt', '', label));
    return div.appendChild(el('dd'));
  }

  function cardFor(view) {
    var card = cards.get(view.id);
    if (card) return card;
    var id = view.id;
    var node = el('article', 'card');
    node.dataset.clientId = id;
    var head = node.appendChild(el('header', 'card-head'));
    head.appendChild(el('h3', '', id));
    head.appendChild(el('span', 'target', '→ ' + where(view.config.host, view.config.port)));
    card = { id: id, node: node, view: view };
    card.badge = head.appendChild(el('span', 'badge'));
    head.appendChild(el('span', 'spacer'));
    var actions = head.appendChild(el('div', 'actions'));
    card.connect = actions.appendChild(el('button', 'small connect', 'Connect'));
    card.disconnect = actions.appendChild(el('button', 'small disconnect', 'Disconnect'));
    card.remove = actions.appendChild(el('button', 'icon remove', '✕'));
    card.connect.type = card.disconnect.type = card.remove.type = 'button';
    card.remove.title = 'Remove ' + id;
    card.remove.setAttribute('aria-label', 'Remove ' + id);
    var dl = node.appendChild(el('dl', 'facts'));
    var hb = view.config.framing === 'qt' ? (view.config.heartbeatMs ? ', heartbeat ' + view.config.heartbeatMs + ' ms' : ', no heartbeat') : '';
    fact(dl, 'framing').textContent = (view.config.framing === 'qt' ? 'Qt frames' : 'raw') + hb;
    fact(dl, 'reconnect').textContent = view.config.reconnect ? view.config.reconnect + '×' : 'off';
    card.local = fact(dl, 'local');
    card.in = fact(dl, 'in');
    card.out = fact(dl, 'out');
    card.since = fact(dl, 'since');
    card.trail = node.appendChild(el('ol', 'trail'));
    card.trail.setAttribute('aria-label', 'Recent states');
    card.fault = node.appendChild(el('p', 'fault'));
    card.notice = node.appendChild(el('p', 'notice'));
    card.notice.hidden = true;
    card.connect.onclick = function () { command({ type: 'client.connect', id: id }, card.notice, card.connect); };
    card.disconnect.onclick = function () { command({ type: 'client.disconnect', id: id }, card.notice, card.disconnect); };
    card.remove.onclick = function () { command({ type: 'client.remove', id: id }, card.notice, card.remove); };
    card.log = logFor(id, {
      notice: card.notice,
      body: function (payload) { return Object.assign({ type: 'client.send', id: id }, payload); },
      refresh: function () { renderCard(card); },
    });
    node.appendChild(card.log.root);
    cards.set(id, card);
    $('client-cards').appendChild(node);
    $('cards-empty').hidden = true;
    return card;
  }

  function renderCard(card) {
    var v = card.view;
    card.node.dataset.state = v.state;
    card.node.dataset.badge = v.badge;
    card.node.dataset.tone = tone(v.state);
    setBadge(card.badge, v.badge, v.state);
    card.connect.textContent = v.state === 'RETRY_WAIT' ? 'Retry now' : 'Connect';
    card.connect.disabled = !v.can.connect || busy.has(card.connect);
    card.disconnect.disabled = !v.can.disconnect || busy.has(card.disconnect);
    card.local.textContent = v.local || '—';
    card.in.textContent = traffic(v.bytesIn, v.messagesIn);
    card.out.textContent = traffic(v.bytesOut, v.messagesOut);
    card.since.textContent = v.establishedAt ? clock(v.establishedAt) : '—';
    card.trail.textContent = '';
    v.history.slice(-8).forEach(function (h) {
      var li = card.trail.appendChild(el('li', '', h.badge));
      li.title = clock(h.ts, true);
    });
    card.fault.hidden = !v.lastError;
    if (v.lastError) card.fault.textContent = v.lastError.code + ': ' + v.lastError.message + (v.state === 'RETRY_WAIT' ? ' · next try in ' + v.retryDelayMs + ' ms' : '');
    card.log.sendButton.disabled = !v.can.send || card.log.busy();
    card.log.eol.disabled = card.log.mode.value === 'hex' || v.config.framing === 'qt';
  }

  function dropCard(id) {
    var card = cards.get(id);
    if (card) card.node.remove();
    cards.delete(id);
    logs.delete(id);
    $('cards-empty').hidden = cards.size > 0;
  }

  function renderCount() {
    $('clients-count').textContent = cards.size ? cards.size + ' card' + (cards.size === 1 ? '' : 's') : '';
  }

  function logFor(panel, send) {
    var view = logs.get(panel);
    if (view && view.root) return view;
    var made = makeLog(panel, send);
    if (view) made.add(view.entries);
    logs.set(panel, made);
    return made;
  }

  function pendingLog(panel) {
    var view = logs.get(panel);
    if (!view) {
      view = { entries: [], add: function (entries) { view.entries = view.entries.concat(entries); }, reset: function (entries) { view.entries = entries || []; } };
      logs.set(panel, view);
    }
    return view;
  }

  // ---- P2P tab ------------------------------------------------------------------------------
  var registryLog = null;
  var peerLog = null;

  function fillRows(tbody, list, cells) {
    tbody.textContent = '';
    list.forEach(function (item) {
      var row = tbody.appendChild(el('tr'));
      row.dataset.name = item.name;
      cells(item).forEach(function (cell, i) { row.appendChild(el('td', i === 0 ? 'who' : 'peer-cell', cell)); });
    });
  }

  function setupP2p(m) {
    $('tab-p2p').hidden = false;
    fillInterfaces($('registry-host'), model.settings.p2p.registryHost);
    fillInterfaces($('peer-host'), model.settings.p2p.chatHost);
    if (!registryLog) {
      var p = model.settings.p2p;
      $('registry-port').value = p.registryPort;
      $('peer-name').value = p.name;
      $('peer-join').value = p.join;
      $('peer-port').value = p.chatPort;
      registryLog = logFor('registry', { input: false, views: false, notice: $('registry-notice'), refresh: renderP2p });
      $('registry-log').appendChild(registryLog.root);
      peerLog = logFor('p2p', {
        targets: true,
        modes: false,
        views: false,
        notice: $('peer-notice'),
        clearAfter: true,
        body: function (payload, target) { return { type: 'peer.send', to: target, text: payload.data }; },
        refresh: renderP2p,
      });
      peerLog.text.placeholder = 'Chat message · Enter sends';
      $('peer-log').appendChild(peerLog.root);
    }
    model.p2p = m.p2p;
    renderP2p();
  }

  function renderP2p() {
    var v = model.p2p;
    if (!v || !peerLog) return;
    var r = v.registry;
    $('registry').dataset.state = r.state;
    $('registry').dataset.address = r.address || '';
    setBadge($('registry-state'), r.state, r.state);
    $('registry-address').textContent = r.address ? 'on ' + r.address + ' · ' + r.links + ' link' + (r.links === 1 ? '' : 's') : '';
    $('registry-host').disabled = $('registry-port').disabled = !r.can.start;
    $('registry-start').disabled = !r.can.start || busy.has($('registry-start'));
    $('registry-stop').disabled = !r.can.stop || busy.has($('registry-stop'));
    $('registry-error').hidden = !r.lastError;
    if (r.lastError) $('registry-error').textContent = r.lastError.code + ': ' + r.lastError.message;
    fillRows(document.querySelector('#registry-peers tbody'), r.peers, function (p) { return [p.name, where(p.host, p.port)]; });
    $('registry-empty').hidden = r.peers.length > 0;

    var p = v.peer;
    $('peer').dataset.chat = p.chat;
    $('peer').dataset.registry = p.registry;
    setBadge($('peer-chat'), 'chat ' + p.chat, p.chat);
    setBadge($('peer-registry'), 'registry ' + p.registry, p.registry);
    $('peer-self').textContent = p.self
      ? 'You are ' + p.self.name + '@' + where(p.self.host, p.self.port) + ', registered with ' + p.target + '.'
      : p.name ? p.name + ' is joining ' + p.target + '…' : 'Join a registry under a name to see the other peers and chat with them.';
    ['peer-name', 'peer-join', 'peer-host', 'peer-port'].forEach(function (id) { $(id).disabled = !p.can.join; });
    $('peer-join-button').disabled = !p.can.join || busy.has($('peer-join-button'));
    $('peer-leave').disabled = !p.can.leave || busy.has($('peer-leave'));
    $('peer-error').hidden = !p.lastError;
    if (p.lastError) $('peer-error').textContent = p.lastError.code + ': ' + p.lastError.message;
    var links = {};
    p.links.forEach(function (l) { if (l.name && l.open) links[l.name] = l.direction === 'out' ? 'open (we dialled)' : 'open (they dialled)'; });
    fillRows(document.querySelector('#peer-list tbody'), p.peers, function (q) { return [q.name, where(q.host, q.port), links[q.name] || '—']; });
    $('peer-empty').hidden = p.peers.length > 0;
    setOptions(peerLog.target, [{ value: 'all', label: 'to everyone' }].concat(p.peers.map(function (q) { return { value: q.name, label: 'to ' + q.name }; })));
    peerLog.sendButton.disabled = !p.can.send || peerLog.busy();
  }

  $('registry-form').onsubmit = function (event) {
    event.preventDefault();
    command({ type: 'registry.start', host: $('registry-host').value, port: $('registry-port').value.trim() }, $('registry-notice'), $('registry-start'));
  };
  $('registry-stop').onclick = function () { command({ type: 'registry.stop' }, $('registry-notice'), $('registry-stop')); };
  $('peer-form').onsubmit = function (event) {
    event.preventDefault();
    command({
      type: 'peer.join',
      name: $('peer-name').value,
      registry: $('peer-join').value,
      host: $('peer-host').value,
      port: $('peer-port').value.trim() || 0,
    }, $('peer-notice'), $('peer-join-button'));
  };
  $('peer-leave').onclick = function () { command({ type: 'peer.leave' }, $('peer-notice'), $('peer-leave')); };

  // ---- Files tab ----------------------------------------------------------------------------
  var filesLog = null;
  var transferNodes = new Map();

  function duration(ms) {
    if (ms === null || ms === undefined) return '…';
    var sec = Math.max(0, Math.ceil(ms / 1000));
    return sec < 60 ? sec + ' s' : Math.floor(sec / 60) + ' min ' + (sec % 60) + ' s';
  }
  function transferTone(state) {
    if (state === 'DONE') return 'ok';
    if (state === 'FAILED' || state === 'CANCELLED') return 'bad';
    return '';
  }

  function setupFiles(m) {
    $('tab-files').hidden = false;
    fillInterfaces($('receive-host'), model.settings.files.host);
    if (!filesLog) {
      var f = model.settings.files;
      $('send-host').value = f.sendHost;
      $('send-port').value = f.sendPort;
      $('receive-port').value = f.port;
      $('receive-dir').value = f.dir;
      $('receive-force').checked = f.force;
      filesLog = logFor('files', { input: false, views: false, notice: $('receive-notice'), refresh: renderFiles });
      $('files-log').appendChild(filesLog.root);
    }
    model.files = m.files;
    renderFiles();
  }

  function transferNode(t) {
    var node = transferNodes.get(t.id);
    if (node) return node;
    node = el('li', 'transfer');
    node.dataset.id = t.id;
    node.dataset.direction = t.direction;
    var head = node.appendChild(el('div', 't-head'));
    node._name = head.appendChild(el('span', 'name'));
    node._peer = head.appendChild(el('span', 'peer', (t.direction === 'send' ? '→ ' : '← ') + t.peer));
    node._badge = head.appendChild(el('span', 'badge'));
    head.appendChild(el('span', 'spacer'));
    if (t.direction === 'send') {
      node._cancel = head.appendChild(el('button', 'small danger', 'Cancel'));
      node._cancel.type = 'button';
      node._cancel.onclick = function () { command({ type: 'files.cancel', id: t.id }, $('send-notice'), node._cancel); };
    }
    node._bar = node.appendChild(el('progress'));
    node._meta = node.appendChild(el('div', 't-meta'));
    node._sha = node.appendChild(el('div', 't-sha'));
    node._fault = node.appendChild(el('p', 'fault'));
    transferNodes.set(t.id, node);
    return node;
  }

  function renderTransfer(node, t) {
    var total = t.total || 0;
    var percent = total ? Math.floor((t.bytes * 100) / total) : t.state === 'DONE' ? 100 : 0;
    var active = !transferTone(t.state);
    node.dataset.state = t.state;
    node.dataset.tone = transferTone(t.state);
    node.dataset.percent = percent;
    node.dataset.sha256 = t.sha256 || '';
    node._name.textContent = t.name || '(waiting for its name)';
    node._badge.textContent = t.state;
    node._badge.className = 'badge ' + (transferTone(t.state) || (active ? 'warn' : ''));
    node._bar.max = total || 1;
    node._bar.value = total ? t.bytes : t.state === 'DONE' ? 1 : 0;
    node._bar.setAttribute('aria-label', percent + ' %');
    node._meta.textContent = bytes(t.bytes) + (total ? ' of ' + bytes(total) : '') + ' · ' + percent + ' %' +
      (active && t.state === 'STREAMING' ? ' · ' + bytes(t.rate) + '/s · ETA ' + duration(t.etaMs) : '');
    node._sha.hidden = !t.sha256;
    node._sha.textContent = t.sha256
      ? 'sha256 ' + t.sha256 + (t.direction === 'send' ? (t.verified ? ' · confirmed by the receiver' : ' · not confirmed (the receiver does not answer)') : ' · saved as ' + t.path)
      : '';
    node._fault.hidden = !t.error;
    if (t.error) node._fault.textContent = t.error.code + ': ' + t.error.message;
    if (node._cancel) {
      node._cancel.hidden = !active;
      node._cancel.disabled = !t.can.cancel || busy.has(node._cancel);
    }
  }

  function renderFiles() {
    var f = model.files;
    if (!f || !filesLog) return;
    var r = f.receiver;
    $('file-receive').dataset.state = r.state;
    $('file-receive').dataset.address = r.address || '';
    setBadge($('receiver-state'), r.state, r.state);
    $('receiver-address').textContent = r.address ? 'on ' + r.address + ' · into ' + r.dir : '';
    ['receive-host', 'receive-port', 'receive-dir', 'receive-force'].forEach(function (id) { $(id).disabled = !r.can.start; });
    $('receive-start').disabled = !r.can.start || busy.has($('receive-start'));
    $('receive-stop').disabled = !r.can.stop || busy.has($('receive-stop'));
    $('receive-error').hidden = !r.lastError;
    if (r.lastError) $('receive-error').textContent = r.lastError.code + ': ' + r.lastError.message;
    var lists = { send: $('send-transfers'), receive: $('receive-transfers') };
    var seen = new Set();
    var index = { send: 0, receive: 0 };
    f.transfers.forEach(function (t) {
      seen.add(t.id);
      var node = transferNode(t);
      renderTransfer(node, t);
      var list = lists[t.direction];
      var at = index[t.direction]++;
      if (list.children[at] !== node) list.insertBefore(node, list.children[at] || null);
    });
    transferNodes.forEach(function (node, id) { if (!seen.has(id)) { node.remove(); transferNodes.delete(id); } });
    $('send-empty').hidden = index.send > 0;
    $('receive-empty').hidden = index.receive > 0;
    $('send-button').disabled = busy.has($('send-button'));
  }

  $('send-form').onsubmit = function (event) {
    event.preventDefault();
    var file = $('send-file').files[0];
    var notice = $('send-notice');
    var button = $('send-button');
    if (!file) return showNotice(notice, { code: 'E_USAGE', message: 'choose a file to send first' });
    busy.add(button);
    button.disabled = true;
    button.textContent = 'Uploading…';
    post('/api/upload?name=' + encodeURIComponent(file.name), 'application/octet-stream', file).then(function (reply) {
      busy.delete(button);
      button.textContent = 'Send';
      if (!reply.ok) { showNotice(notice, reply.error); rerender(); return; }
      command({ type: 'files.send', upload: reply.result.upload, host: $('send-host').value.trim(), port: $('send-port').value.trim() }, notice, button);
    });
  };
  $('receive-form').onsubmit = function (event) {
    event.preventDefault();
    command({
      type: 'files.receive',
      host: $('receive-host').value,
      port: $('receive-port').value.trim(),
      dir: $('receive-dir').value,
      force: $('receive-force').checked,
    }, $('receive-notice'), $('receive-start'));
  };
  $('receive-stop').onclick = function () { command({ type: 'files.stop' }, $('receive-notice'), $('receive-stop')); };
  $('files-clear').onclick = function () { command({ type: 'files.clear' }, $('receive-notice'), $('files-clear')); };

  // ---- model --------------------------------------------------------------------------------
  function upsertCards(list) {
    list.forEach(function (view) {
      var card = cardFor(view);
      card.view = view;
      renderCard(card);
    });
    renderCount();
  }

  function applySnapshot(m) {
    model.interfaces = m.interfaces;
    model.settings = m.settings;
    fillServerForm();
    if (!filled) fillClientForm();
    filled = true;
    renderRecent();
    var banner = $('banner');
    banner.hidden = !m.settingsProblem;
    banner.textContent = m.settingsProblem || '';
    if (!serverLog) {
      serverLog = logFor('server', {
        targets: true,
        notice: $('server-notice'),
        body: function (payload, target) { return Object.assign({ type: 'server.send', to: target === 'selected' ? selectedIds() : 'all' }, payload); },
        refresh: renderServer,
      });
      setOptions(serverLog.target, [{ value: 'all', label: 'to all clients' }, { value: 'selected', label: 'to selected' }]);
      $('server-log').appendChild(serverLog.root);
    }
    if (m.features.p2p) setupP2p(m);
    if (m.features.files) setupFiles(m);
    model.server = m.server;
    renderServer();
    var ids = new Set(m.clients.map(function (c) { return c.id; }));
    cards.forEach(function (card, id) { if (!ids.has(id)) dropCard(id); });
    upsertCards(m.clients);
    logs.forEach(function (view, panel) { view.reset(m.logs[panel] || []); });
    Object.keys(m.logs).forEach(function (panel) { if (!logs.has(panel)) pendingLog(panel).reset(m.logs[panel]); });
  }

  function applyUpdate(m) {
    if (m.settings) { model.settings = m.settings; renderRecent(); }
    if (m.removed) m.removed.forEach(dropCard);
    if (m.clients) upsertCards(m.clients);
    if (m.server) { model.server = m.server; renderServer(); }
    if (m.p2p) { model.p2p = m.p2p; renderP2p(); }
    if (m.files) { model.files = m.files; renderFiles(); }
    if (m.cleared) m.cleared.forEach(function (panel) { var v = logs.get(panel); if (v) v.reset([]); });
    if (m.logs) Object.keys(m.logs).forEach(function (panel) { (logs.get(panel) || pendingLog(panel)).add(m.logs[panel]); });
    renderCount();
  }

  // ---- forms and tabs -----------------------------------------------------------------------
  $('server-framing').onchange = function () {
    if ($('server-framing').value !== 'qt') $('server-relay').checked = false;
    renderServer();
  };
  $('server-form').onsubmit = function (event) {
    event.preventDefault();
    command({
      type: 'server.start',
      host: $('server-host').value,
      port: $('server-port').value.trim(),
      framing: $('server-framing').value,
      relay: $('server-relay').checked,
    }, $('server-notice'), $('server-start'));
  };
  $('server-stop').onclick = function () {
    command({ type: 'server.stop', closeClients: $('server-close-clients').checked }, $('server-notice'), $('server-stop'));
  };
  $('select-all').onchange = function () {
    var on = $('select-all').checked;
    rows.forEach(function (row, id) { if (on) selected.add(id); else selected.delete(id); });
    renderServer();
  };
  $('client-framing').onchange = syncClientForm;
  $('client-recent').onchange = function () {
    var r = model.settings.recent[Number($('client-recent').value)];
    if (!r) return;
    $('client-host').value = r.host;
    $('client-port').value = r.port;
    $('client-framing').value = r.framing;
    syncClientForm();
    $('client-recent').value = '';
  };
  $('client-form').onsubmit = function (event) {
    event.preventDefault();
    var qt = $('client-framing').value === 'qt';
    var body = {
      type: 'client.add',
      connect: true,
      host: $('client-host').value.trim(),
      port: $('client-port').value.trim(),
      framing: $('client-framing').value,
      heartbeatMs: qt ? $('client-heartbeat').value.trim() : 0,
      reconnect: $('client-reconnect').value.trim() || 0,
    };
    if (qt && body.heartbeatMs === '') delete body.heartbeatMs;
    command(body, $('client-notice'), $('client-add')).then(function () { $('client-add').disabled = false; });
  };

  var inspectorUrl = withToken('/inspector');
  $('inspector-open').href = inspectorUrl;
  function showView(name) {
    document.querySelectorAll('.tabs button').forEach(function (tab) {
      var on = tab.dataset.view === name;
      tab.setAttribute('aria-selected', String(on));
      $('view-' + tab.dataset.view).hidden = !on;
    });
    var slot = $('inspector-slot');
    // The inspector records only while its page is open: drop the frame when it is not shown.
    if (name === 'inspector' && !slot.firstChild) {
      var frame = el('iframe');
      frame.title = 'Live inspector';
      frame.src = inspectorUrl;
      slot.appendChild(frame);
    } else if (name !== 'inspector') slot.textContent = '';
  }
  document.querySelectorAll('.tabs button').forEach(function (tab) {
    tab.onclick = function () { showView(tab.dataset.view); };
  });

  function connect() {
    var live = $('live');
    var source = new EventSource(withToken('/api/events'));
    source.onopen = function () { live.textContent = 'live'; live.className = 'live on'; };
    source.onerror = function () { live.textContent = 'reconnecting…'; live.className = 'live off'; };
    source.addEventListener('snapshot', function (m) { applySnapshot(JSON.parse(m.data)); });
    source.addEventListener('update', function (m) { applyUpdate(JSON.parse(m.data)); });
  }
  connect();
})();
`;
