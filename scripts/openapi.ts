// Writes openapi.yaml from the route schemas. A test fails when the committed file differs.
import { writeFile } from 'node:fs/promises';
import { openApiDocument } from '../src/http/openapi-document.js';

await writeFile(new URL('../openapi.yaml', import.meta.url), await openApiDocument());
process.stdout.write('openapi.yaml written\n');
