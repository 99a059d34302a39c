/**
 * Starts REAL OpenStack Ironic (Debian's ironic-api + ironic-conductor packages, one `ironic`
 * process, noauth, SQLite, no RPC bus) and REAL BMC simulators (OpenIPMI's ipmi_sim) on loopback
 * for the integration tests. Nothing here is a double: these are the programs production uses,
 * configured as baremetal.md §4 describes. Install them with scripts/ensure-test-deps.sh.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Ironic runs on Debian's interpreter, not on whatever python3 comes first on PATH. */
const PYTHON = '/usr/bin/python3';
const IRONIC = '/usr/bin/ironic';
const IRONIC_DBSYNC = '/usr/bin/ironic-dbsync';
const IPMI_SIM = '/usr/bin/ipmi_sim';

export interface RunningIronic {
  url: string;
  /** The scratch folder (config, database, logs). */
  dir: string;
  /** The last lines of Ironic's log, for failure messages. */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Why real Ironic cannot run here, or undefined when it can. */
export function ironicUnavailableReason(): string | undefined {
  const missing = [PYTHON, IRONIC, IRONIC_DBSYNC, IPMI_SIM, '/usr/bin/ipmitool'].filter((file) => !existsSync(file));
  if (missing.length === 0) return undefined;
  return `missing ${missing.join(', ')}: run scripts/ensure-test-deps.sh (as root) to install ironic-api, ironic-conductor, openipmi and ipmitool`;
}

export async function startIronic(options: { readyTimeoutMs?: number } = {}): Promise<RunningIronic> {
  const reason = ironicUnavailableReason();
  if (reason) throw new Error(`Cannot start Ironic: ${reason}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-ironic-'));
  const apiPort = await freeTcpPort();
  const rpcPort = await freeTcpPort();
  for (const sub of ['state', 'tmp', 'log', 'lock', 'http', 'tftp', 'tftp/master']) await mkdir(path.join(dir, sub), { recursive: true });
  const config = path.join(dir, 'ironic.conf');
  await writeFile(config, ironicConfig(dir, apiPort, rpcPort));
  await run(PYTHON, [IRONIC_DBSYNC, '--config-file', config, 'create_schema'], { timeout: 60_000 });
  const child = spawn(PYTHON, [IRONIC, '--config-file', config], { cwd: dir, stdio: 'ignore' });
  const url = `http://127.0.0.1:${apiPort}`;
  const logTail = async (lines = 30): Promise<string> => {
    const text = await readFile(path.join(dir, 'log', 'ironic.log'), 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  };
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/v1`, child, options.readyTimeoutMs ?? 60_000);
  } catch (error: unknown) {
    const tail = await logTail();
    await stop();
    throw new Error(`Ironic did not start: ${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
  return { url, dir, logTail, stop };
}

function ironicConfig(dir: string, apiPort: number, rpcPort: number): string {
  const at = (sub: string): string => path.join(dir, sub);
  return `[DEFAULT]
auth_strategy = noauth
rpc_transport = none
host = 127.0.0.1
enabled_hardware_types = fake-hardware,ipmi,redfish
enabled_boot_interfaces = fake,pxe
enabled_deploy_interfaces = fake,direct
enabled_management_interfaces = fake,ipmitool,redfish,noop
enabled_power_interfaces = fake,ipmitool,redfish
enabled_inspect_interfaces = no-inspect,fake
enabled_console_interfaces = no-console,fake
enabled_network_interfaces = noop
enabled_raid_interfaces = no-raid,fake
enabled_rescue_interfaces = no-rescue,fake
enabled_vendor_interfaces = no-vendor,fake,ipmitool
enabled_bios_interfaces = no-bios,fake
enabled_storage_interfaces = noop
default_network_interface = noop
state_path = ${at('state')}
tempdir = ${at('tmp')}
log_dir = ${at('log')}

[api]
host_ip = 127.0.0.1
port = ${apiPort}
public_endpoint = http://127.0.0.1:${apiPort}

[json_rpc]
host_ip = 127.0.0.1
port = ${rpcPort}

[database]
connection = sqlite:///${at('ironic.sqlite')}

[conductor]
automated_clean = false
sync_power_state_interval = 10

[ipmi]
# Test speed: Ironic's defaults (5 s between ipmitool calls, 60 s of retries) make one power
# change take 15 s and a wrong password 60 s against ipmi_sim.
min_command_interval = 1
command_retry_timeout = 10

[dhcp]
dhcp_provider = none

[oslo_concurrency]
lock_path = ${at('lock')}

[deploy]
http_root = ${at('http')}
http_url = http://127.0.0.1:${apiPort + 1}

[pxe]
tftp_root = ${at('tftp')}
tftp_master_path = ${at('tftp/master')}
tftp_server = 127.0.0.1
`;
}

export interface RunningBmc {
  /** The BMC address for a host spec: ipmi://127.0.0.1:<port>. */
  address: string;
  host: string;
  port: number;
  username: string;
  password: string;
  /** Power as the simulated chassis has it (written by the chassis_control script). */
  powerIsOn(): Promise<boolean>;
  bootDevice(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real IPMI-over-LAN BMC: OpenIPMI's ipmi_sim on 127.0.0.1:<free UDP port>, user `admin` with
 * a random password, and a chassis_control script that keeps power and boot device in files.
 */
export async function startIpmiSim(): Promise<RunningBmc> {
  const reason = ironicUnavailableReason();
  if (reason) throw new Error(`Cannot start ipmi_sim: ${reason}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bmc-'));
  const port = await freeUdpPort();
  const username = 'admin';
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  const chassis = path.join(dir, 'chassis-control.sh');
  await writeFile(chassis, chassisControlScript(dir), 'utf8');
  await chmod(chassis, 0o755);
  await writeFile(path.join(dir, 'power'), '0\n');
  await writeFile(path.join(dir, 'lan.conf'), lanConfig(port, chassis, username, password));
  await writeFile(path.join(dir, 'bmc.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n');
  await mkdir(path.join(dir, 'state'));
  const child = spawn(IPMI_SIM, ['-c', path.join(dir, 'lan.conf'), '-f', path.join(dir, 'bmc.emu'), '-s', path.join(dir, 'state'), '-n'], { cwd: dir, stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForIpmi(port, username, password, child);
  } catch (error: unknown) {
    await stop();
    throw error;
  }
  return {
    address: `ipmi://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    username,
    password,
    powerIsOn: async () => (await readFile(path.join(dir, 'power'), 'utf8').catch(() => '0')).trim() === '1',
    bootDevice: async () => (await readFile(path.join(dir, 'boot'), 'utf8').catch(() => 'default')).trim(),
    stop,
  };
}

/** ipmi_sim calls it as `<script> <mc> get|set|check <parm> [<value>] …`. */
function chassisControlScript(dir: string): string {
  return `#!/bin/sh
# chassis_control for ipmi_sim: keeps the simulated server's power and boot device in files.
dir='${dir}'
shift
op="$1"; shift
case "$op" in
  get)
    for parm in "$@"; do
      case "$parm" in
        power) echo "power:$(cat "$dir/power" 2>/dev/null || echo 0)";;
        boot) echo "boot:$(cat "$dir/boot" 2>/dev/null || echo default)";;
      esac
    done;;
  set)
    while [ $# -gt 1 ]; do
      case "$1" in
        power) echo "$2" > "$dir/power";;
        boot) echo "$2" > "$dir/boot";;
        reset) echo 1 > "$dir/power";;
      esac
      shift 2
    done;;
esac
exit 0
`;
}

function lanConfig(port: number, chassis: string, username: string, password: string): string {
  return `name "slipway-test-bmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${chassis} 0x20"
  user 1 true  ""          ""            user   10 none md2 md5 straight
  user 2 true  "${username}" "${password}" admin  10 none md2 md5 straight
`;
}

async function waitForIpmi(port: number, username: string, password: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ipmi_sim exited with ${child.exitCode}`);
    try {
      await run('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(port), '-U', username, '-P', password, 'power', 'status'], { timeout: 5_000 });
      return;
    } catch (error: unknown) {
      last = error instanceof Error ? error.message : String(error);
      await sleep(200);
    }
  }
  throw new Error(`ipmi_sim did not answer on 127.0.0.1:${port}: ${last.replace(password, '******')}`);
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ironic exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after 5 s: only the process this module started. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killTimer);
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
