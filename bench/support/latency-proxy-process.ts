/**
 * The latency proxy of bench/support/latency-proxy.ts in a process of its own.
 * Arguments: <target host> <target port> <delay ms, each way>. Prints `{"port": n}` when
 * listening on 127.0.0.1; answers `connections` on stdin with the number of TCP connections it
 * accepted; exits when stdin closes.
 */
import readline from 'node:readline';
import { startLatencyProxy } from './latency-proxy.js';

const [host = '127.0.0.1', port = '0', delay = '0'] = process.argv.slice(2);
if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') throw new Error(`the latency proxy only forwards to loopback, not ${host}`);
const proxy = await startLatencyProxy({ host, port: Number(port) }, Number(delay));
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'connections') process.stdout.write(`${proxy.accepted()}\n`);
});
lines.on('close', () => {
  void proxy.close().then(() => process.exit(0));
});
