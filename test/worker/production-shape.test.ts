import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../config/load.ts';
import { DASHBOARD_ROLE, DASHBOARD_VIEWS } from '../../evidence/views.ts';
import { defaultRegistries } from '../../worker/runtime.ts';
import { runIsms } from '../support/cli.ts';
import { parseDockerfile, dockerIgnores, type DockerStage } from '../support/dockerfile.ts';
import { dashboardFile, dashboardPanelQueries } from '../support/grafana-dashboard.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { version: string; license: string; devDependencies: Record<string, string> };

interface ComposeService {
  image?: string;
  build?: unknown;
  entrypoint?: string | string[];
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: (string | { source: string })[];
  volumes?: (string | { type?: string; source?: string; target: string; read_only?: boolean })[];
  depends_on?: string[] | Record<string, unknown>;
  deploy?: { replicas?: number | string };
  stop_grace_period?: string;
}
// Compose reads YAML merge keys (`<<: *anchor`); YAML 1.2 leaves them to an option.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string; environment?: string }>;
  volumes?: Record<string, unknown>;
};
const services = Object.entries(compose.services);
const workerImage = `isms-worker:${packageJson.version}`;
/** The services that run the isms image as a long-lived worker. */
const workers = services.filter(([, service]) => service.image === workerImage && service.deploy !== undefined);

const environmentOf = (service: ComposeService): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]))
    : Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]));

/** A volume entry as source, target and whether it is read-only; a source without a path is a named volume. */
function mountOf(volume: NonNullable<ComposeService['volumes']>[number]) {
  if (typeof volume !== 'string') return { source: volume.source ?? '', target: volume.target, readOnly: volume.read_only === true };
  // Compose's `${VAR:-default}` holds a colon of its own: read it as its default.
  const [source, target, mode] = volume.replace(/\$\{\w+:-([^}]*)\}/g, '$1').split(':');
  return target === undefined ? { source: '', target: source!, readOnly: false } : { source: source!, target, readOnly: mode === 'ro' };
}
const isBindMount = (source: string) => /^[.~/$]/.test(source);
const hostPath = (source: string) => path.join(root, source);

/** A version tag: not `latest`, and holding a version number or a dated release. */
const pinned = (image: string) => {
  const tag = /^[^:@]+(?::([^@]+))?(?:@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && (/\d+\.\d+/.test(tag) || /^RELEASE\.\d{4}-\d\d-\d\d/.test(tag));
};

describe('docker-compose.yml', () => {
  it('pins every image by version, the isms image by the package version it is built from', () => {
    const unpinned = services
      .filter(([, service]) => service.image === undefined || !pinned(service.image))
      .map(([name, service]) => `${name}: ${service.image}`);
    expect(unpinned).toEqual([]);
    for (const [name, service] of services) if (service.build !== undefined) expect(service.image, name).toBe(workerImage);
  });

  it('names only services that exist in depends_on', () => {
    const missing = services.flatMap(([name, service]) => {
      const needs = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      return needs.filter((need) => !(need in compose.services)).map((need) => `${name} -> ${need}`);
    });
    expect(missing).toEqual([]);
  });

  it('runs N worker replicas that share no evidence volume: each mounts its config read-only and nothing else', () => {
    expect(workers.map(([name]) => name)).toEqual(['worker']);
    for (const [name, service] of workers) {
      expect(String(service.deploy?.replicas), name).toMatch(/^(\d+|\$\{WORKER_REPLICAS:-\d+\})$/);
      const mounts = (service.volumes ?? []).map(mountOf);
      const shared = mounts.filter((mount) => !isBindMount(mount.source) || !mount.readOnly);
      expect(shared, `${name}: a named volume or a writable mount`).toEqual([]);
      for (const mount of mounts) expect(statSync(hostPath(mount.source)).isFile(), `${name}: ${mount.source} is a file`).toBe(true);
    }
  });

  it('keeps secrets in files: every secret is a file with an example beside it, and no secret-named variable holds a value', () => {
    const secrets = Object.entries(compose.secrets ?? {});
    expect(secrets.length).toBeGreaterThan(0);
    for (const [name, secret] of secrets) {
      expect(secret.file, name).toBe(`./config/secrets/${name}`);
      expect(existsSync(path.join(root, 'config/secrets.example', name)), `config/secrets.example/${name}`).toBe(true);
    }
    expect(read('.gitignore').split('\n')).toContain('config/secrets/');
    const plain = services.flatMap(([name, service]) =>
      Object.entries(environmentOf(service))
        .filter(([variable]) => /PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_KEY|ACCESS_KEY|CREDENTIAL/i.test(variable))
        .filter(([, value]) => !value.startsWith('/run/secrets/'))
        .map(([variable]) => `${name}: ${variable}`),
    );
    expect(plain).toEqual([]);
  });

  it('gives each service the secrets it reads from /run/secrets', () => {
    const unmounted = services.flatMap(([name, service]) => {
      const mounted = new Set((service.secrets ?? []).map((secret) => (typeof secret === 'string' ? secret : secret.source)));
      const text = JSON.stringify([service.entrypoint, service.command, service.environment]);
      const read = [...text.matchAll(/\/run\/secrets\/([\w.-]+)/g)].map((match) => match[1]!);
      return read.filter((secret) => !mounted.has(secret)).map((secret) => `${name}: ${secret}`);
    });
    expect(unmounted).toEqual([]);
  });

  it('stops a worker later than temporal.shutdownGraceTime of the config it mounts, so in-flight activities get their grace', () => {
    expect(workers.length, 'worker services on the isms image').toBeGreaterThan(0);
    for (const [name, service] of workers) {
      const configMount = (service.volumes ?? []).map(mountOf).find((mount) => mount.target === environmentOf(service).ISMS_CONFIG);
      expect(configMount, `${name} mounts its ISMS_CONFIG`).toBeDefined();
      const config = parse(readFileSync(hostPath(configMount!.source), 'utf8')) as { temporal?: { shutdownGraceTime?: string } };
      const grace = msToNumber((config.temporal?.shutdownGraceTime ?? '30 seconds') as never);
      expect(service.stop_grace_period, name).toBeDefined();
      expect(msToNumber(service.stop_grace_period as never), `${name}: stop_grace_period ${service.stop_grace_period}`).toBeGreaterThan(grace);
    }
  });

  it('configures workers by environment: the catalog URL built from a secret, S3 credentials from a secret file', () => {
    expect(workers.length, 'worker services on the isms image').toBeGreaterThan(0);
    for (const [name, service] of workers) {
      const entrypoint = [service.entrypoint ?? []].flat().join(' ');
      expect(entrypoint, name).toMatch(/export ISMS_CATALOG_URL="postgres:\/\/[^"]*\$\$\(cat \/run\/secrets\/[\w-]+\)@/);
      expect(environmentOf(service).AWS_SHARED_CREDENTIALS_FILE, name).toMatch(/^\/run\/secrets\//);
      // Under tini, as the image runs: SIGTERM reaches Node, not only the shell.
      expect(entrypoint, name).toMatch(/^\/usr\/bin\/tini -- .* exec node /);
    }
    const production = parse(read('config/isms.production.yaml')) as { catalog?: unknown; evidence?: { blobs?: Record<string, unknown> } };
    expect(production.catalog).toEqual({ url: { env: 'ISMS_CATALOG_URL' } });
    expect(production.evidence?.blobs).toMatchObject({
      kind: 's3',
      forcePathStyle: true,
      objectLock: { mode: expect.stringMatching(/^(GOVERNANCE|COMPLIANCE)$/) },
    });
  });

  it('ships a production config that the loader takes as it is', () => {
    const loaded = parseConfig(read('config/isms.production.yaml'), 'config/isms.production.yaml', defaultRegistries);
    expect(loaded.config.catalog).toEqual({ url: { env: 'ISMS_CATALOG_URL' } });
    expect(loaded.config.evidence.blobs).toMatchObject({ kind: 's3', forcePathStyle: true });
  });

  it('creates the evidence bucket with Object Lock in a one-off mc job the workers wait for', () => {
    const found = services.find(([, service]) => service.image?.startsWith('minio/mc:'));
    expect(found, 'a minio/mc service').toBeDefined();
    const [setupName, setup] = found!;
    expect([setup.command].flat().join('\n')).toMatch(/mc mb --ignore-existing --with-lock \S+\/isms-evidence/);
    for (const [name, service] of workers)
      expect((service.depends_on as Record<string, { condition: string }>)[setupName], name).toEqual({ condition: 'service_completed_successfully' });
  });
});

describe('Grafana provisioning', () => {
  const grafana: ComposeService = services.find(([, service]) => service.image?.startsWith('grafana/grafana'))?.[1] ?? {};
  const mounts = (grafana.volumes ?? []).map(mountOf).filter((mount) => isBindMount(mount.source));
  const provisioning = mounts.find((mount) => mount.target === '/etc/grafana/provisioning')!;
  const provisioningFiles = (dir: string) =>
    (readdirSync(dir, { recursive: true }) as string[]).filter((file) => /\.ya?ml$/.test(file)).map((file) => path.join(dir, file));

  it('mounts provisioning and dashboards that exist, and every provisioning file parses', () => {
    expect(provisioning).toBeDefined();
    for (const mount of mounts) expect(existsSync(hostPath(mount.source)), mount.source).toBe(true);
    const files = provisioningFiles(hostPath(provisioning.source));
    expect(files.map((file) => path.relative(hostPath(provisioning.source), file)).sort()).toEqual(['dashboards/isms.yaml', 'datasources/isms-catalog.yaml']);
    for (const file of files) expect(() => parse(readFileSync(file, 'utf8')), file).not.toThrow();
  });

  it('reads the catalog through the read-only role, its password from a secret file, and serves the dashboards folder it mounts', () => {
    const datasources = (
      parse(read('grafana/provisioning/datasources/isms-catalog.yaml')) as {
        datasources: { uid: string; type: string; user: string; url: string; jsonData: { database: string }; secureJsonData: { password: string } }[];
      }
    ).datasources;
    expect(datasources).toHaveLength(1);
    const [catalog] = datasources;
    expect(catalog).toMatchObject({ type: 'grafana-postgresql-datasource', user: 'isms_reader', url: 'postgresql:5432', jsonData: { database: 'isms' } });
    const secret = /^\$__file\{\/run\/secrets\/([\w-]+)\}$/.exec(catalog!.secureJsonData.password)?.[1];
    expect(secret).toBeDefined();
    expect(grafana.secrets).toContain(secret);
    // The role the catalog-db job creates and makes read-only.
    const catalogDb = [compose.services['catalog-db']!.command].flat().join('\n');
    expect(catalogDb).toContain(`\\set reader_password \`cat /run/secrets/${secret}\``);
    expect(catalogDb).toContain('ALTER ROLE isms_reader SET default_transaction_read_only = on;');
    // Least privilege: the reader is a member of the role the workers grant the dashboard views to, and of no table's
    // reader (test/evidence/views.test.ts runs this job against PostgreSQL).
    expect(catalogDb).toContain(`SELECT 'GRANT ${DASHBOARD_ROLE} TO isms_reader'`);
    expect(catalogDb).not.toMatch(/GRANT SELECT ON (ALL )?TABLES/);
    const viewsRead = new Set(dashboardPanelQueries().flatMap(({ sql }) => [...sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)/gi)].map((match) => match[1]!)));
    expect([...viewsRead].filter((relation) => !DASHBOARD_VIEWS.includes(relation))).toEqual([]);

    const providers = (parse(read('grafana/provisioning/dashboards/isms.yaml')) as { providers: { options: { path: string } }[] }).providers;
    const dashboards = mounts.find((mount) => mount.target === providers[0]!.options.path);
    expect(dashboards, `a mount at ${providers[0]!.options.path}`).toBeDefined();
    expect(path.resolve(hostPath(dashboards!.source), path.basename(dashboardFile))).toBe(dashboardFile);
    const panels = (
      JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
        panels: { title: string; datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
      }
    ).panels;
    for (const panel of panels) {
      expect(panel.datasource.uid, panel.title).toBe(catalog!.uid);
      for (const target of panel.targets) expect(target.datasource.uid, panel.title).toBe(catalog!.uid);
    }
  });
});

describe('the Grafana dashboard', () => {
  const VIEWS = ['v_control_status', 'v_open_nonconformities', 'v_evidence_coverage', 'v_leaver_clock'];
  const queries = dashboardPanelQueries();

  it('has a panel over each of the four views, in plain SQL over the views only, no Grafana macros', () => {
    const relations = (sql: string) => [...sql.matchAll(/\b(?:FROM|JOIN)\s+([\w."]+)/gi)].map((match) => match[1]!.replace(/"/g, ''));
    for (const { title, sql } of queries) {
      expect(sql, title).not.toContain('$__');
      expect(relations(sql).length, title).toBeGreaterThan(0);
      expect(
        relations(sql).filter((relation) => !VIEWS.includes(relation)),
        title,
      ).toEqual([]);
    }
    expect(new Set(queries.flatMap(({ sql }) => relations(sql)))).toEqual(new Set(VIEWS));
  });

  it("runs each panel's query on a catalog the worker made (SQLite), so every column it names exists", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-dashboard-'));
    writeFileSync(path.join(dir, 'isms.yaml'), 'dataDir: data\ncontrols: []\n');
    // Opening the store migrates the views; the leaver clock migrates its own view when first used.
    const leavers = await runIsms(['leavers', '--json'], { cwd: dir, env: { ISMS_CONFIG: path.join(dir, 'isms.yaml') } });
    expect(leavers.code, leavers.stderr).toBe(0);
    const catalog = new DatabaseSync(path.join(dir, 'data', 'catalog.sqlite'), { readOnly: true });
    try {
      for (const { title, sql } of queries) expect(() => catalog.prepare(sql).all(), title).not.toThrow();
    } finally {
      catalog.close();
    }
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1)!;
  const instructions = (stage: DockerStage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword);
  const stageNames = new Set(stages.flatMap((stage) => (stage.name ? [stage.name] : [])));

  it('builds in stages, each on a pinned base image, the runtime on the Node slim image of the pinned `node` dev dependency', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stageNames.has(stage.image) || pinned(stage.image), stage.image).toBe(true);
    expect(final.image).toMatch(new RegExp(`^node:${packageJson.devDependencies.node!.replace(/\./g, '\\.')}-\\w+-slim$`));
  });

  it('installs production dependencies only, and the runtime takes node_modules from that install', () => {
    const installs = stages.flatMap((stage) =>
      instructions(stage, 'RUN')
        .filter((run) => /\bnpm\s+(ci|install|i)\b|\byarn\b|\bpnpm\b/.test(run.text))
        .map((run) => ({ stage, run })),
    );
    expect(installs.length).toBeGreaterThan(0);
    for (const { run } of installs) expect(run.text, `line ${run.line}`).toMatch(/\bnpm ci\b.*--omit=dev/);
    const copies = instructions(final, 'COPY').filter((copy) => /node_modules/.test(copy.text));
    expect(copies.map((copy) => /--from=(\S+)/.exec(copy.text)?.[1])).toEqual([installs[0]!.stage.name]);
    expect(instructions(final, 'RUN').filter((run) => /\bnpm\b/.test(run.text))).toEqual([]);
  });

  it('copies into the runtime every top-level folder the CLI and the workflows import, and nothing of tests, examples or benchmarks', () => {
    const copied = instructions(final, 'COPY')
      .filter((copy) => !copy.text.includes('--from='))
      .flatMap((copy) => (copy.exec ?? copy.text.split(/\s+/)).slice(0, -1))
      .map((source) => source.replace(/\/$/, ''));
    for (const source of copied) {
      expect(existsSync(path.join(root, source)), source).toBe(true);
      expect(dockerIgnores(read('.dockerignore'), source), `${source} is in the build context`).toBe(false);
    }
    expect(copied.filter((source) => /^(test|examples|bench|node_modules|\.isms|\.git)\b/.test(source))).toEqual([]);
    const needed = [...importedFolders(['worker/cli.ts', 'workflows/index.ts'])];
    expect(needed).toContain('evidence');
    expect(needed.filter((folder) => !copied.includes(folder))).toEqual([]);
  });

  it('keeps history, local dependencies, data, secrets, tests and their data out of the build context', () => {
    const dockerignore = read('.dockerignore');
    for (const file of [
      '.git/HEAD',
      'node_modules/zod/package.json',
      '.isms/catalog.sqlite',
      'test/fixtures/scan.json',
      'examples/scans/trivy.json',
      'bench/run.ts',
      'config/secrets/postgres_password',
      'config/secrets.example/postgres_password',
      'config/isms.yaml',
      'worker.log',
    ]) {
      expect(dockerIgnores(dockerignore, file), file).toBe(true);
    }
    for (const file of ['worker/cli.ts', 'package.json', 'package-lock.json', 'config/frameworks/iso27001-2022.yaml'])
      expect(dockerIgnores(dockerignore, file), file).toBe(false);
  });

  it('runs as a non-root user, the isms CLI under an init that passes signals on, with labels and a stated health check', () => {
    const users = instructions(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.text).not.toMatch(/^(root|0)(:|$)/);
    const entrypoint = instructions(final, 'ENTRYPOINT').at(-1)?.exec;
    expect(entrypoint, 'ENTRYPOINT in exec form').toBeDefined();
    expect(entrypoint!.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect(entrypoint!.slice(2, 3)).toEqual(['node']);
    expect(entrypoint!.at(-1)).toBe('worker/cli.ts');
    expect(instructions(final, 'CMD').at(-1)?.exec).toEqual(['worker']);
    expect(instructions(final, 'RUN').some((run) => /apt-get install .*\btini\b/.test(run.text))).toBe(true);
    expect(instructions(final, 'HEALTHCHECK')).toHaveLength(1);
    const labels = instructions(final, 'LABEL')
      .map((label) => label.text)
      .join(' ');
    expect(labels).toContain(`org.opencontainers.image.version="${packageJson.version}"`);
    expect(labels).toContain(`org.opencontainers.image.licenses="${packageJson.license}"`);
    expect(labels).toContain('org.opencontainers.image.title="isms-worker"');
  });
});

/** The top-level folders reached from `entries` by relative imports (static and dynamic), transitively. */
function importedFolders(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = read(file);
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g)) {
      const target = path.relative(root, path.resolve(root, path.dirname(file), match[1]!));
      if (target.endsWith('.ts') || target.endsWith('.js')) pending.push(target);
    }
  }
  return new Set([...seen].map((file) => file.split(path.sep)[0]!));
}
