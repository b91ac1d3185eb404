/** The web UI's stylesheet (same palette as the inspector). */
export const UI_CSS = `
:root {
  --bg:#f4f6f8; --card:#fff; --ink:#1f2933; --muted:#66788a; --line:#d9dee5; --soft:#eef1f4;
  --ok:#15803d; --okbg:#dcfce7; --warn:#b45309; --warnbg:#fef3c7; --bad:#b91c1c; --badbg:#fee2e2; --idle:#475569; --idlebg:#e2e8f0;
  --in:#166534; --inbg:#f0fdf4; --out:#1d4ed8; --outbg:#eff6ff; --accent:#2563eb;
  --mono: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
button, input, select, textarea { font: inherit; color: inherit; }
.top { display: flex; align-items: center; gap: 22px; padding: 0 20px; height: 50px; background: #1f2933; color: #fff; position: sticky; top: 0; z-index: 3; }
.top h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: .2px; white-space: nowrap; }
.top h1 span { font-weight: 400; color: #cbd5e1; margin-left: 4px; }
.tabs { display: flex; gap: 4px; height: 100%; }
.tabs button { background: none; border: 0; border-bottom: 3px solid transparent; color: #cbd5e1; padding: 0 14px; cursor: pointer; height: 100%; font-weight: 550; }
.tabs button:hover:not(:disabled) { color: #fff; background: rgba(255,255,255,.07); }
.tabs button[aria-selected="true"] { color: #fff; border-bottom-color: #60a5fa; }
.live { margin-left: auto; font-size: 12.5px; padding: 2px 10px; border-radius: 10px; }
.live.on { background: #166534; }
.live.off { background: #92400e; }
.banner { margin: 0; padding: 8px 20px; background: var(--warnbg); color: var(--warn); border-bottom: 1px solid #fcd34d; }
main { padding: 16px 20px 24px; }
.view.network { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 18px; align-items: start; }
.view.p2p { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.25fr); gap: 18px; align-items: start; }
@media (max-width: 1100px) { .view.network, .view.p2p { grid-template-columns: minmax(0, 1fr); } }
.view.files { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 18px; align-items: start; }
@media (max-width: 1100px) { .view.files { grid-template-columns: minmax(0, 1fr); } }
input[type="file"] { padding: 3px 6px; }
ol.transfers { list-style: none; margin: 14px 0 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
ol.transfers:empty { display: none; }
li.transfer { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px 10px; border-left: 4px solid #cbd5e1; }
li.transfer[data-tone="ok"] { border-left-color: #22c55e; }
li.transfer[data-tone="warn"] { border-left-color: #f59e0b; }
li.transfer[data-tone="bad"] { border-left-color: #ef4444; }
li.transfer .t-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
li.transfer .t-head .name { font-weight: 650; overflow-wrap: anywhere; }
li.transfer .t-head .peer { font-family: var(--mono); font-size: 12.5px; color: var(--muted); }
li.transfer .t-head .spacer { flex: 1; }
li.transfer progress { display: block; width: 100%; height: 10px; margin: 8px 0 4px; border: 0; border-radius: 5px; background: var(--soft); overflow: hidden; appearance: none; -webkit-appearance: none; }
li.transfer progress::-webkit-progress-bar { background: var(--soft); border-radius: 5px; }
li.transfer progress::-webkit-progress-value { background: var(--accent); border-radius: 5px; }
li.transfer[data-tone="ok"] progress::-webkit-progress-value { background: #22c55e; }
li.transfer[data-tone="bad"] progress::-webkit-progress-value { background: #ef4444; }
li.transfer .t-meta { font-size: 12.5px; color: var(--muted); }
li.transfer .t-sha { font: 12px var(--mono); color: var(--ink); margin-top: 3px; overflow-wrap: anywhere; }
li.transfer .fault { margin: 4px 0 0; }
.buttons.end { display: flex; justify-content: flex-end; margin-top: 10px; }
.panel .hint { margin: -4px 0 12px; color: var(--muted); font-size: 13px; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px 16px; min-width: 0; }
.panel-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 12px; }
.panel-head h2 { font-size: 16px; margin: 0; font-weight: 650; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); font-size: 12.5px; }
.settings { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px 12px; padding: 10px 12px; background: #f8fafc; border: 1px solid var(--soft); border-radius: 8px; }
.settings label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); font-weight: 550; min-width: 96px; }
.settings label.wide { flex: 1 1 210px; }
.settings label.grow { flex: 1 1 140px; }
.settings label.narrow { width: 104px; min-width: 0; }
.settings label.check, label.check { flex-direction: row; align-items: center; gap: 6px; min-width: 0; font-size: 13px; color: var(--ink); font-weight: 500; padding-bottom: 7px; }
label.check.small { font-size: 12.5px; color: var(--muted); padding-bottom: 0; }
.settings .buttons { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
input, select, textarea { border: 1px solid #c7ced8; border-radius: 6px; background: #fff; padding: 5px 8px; min-height: 32px; }
input:focus, select:focus, textarea:focus, button:focus-visible { outline: 2px solid #93c5fd; outline-offset: 0; border-color: var(--accent); }
input[type="checkbox"] { min-height: 0; width: 15px; height: 15px; margin: 0; accent-color: var(--accent); }
input:disabled, select:disabled, textarea:disabled { background: #f1f5f9; color: #94a3b8; }
button, a.button { color: inherit; display: inline-flex; align-items: center; justify-content: center; gap: 6px; border: 1px solid #c7ced8; background: #fff; border-radius: 6px; padding: 0 14px; min-height: 32px; cursor: pointer; font-weight: 550; text-decoration: none; white-space: nowrap; }
button:hover:not(:disabled), a.button:hover { background: #f1f5f9; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover:not(:disabled) { background: #1d4ed8; }
button.danger { color: var(--bad); }
button:disabled { opacity: .45; cursor: default; }
button.small, a.button.small { min-height: 26px; padding: 0 9px; font-size: 12.5px; }
button.icon { min-height: 26px; width: 28px; padding: 0; color: var(--muted); }
.badge { display: inline-block; font: 600 12px/1.7 var(--mono); padding: 0 9px; border-radius: 10px; background: var(--idlebg); color: var(--idle); white-space: nowrap; }
.badge.ok { background: var(--okbg); color: var(--ok); }
.badge.warn { background: var(--warnbg); color: var(--warn); }
.badge.bad { background: var(--badbg); color: var(--bad); }
.notice { margin: 10px 0 0; padding: 7px 10px; border-radius: 6px; background: var(--badbg); color: var(--bad); border: 1px solid #fecaca; font-size: 13px; }
.notice .code { font-family: var(--mono); font-size: 12px; font-weight: 700; margin-right: 6px; }
.fault { margin: 10px 0 0; color: var(--bad); font-size: 13px; }
.empty { color: var(--muted); margin: 8px 2px; font-size: 13px; }
.table-wrap { margin-top: 12px; overflow-x: auto; }
table.clients { width: 100%; border-collapse: collapse; font-size: 13px; }
table.clients th { text-align: left; font-size: 11.5px; text-transform: uppercase; letter-spacing: .5px; color: var(--muted); font-weight: 600; padding: 4px 6px; border-bottom: 1px solid var(--line); }
table.clients td { padding: 4px 6px; border-bottom: 1px solid var(--soft); white-space: nowrap; line-height: 1.3; }
table.clients td.who b { display: block; font-weight: 650; }
table.clients td .peer { display: block; font-family: var(--mono); font-size: 12px; color: var(--muted); }
table.clients td.num span, table.clients td.num small { display: block; }
table.clients td.num small { color: var(--muted); font-size: 11.5px; }
table.clients tr.selected td { background: #eff6ff; }
table.clients .num { text-align: right; font-family: var(--mono); font-size: 12.5px; }
table.clients td.since, table.clients td.peer-cell { font-family: var(--mono); font-size: 12.5px; }
table.clients th.pick, table.clients td.pick { width: 28px; }
table.clients tbody:empty { display: none; }
.log { margin-top: 14px; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.log-bar { display: flex; align-items: center; gap: 10px; padding: 6px 8px 6px 12px; background: #f8fafc; border-bottom: 1px solid var(--line); }
.log-bar h3 { margin: 0; font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); }
.log-bar .spacer { flex: 1; }
.seg { display: inline-flex; border: 1px solid #c7ced8; border-radius: 6px; overflow: hidden; }
.seg button { border: 0; border-radius: 0; min-height: 24px; padding: 0 10px; font-size: 12.5px; font-weight: 550; }
.seg button + button { border-left: 1px solid #c7ced8; }
.seg button[aria-pressed="true"] { background: #1f2933; color: #fff; }
ol.entries { list-style: none; margin: 0; padding: 4px 0; height: 230px; overflow-y: auto; font-family: var(--mono); font-size: 12.5px; background: #fff; }
.card ol.entries { height: 150px; }
ol.entries li { display: grid; grid-template-columns: 92px 18px minmax(0, max-content) minmax(0, 1fr); gap: 0 8px; padding: 2px 10px; border-left: 3px solid transparent; }
ol.entries li time { color: #94a3b8; }
ol.entries li .dir { font-weight: 700; text-align: center; }
ol.entries li .who { color: var(--muted); white-space: nowrap; }
ol.entries li .body { white-space: pre-wrap; overflow-wrap: anywhere; min-width: 0; }
ol.entries li pre.dump { grid-column: 1 / -1; margin: 2px 0 2px 18px; font: 12px/1.4 var(--mono); white-space: pre; overflow-x: auto; }
ol.entries li.in pre.dump { color: var(--in); }
ol.entries li.out pre.dump { color: var(--out); }
ol.entries li .body.wide { grid-column: 3 / 5; }
ol.entries li.in { border-left-color: #22c55e; background: var(--inbg); }
ol.entries li.in .dir, ol.entries li.in .body { color: var(--in); }
ol.entries li.out { border-left-color: #3b82f6; background: var(--outbg); }
ol.entries li.out .dir, ol.entries li.out .body { color: var(--out); }
ol.entries li.event .body, ol.entries li.event .dir { color: var(--muted); }
ol.entries li.error .body, ol.entries li.error .dir { color: var(--bad); font-weight: 600; }
ol.entries li.placeholder { display: block; color: #94a3b8; font-family: inherit; }
form.sendbox { display: flex; gap: 8px; padding: 8px; border-top: 1px solid var(--line); background: #f8fafc; align-items: stretch; }
form.sendbox textarea { flex: 1; min-width: 0; resize: vertical; min-height: 34px; height: 34px; font-family: var(--mono); font-size: 12.5px; line-height: 1.5; }
form.sendbox .send-opts { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; justify-content: flex-end; }
form.sendbox select { min-height: 32px; font-size: 12.5px; padding: 3px 6px; }
.cards { display: flex; flex-direction: column; gap: 14px; margin-top: 14px; }
.card { border: 1px solid var(--line); border-radius: 9px; padding: 10px 12px 12px; background: #fff; border-left: 4px solid #cbd5e1; }
.card[data-tone="ok"] { border-left-color: #22c55e; }
.card[data-tone="warn"] { border-left-color: #f59e0b; }
.card[data-tone="bad"] { border-left-color: #ef4444; }
.card-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.card-head h3 { margin: 0; font-size: 15px; }
.card-head .target { font-family: var(--mono); font-size: 13px; }
.card-head .spacer { flex: 1; }
.card-head .actions { display: flex; gap: 6px; margin-left: auto; }
.card-head .actions button.small { padding: 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 2px 16px; margin: 8px 0 0; font-size: 12.5px; }
.facts div { display: flex; gap: 5px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-family: var(--mono); font-size: 12px; }
ol.trail { list-style: none; display: flex; flex-wrap: wrap; align-items: center; gap: 2px 4px; margin: 8px 0 0; padding: 0; font: 11.5px var(--mono); color: var(--muted); }
ol.trail li + li::before { content: "→"; margin-right: 4px; color: #94a3b8; }
ol.trail li:last-child { color: var(--ink); font-weight: 700; }
.card .fault { margin-top: 6px; }
.card .log { margin-top: 10px; }
.view.inspector .hint { margin: 0 0 10px; color: var(--muted); }
.view.inspector a { color: var(--accent); }
.inspector-slot iframe { width: 100%; height: calc(100vh - 130px); min-height: 480px; border: 1px solid var(--line); border-radius: 10px; background: #fff; }
`;
