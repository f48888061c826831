/** The console's only stylesheet, served at `<path>/console.css` (the CSP allows styles from 'self' only, no inline). */
export const CONSOLE_CSS = `:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #6a737d; --line: #d0d7de;
  --accent: #0b5cad; --warn: #9a6700; --danger: #b42318; --soft: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8b949e; --line: #30363d;
  --accent: #58a6ff; --warn: #d29922; --danger: #f85149; --soft: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 2rem; align-items: center; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--soft); }
.brand { font-weight: 600; }
nav { display: flex; gap: 1.25rem; align-items: center; flex: 1; }
nav form { margin-left: auto; }
main { padding: 1rem 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
a { color: var(--accent); }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; background: var(--soft); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.5rem; }
dt { color: var(--muted); }
dd { margin: 0; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 1rem; border: 1px solid var(--accent); color: var(--accent); font-size: 12px; }
.badge.warn { border-color: var(--warn); color: var(--warn); }
.flash { padding: .5rem .75rem; border-left: 3px solid var(--accent); background: var(--soft); }
.error { padding: .5rem .75rem; border-left: 3px solid var(--danger); background: var(--soft); }
.warn { color: var(--warn); font-weight: 600; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; }
form.inline { display: inline; }
button, .button { font: inherit; padding: .35rem .8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--soft); color: var(--fg); cursor: pointer; text-decoration: none; }
button:hover, .button:hover { border-color: var(--accent); }
button.link { border: 0; background: none; color: var(--accent); padding: 0; text-decoration: underline; }
.danger, button.danger { color: var(--danger); border-color: var(--danger); }
input { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
input.once { width: 100%; font-family: ui-monospace, monospace; }
.search { display: flex; gap: .5rem; align-items: center; margin-bottom: .75rem; }
.search input { width: 28rem; max-width: 100%; }
.grid { display: grid; grid-template-columns: max-content 24rem; gap: .5rem 1rem; align-items: center; }
.login { max-width: 22rem; margin: 4rem auto; }
.login form { display: grid; gap: .5rem; }
tr.expired td { color: var(--muted); }
`;
