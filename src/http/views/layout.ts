import { html, SafeHtml } from './html.js';

const STYLE = `
  :root { color-scheme: light dark; --accent: #1f6feb; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; }
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; }
  header { padding: .8rem 1.5rem; border-bottom: 1px solid #8884; display: flex; gap: 1rem; align-items: baseline; }
  header a { color: inherit; text-decoration: none; font-weight: 600; }
  main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1.5rem; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input[type=text], textarea, select { width: 100%; box-sizing: border-box; font: 14px ui-monospace, monospace; padding: .4rem; }
  input[readonly] { background: #8881; }
  textarea { min-height: 10rem; }
  button { margin-top: 1.2rem; padding: .5rem 1.2rem; font-size: 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  button.danger { background: var(--bad); }
  .hint { color: var(--muted); font-size: .9rem; font-weight: normal; }
  table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
  .status { font-weight: 600; }
  .status-succeeded, .step-succeeded { color: var(--ok); }
  .status-failed, .step-failed, .status-cancelled { color: var(--bad); }
  .error { border-left: 4px solid var(--bad); padding: .5rem 1rem; background: #cf222e14; white-space: pre-wrap; }
  progress { width: 100%; height: 1rem; }
  code, pre { font: 13px ui-monospace, monospace; }
`;

export function layout(title: string, body: SafeHtml, basePath: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Slipway</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<header><a href="${basePath}/">Slipway</a><span class="hint">deployments for Eclipse Graphene</span></header>
<main>
${body}
</main>
</body>
</html>`.value;
}
