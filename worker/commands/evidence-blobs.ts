import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import type { S3BlobsConfig } from '../../evidence/blob-store-s3.ts';
import { migrateBlobs } from '../../evidence/blob-migrate.ts';
import { FilesystemBlobStore } from '../../evidence/blob-store-fs.ts';
import { S3BlobStore } from '../../evidence/blob-store-s3.ts';
import { FileJournal } from '../../evidence/journal.ts';
import { S3Journal } from '../../evidence/journal-s3.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { EXIT, table, type CliContext } from './context.ts';

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?((?:[A-Za-z0-9!_.*'()-]+\/)*)$/;

/** `isms evidence migrate-blobs`: this host's blobs and journal into S3, so that workers on other hosts share them. */
export function registerEvidenceBlobsCommands(context: CliContext, evidence: Command): void {
  evidence
    .command('migrate-blobs')
    .description(
      "copy the filesystem store's blobs and journal to S3 (re-hashing each before and after), then verify the catalog against the copy; exit 1 on any problem. Object Lock and encryption come from evidence.blobs when it names S3",
    )
    .requiredOption('--to <url>', 's3://bucket/prefix/ to copy to')
    .option('--region <region>', "the bucket's region (default: evidence.blobs.region, then the AWS chain)")
    .option('--endpoint <url>', 'an S3-compatible endpoint (default: evidence.blobs.endpoint)')
    .option('--force-path-style', 'address the bucket in the path, as most S3-compatible stores need')
    .action(async (options: { to: string; region?: string; endpoint?: string; forcePathStyle?: boolean }) => {
      const match = S3_URL.exec(options.to);
      if (!match) throw new ConfigError(`--to ${options.to}: not s3://bucket/ or s3://bucket/prefix/ (a prefix ends in "/")`);
      await context.withRuntime(async ({ config, store, log }) => {
        const configured = config.config.evidence.blobs;
        const settings: S3BlobsConfig = {
          ...(configured.kind === 's3' ? configured : { kind: 's3', forcePathStyle: false, partSizeMiB: 64 }),
          bucket: match[1]!,
          prefix: match[2] ?? '',
          ...(options.region && { region: options.region }),
          ...(options.endpoint && { endpoint: options.endpoint }),
          ...(options.forcePathStyle && { forcePathStyle: true }),
        };
        const target = new S3BlobStore(settings);
        const evidenceDir = path.join(config.dataDir, 'evidence');
        const report = await migrateBlobs(store, new FilesystemBlobStore(path.join(evidenceDir, 'blobs')), target, {
          from: new FileJournal(path.join(evidenceDir, 'journal.log')),
          to: new S3Journal(target),
        });
        const onTarget = await EvidenceStore.open(config.dataDir, { blobs: target, log });
        const verified = await onTarget.verify();
        onTarget.close();
        const problems = [
          ...report.problems,
          ...verified.problems.filter((problem) => !report.problems.some((known) => known.evidenceId === problem.evidenceId)),
        ];
        context.print(
          [
            `${report.rows} evidence rows: ${report.copied} blobs copied to ${target.location}, ${report.present} already there; ${report.journalEntries} journal entries`,
            problems.length === 0
              ? `verify against ${target.location}: ok`
              : `FAILED: ${problems.length} problems\n${table(problems, ['evidenceId', 'problem', 'detail'])}`,
          ].join('\n'),
        );
        if (problems.length > 0) process.exitCode = EXIT.findings;
      });
    });
}
