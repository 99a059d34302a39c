import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openApiDocument } from '../../src/http/openapi-document.js';

describe('openapi.yaml', () => {
  it('is the document the route schemas generate (regenerate with `npm run openapi`)', async () => {
    const committed = await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8');
    const generated = await openApiDocument();
    expect(parse(committed)).toEqual(parse(generated));
  });

  it('documents the deploy API with its request and problem schemas', async () => {
    const document = parse(await openApiDocument()) as { paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> };
    const post = document.paths['/api/v1/deployments']?.post;
    expect(post?.requestBody).toBeDefined();
    expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(['202', '400', '401']));
  });
});
