/** The one stylesheet of every page, served as /assets/slipway.css (the CSP allows no inline style). */
export const STYLESHEET = `
  :root { color-scheme: light dark; --accent: #1f6feb; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; }
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; }
  header { padding: .8rem 1.5rem; border-bottom: 1px solid #8884; display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; }
  header a { color: inherit; text-decoration: none; font-weight: 600; }
  header nav { display: flex; gap: 1rem; margin-left: auto; }
  header nav a { font-weight: normal; }
  header nav a[aria-current=page] { font-weight: 600; border-bottom: 2px solid var(--accent); }
  main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1.5rem; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input[type=text], textarea, select { width: 100%; box-sizing: border-box; font: 14px ui-monospace, monospace; padding: .4rem; }
  input[readonly] { background: #8881; }
  textarea { min-height: 10rem; }
  button { margin-top: 1.2rem; padding: .5rem 1.2rem; font-size: 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  button.danger { background: var(--bad); }
  button.small { margin: 0; padding: .2rem .7rem; font-size: .9rem; }
  .hint { color: var(--muted); font-size: .9rem; font-weight: normal; }
  table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
  .status { font-weight: 600; }
  .status-succeeded, .step-succeeded, .state-provisioned, .state-ready, .state-available { color: var(--ok); }
  .status-failed, .step-failed, .status-cancelled, .state-error, .state-failed { color: var(--bad); }
  .error { border-left: 4px solid var(--bad); padding: .5rem 1rem; background: #cf222e14; white-space: pre-wrap; }
  progress { width: 100%; height: 1rem; }
  code, pre { font: 13px ui-monospace, monospace; }
  form.filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: flex-end; }
  form.filters label { margin-top: 0; }
  form.filters select, form.filters input[type=text] { width: auto; min-width: 12rem; }
  form.filters button { margin-top: 0; }
  form.inline { display: inline; }
  .pager { display: flex; gap: 1.5rem; margin-top: 1rem; }
  section.site { margin-top: 2rem; }
  .progress-row { display: flex; gap: .8rem; align-items: center; }
  .progress-row progress { flex: 1; }
  .actions { display: flex; gap: .6rem; align-items: center; min-height: .5rem; }
  .actions button { margin-top: .6rem; }
  button.secondary { background: var(--muted); }
  th, #steps td:first-child, #services td:nth-child(-n+2) { white-space: nowrap; }
  #services td:nth-child(3) { overflow-wrap: anywhere; }
  .action-error { color: var(--bad); margin-top: .6rem; }
  #error { margin-top: 1rem; }
  .error p { margin: .2rem 0; }
  .reasons { margin: .3rem 0; padding-left: 1.2rem; }
  .status-queued, .status-running, .status-deleting, .step-running, .state-provisioning, .state-bootstrapping { color: var(--accent); }
  .status-deleted, .step-skipped, .step-pending { color: var(--muted); }
  .events { list-style: none; margin: .5rem 0 2rem; padding: 0; max-height: 20rem; overflow-y: auto; border: 1px solid #8883; font: 13px/1.4 ui-monospace, monospace; }
  .events:empty { display: none; }
  .events li { padding: .2rem .5rem; border-bottom: 1px solid #8882; white-space: pre-wrap; overflow-wrap: anywhere; }
  .events .type { color: var(--muted); margin-right: .6rem; }
`;
