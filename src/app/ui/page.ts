/**
 * The web UI's HTML shell. Its script (page-script.ts) fills it from the model the server
 * streams; its stylesheet is page-style.ts. Everything is served by the UI itself (no CDN).
 */

import { documentHead } from '../inspector/page.js';

const FRAMINGS = '<option value="raw">raw bytes</option><option value="qt">Qt frames</option>';

/** The page; `token` is URL-safe base64, so it needs no escaping. */
export function uiHtml(token: string): string {
  return `${documentHead('synack · network assistant', 'ui', token)}<body>
<header class="top">
  <h1>synack <span>network assistant</span></h1>
  <nav class="tabs" role="tablist" aria-label="Views">
    <button type="button" role="tab" id="tab-network" data-view="network" aria-selected="true" aria-controls="view-network">Network</button>
    <button type="button" role="tab" id="tab-files" data-view="files" aria-selected="false" aria-controls="view-files" hidden>Files</button>
    <button type="button" role="tab" id="tab-p2p" data-view="p2p" aria-selected="false" aria-controls="view-p2p" hidden>P2P chat</button>
    <button type="button" role="tab" id="tab-inspector" data-view="inspector" aria-selected="false" aria-controls="view-inspector">Inspector</button>
  </nav>
  <span id="live" class="live off" role="status">connecting…</span>
</header>
<p id="banner" class="banner" role="alert" hidden></p>
<main>
<div id="view-network" class="view network" role="tabpanel" aria-labelledby="tab-network">
  <section class="panel" id="server" aria-labelledby="server-title">
    <header class="panel-head">
      <h2 id="server-title">TCP server</h2>
      <span class="badge" id="server-state">STOPPED</span>
      <span class="muted" id="server-address"></span>
    </header>
    <form id="server-form" class="settings" autocomplete="off" novalidate>
      <label class="wide">Interface <select id="server-host" name="host"></select></label>
      <label class="narrow">Port <input id="server-port" name="port" inputmode="numeric" spellcheck="false"></label>
      <label>Framing <select id="server-framing" name="framing">${FRAMINGS}</select></label>
      <label class="check"><input type="checkbox" id="server-relay" name="relay"> Relay</label>
      <div class="buttons">
        <button type="submit" class="primary" id="server-start">Start</button>
        <button type="button" id="server-stop">Stop</button>
        <label class="check small"><input type="checkbox" id="server-close-clients"> close clients on stop</label>
      </div>
    </form>
    <p class="fault" id="server-error" hidden></p>
    <p class="notice" id="server-notice" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="clients" id="server-clients">
        <thead><tr>
          <th class="pick"><input type="checkbox" id="select-all" aria-label="Select every client"></th>
          <th>Client · peer</th><th>State</th><th class="num">In</th><th class="num">Out</th><th>Since</th><th></th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p class="empty" id="server-empty">No clients connected.</p>
    </div>
    <div id="server-log"></div>
  </section>
  <section class="panel" id="clients" aria-labelledby="clients-title">
    <header class="panel-head"><h2 id="clients-title">TCP clients</h2><span class="muted" id="clients-count"></span></header>
    <form id="client-form" class="settings" autocomplete="off" novalidate>
      <label class="wide">Host <input id="client-host" name="host" list="recent-hosts" spellcheck="false"></label>
      <label class="narrow">Port <input id="client-port" name="port" inputmode="numeric" spellcheck="false"></label>
      <label>Framing <select id="client-framing" name="framing">${FRAMINGS}</select></label>
      <label class="narrow">Heartbeat ms <input id="client-heartbeat" name="heartbeatMs" inputmode="numeric" title="Qt framing: ping every N ms (0 = off)"></label>
      <label class="narrow">Reconnect <input id="client-reconnect" name="reconnect" inputmode="numeric" title="Retry a refused, lost or dead connection N times, with backoff"></label>
      <label class="grow">Recent <select id="client-recent" name="recent"><option value="">recent targets…</option></select></label>
      <div class="buttons"><button type="submit" class="primary" id="client-add">Connect</button></div>
    </form>
    <datalist id="recent-hosts"></datalist>
    <p class="notice" id="client-notice" role="alert" hidden></p>
    <div id="client-cards" class="cards">
      <p class="empty" id="cards-empty">No clients yet: enter a host and port and press Connect. Each client gets its own card.</p>
    </div>
  </section>
</div>
<div id="view-files" class="view files" role="tabpanel" aria-labelledby="tab-files" hidden>
  <section class="panel" id="file-send" aria-labelledby="file-send-title">
    <header class="panel-head"><h2 id="file-send-title">Send a file</h2></header>
    <p class="hint">Seed 002's file transfer: any receiver (a Qt one or synack) gets it; a synack receiver also confirms its SHA-256 and can resume.</p>
    <form id="send-form" class="settings" autocomplete="off" novalidate>
      <label class="wide">File <input type="file" id="send-file" name="file"></label>
      <label class="wide">Host <input id="send-host" name="host" list="recent-hosts" spellcheck="false"></label>
      <label class="narrow">Port <input id="send-port" name="port" inputmode="numeric" spellcheck="false"></label>
      <div class="buttons"><button type="submit" class="primary" id="send-button">Send</button></div>
    </form>
    <p class="notice" id="send-notice" role="alert" hidden></p>
    <ol class="transfers" id="send-transfers" aria-label="Files sent"></ol>
    <p class="empty" id="send-empty">No file sent yet.</p>
  </section>
  <section class="panel" id="file-receive" aria-labelledby="file-receive-title">
    <header class="panel-head">
      <h2 id="file-receive-title">Receive files</h2>
      <span class="badge" id="receiver-state">STOPPED</span>
      <span class="muted" id="receiver-address"></span>
    </header>
    <form id="receive-form" class="settings" autocomplete="off" novalidate>
      <label class="wide">Interface <select id="receive-host" name="host"></select></label>
      <label class="narrow">Port <input id="receive-port" name="port" inputmode="numeric" spellcheck="false"></label>
      <label class="wide">Into folder <input id="receive-dir" name="dir" spellcheck="false"></label>
      <label class="check"><input type="checkbox" id="receive-force" name="force"> Overwrite</label>
      <div class="buttons">
        <button type="submit" class="primary" id="receive-start">Start</button>
        <button type="button" id="receive-stop">Stop</button>
      </div>
    </form>
    <p class="fault" id="receive-error" hidden></p>
    <p class="notice" id="receive-notice" role="alert" hidden></p>
    <ol class="transfers" id="receive-transfers" aria-label="Files received"></ol>
    <p class="empty" id="receive-empty">Nothing received yet.</p>
    <div class="buttons end"><button type="button" class="small" id="files-clear">Clear finished</button></div>
    <div id="files-log"></div>
  </section>
</div>
<div id="view-p2p" class="view p2p" role="tabpanel" aria-labelledby="tab-p2p" hidden>
  <section class="panel" id="registry" aria-labelledby="registry-title">
    <header class="panel-head">
      <h2 id="registry-title">Registry</h2>
      <span class="badge" id="registry-state">STOPPED</span>
      <span class="muted" id="registry-address"></span>
    </header>
    <p class="hint">Peers register here and receive the list of the others; their chat goes directly from peer to peer.</p>
    <form id="registry-form" class="settings" autocomplete="off" novalidate>
      <label class="wide">Interface <select id="registry-host" name="host"></select></label>
      <label class="narrow">Port <input id="registry-port" name="port" inputmode="numeric" spellcheck="false"></label>
      <div class="buttons">
        <button type="submit" class="primary" id="registry-start">Start</button>
        <button type="button" id="registry-stop">Stop</button>
      </div>
    </form>
    <p class="fault" id="registry-error" hidden></p>
    <p class="notice" id="registry-notice" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="clients" id="registry-peers">
        <thead><tr><th>Registered peer</th><th>Chat address</th></tr></thead>
        <tbody></tbody>
      </table>
      <p class="empty" id="registry-empty">No peers registered.</p>
    </div>
    <div id="registry-log"></div>
  </section>
  <section class="panel" id="peer" aria-labelledby="peer-title">
    <header class="panel-head">
      <h2 id="peer-title">Peer</h2>
      <span class="badge" id="peer-chat" title="Chat listener">chat STOPPED</span>
      <span class="badge" id="peer-registry" title="Registry link">registry STOPPED</span>
    </header>
    <p class="hint" id="peer-self">Join a registry under a name to see the other peers and chat with them.</p>
    <form id="peer-form" class="settings" autocomplete="off" novalidate>
      <label class="narrow">Name <input id="peer-name" name="name" spellcheck="false"></label>
      <label class="wide">Registry <input id="peer-join" name="registry" placeholder="host:port" spellcheck="false"></label>
      <label>Chat interface <select id="peer-host" name="host"></select></label>
      <label class="narrow">Chat port <input id="peer-port" name="port" inputmode="numeric" spellcheck="false"></label>
      <div class="buttons">
        <button type="submit" class="primary" id="peer-join-button">Join</button>
        <button type="button" id="peer-leave">Leave</button>
      </div>
    </form>
    <p class="fault" id="peer-error" hidden></p>
    <p class="notice" id="peer-notice" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="clients" id="peer-list">
        <thead><tr><th>Peer</th><th>Chat address</th><th>Link</th></tr></thead>
        <tbody></tbody>
      </table>
      <p class="empty" id="peer-empty">No other peers listed.</p>
    </div>
    <div id="peer-log"></div>
  </section>
</div>
<div id="view-inspector" class="view inspector" role="tabpanel" aria-labelledby="tab-inspector" hidden>
  <p class="hint">Every actor behind this page, live: listeners, their accepted connections, client connections and heartbeats, each with its statechart. <a id="inspector-open" target="_blank" rel="noopener">Open in a new tab</a></p>
  <div id="inspector-slot" class="inspector-slot"></div>
</div>
</main>
</body>
</html>
`;
}
