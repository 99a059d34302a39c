/**
 * Certificates for the fake Kubernetes API server (a test double): a throw-away CA, a server
 * certificate for 127.0.0.1/localhost and a client certificate, made with the `openssl` CLI in a
 * temporary directory. The directory is removed as soon as the PEM texts are read: nothing needs
 * the files afterwards, and a test that forgets to close the server leaves nothing behind.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsMaterial {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** EC keys: generating them takes milliseconds, where RSA 2048 takes a noticeable fraction of a second. */
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 20_000 });
}

async function makeCa(dir: string): Promise<void> {
  await openssl(dir, [
    'req', '-x509', ...KEY_ARGS, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2',
    '-subj', '/CN=fake-kube-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

async function makeSignedCert(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<void> {
  await openssl(dir, ['req', ...KEY_ARGS, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`,
  ]);
}

export async function generateTlsMaterial(): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-kube-tls-'));
  try {
    await makeCa(dir);
    await makeSignedCert(
      dir,
      'server',
      '/CN=fake-kube-apiserver',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n',
    );
    await makeSignedCert(
      dir,
      'client',
      '/O=system:masters/CN=slipway-test-admin',
      'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n',
    );
    const read = (file: string): Promise<string> => readFile(join(dir, file), 'utf8');
    return {
      caPem: await read('ca.crt'),
      serverCertPem: await read('server.crt'),
      serverKeyPem: await read('server.key'),
      clientCertPem: await read('client.crt'),
      clientKeyPem: await read('client.key'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
