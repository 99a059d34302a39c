import { html } from './html.js';
import { layout } from './layout.js';

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
  <button type="submit">Deploy</button>
</form>`;
  return layout(`Deploy ${model.solutionName}`, body, basePath);
}
