import { html, type SafeHtml } from './html.js';

/**
 * A small form to import a solution.zip (exported by Slipway or by Graphene's deploy-to-local).
 * It posts to /solutions/import, which answers with the deploy form of the imported revision.
 */
export function uploadForm(basePath: string): SafeHtml {
  return html`<h2>Import a solution.zip</h2>
<form method="post" action="${basePath}/solutions/import" enctype="multipart/form-data">
  <label for="solutionZip">solution.zip <span class="hint">from Slipway or Graphene's "deploy to local"; at most 64 MiB</span></label>
  <input type="file" id="solutionZip" name="file" accept=".zip,application/zip" required>
  <button type="submit">Import</button>
</form>`;
}
