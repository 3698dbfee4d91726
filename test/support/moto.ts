import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * moto's standalone server (PyPI `moto[server]`): real AWS XML/JSON and error codes from an independent
 * implementation, for every service it mocks (IAM, STS, S3, ...). It is a required test dependency: when it is
 * missing the tests fail and say how to install it.
 */
export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

const INSTALL_HINT = "moto_server is not installed or not on PATH; install it with: pip install 'moto[server]'";

/** moto_server takes a port number, not 0: ask the kernel for a free one first. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port for moto_server');
  return address.port;
}

/** `env` adds moto settings, e.g. MOTO_IAM_LOAD_MANAGED_POLICIES=true to have AWS managed policies such as AdministratorAccess. */
export async function startMoto(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<MotoServer> {
  const found = spawnSync('moto_server', ['--help'], { stdio: 'ignore' });
  if (found.error || found.status !== 0) throw new Error(INSTALL_HINT);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));

  const stop = async () => {
    if (exited !== undefined || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(5_000).then(() => child.kill('SIGKILL'))]);
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`moto_server exited with code ${exited} before answering: ${stderr}`);
    try {
      // moto's dashboard answers once the server is up; any HTTP answer will do.
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return { endpoint, stop };
    } catch {
      await sleep(200);
    }
  }
  await stop();
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
}

/**
 * From now on moto authenticates every request as AWS does: the access key must belong to an IAM user created in
 * moto, the SigV4 signature must match its secret (else InvalidAccessKeyId / SignatureDoesNotMatch), and the user's
 * policies must allow the action (else AccessDenied). Until then moto accepts any credentials, so set up first.
 * Two gaps of moto 5.2 found while writing the S3 tests: it ignores policy Conditions on S3 requests (an
 * `s3:prefix` condition never restricts anything), and it computes a different signature than the SDK when a query
 * value holds a "/" (ListObjectsV2 with `prefix=scans/` or `delimiter=/`), so such listings fail with
 * SignatureDoesNotMatch however right the keys are.
 */
export async function enforceAuthentication(moto: MotoServer): Promise<void> {
  const response = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  if (!response.ok) throw new Error(`moto refused to enforce authentication: HTTP ${response.status} ${await response.text()}`);
}
