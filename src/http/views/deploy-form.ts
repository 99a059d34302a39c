import { html } from './html.js';
import { layout } from './layout.js';
import { preflightTables } from './preflight.js';
import type { PreflightResult } from '../../services/deployments/preflight.js';

export interface DeployFormModel {
  solutionId: string;
  revisionId: string;
  solutionName: string;
  namespace: string;
  user: string;
  /** The caller's ready clusters, offered instead of a kube config. */
  clusters: ReadonlyArray<{ id: string; name: string; server: string | null }>;
}

/**
 * Graphene's entry page (as CREO's): read-only solution and revision, the namespace pre-filled,
 * the kube config pasted into `config` or uploaded as a file.
 *
 * Browsers compile `pattern` with the `v` flag, where a bare `-` in a character class is a syntax
 * error (the check is then silently dropped): the page says `\-` (`\\-` in this template).
 */
export function deployForm(model: DeployFormModel, basePath: string): string {
  const body = html`
<h1>Deploy ${model.solutionName}</h1>
<p class="hint">Signed in as ${model.user}. The kube config is used only to deploy, stored encrypted, and never shown again.</p>
<form method="post" action="${basePath}/deploy" enctype="multipart/form-data">
  <label for="solutionId">Solution</label>
  <input type="text" id="solutionId" name="solutionId" value="${model.solutionId}" readonly>
  <label for="revisionId">Revision</label>
  <input type="text" id="revisionId" name="revisionId" value="${model.revisionId}" readonly>
  <label for="namespaceName">Namespace <span class="hint">lower-case letters, digits and '-', at most 63</span></label>
  <input type="text" id="namespaceName" name="namespaceName" value="${model.namespace}" required maxlength="63" pattern="[a-z0-9]([a-z0-9\\-]*[a-z0-9])?">
  <label for="clusterId">Registered cluster <span class="hint">optional: or give a kube config below</span></label>
  <select id="clusterId" name="clusterId">
    <option value="">— none: use the kube config below —</option>
    ${model.clusters.map((c) => html`<option value="${c.id}">${c.name}${c.server ? ` (${c.server})` : ''}</option>`)}
  </select>
  <label for="configFile">Kube config file</label>
  <input type="file" id="configFile" name="configFile">
  <label for="config">…or paste the kube config <span class="hint">inline credentials only: no exec, auth-provider or file paths</span></label>
  <textarea id="config" name="config" spellcheck="false" autocomplete="off"></textarea>
  <div class="actions">
    <button type="submit" name="action" value="deploy">Deploy</button>
    <button type="submit" name="action" value="check" class="secondary">Check first</button>
  </div>
  <p class="hint">Check first asks the cluster whether the deploy can work — permissions, namespace, storage, quota, a dry run of every object, the protos — and shows what it would create, change and remove. It writes nothing.</p>
</form>`;
  return layout(`Deploy ${model.solutionName}`, body, basePath);
}

/** The answer to Check first: every check, the plan, and the way back to the form. */
export function checkResultPage(model: { solutionId: string; revisionId: string; namespace: string; result: PreflightResult }, basePath: string): string {
  const verdict = model.result.passed
    ? html`<p><span class="status status-succeeded">passed</span> The deploy can go ahead${model.result.checks.some((c) => c.status === 'warning') ? ' (read the warnings)' : ''}. Nothing was written to the cluster.</p>`
    : html`<p><span class="status status-failed">failed</span> A deploy would stop before writing anything: fix what the failed checks say. Nothing was written to the cluster.</p>`;
  const body = html`
<h1>Check of ${model.solutionId} ${model.revisionId}</h1>
<p>Into namespace <code>${model.namespace}</code>, checked at ${model.result.checkedAt}.</p>
${verdict}
${preflightTables(model.result)}
<p><a href="${basePath}/deploy/${encodeURIComponent(model.solutionId)}/${encodeURIComponent(model.revisionId)}">Back to the deploy form</a> (give the kube config again: it is not kept by a check).</p>`;
  return layout(`Check of ${model.solutionId}`, body, basePath);
}
