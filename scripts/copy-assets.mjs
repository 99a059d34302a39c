// tsc compiles TypeScript only; the .proto files the gRPC adapter loads at run time sit next to
// the compiled code, at the same relative place as in src/.
import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function copyProtos(from, to) {
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    if (statSync(source).isDirectory()) copyProtos(source, path.join(to, entry));
    else if (entry.endsWith('.proto')) cpSync(source, path.join(to, entry));
  }
}
copyProtos('src', 'dist');
// The solution.zip export ships these files (deploy script, orchestrator client) as they are.
cpSync('src/services/solution-zip/assets', 'dist/services/solution-zip/assets', { recursive: true });
