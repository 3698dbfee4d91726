import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findTemporalCli } from '../../worker/dev-server.ts';

const compose = parse(readFileSync(fileURLToPath(new URL('../../docker-compose.yml', import.meta.url)), 'utf8')) as {
  services: Record<string, { image?: string }>;
};
const images = Object.values(compose.services).flatMap((service) => (service.image ? [service.image] : []));
const tagsOf = (repository: string) => images.filter((image) => image.startsWith(`${repository}:`)).map((image) => image.slice(repository.length + 1));

describe('docker-compose.yml', () => {
  it('runs the Temporal Server and UI versions of the CLI that serves `isms dev` and the tests', () => {
    const cli = findTemporalCli();
    expect(cli, 'a Temporal CLI (the test setup requires one)').toBeDefined();
    const version = execFileSync(cli!, ['--version'], { encoding: 'utf8' });
    const [, server, ui] = /\(Server ([\d.]+), UI ([\d.]+)\)/.exec(version) ?? [];
    expect(server, version).toBeDefined();
    expect(tagsOf('temporalio/server')).toEqual([server]);
    expect(new Set(tagsOf('temporalio/admin-tools'))).toEqual(new Set([server]));
    expect(tagsOf('temporalio/ui')).toEqual([ui]);
    expect(images.filter((image) => image.startsWith('temporalio/auto-setup'))).toEqual([]);
  });
});
