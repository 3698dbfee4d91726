import { z } from 'zod';

const FilesystemBlobs = z
  .strictObject({ kind: z.literal('filesystem').describe('Blobs under <dataDir>/evidence/blobs on this host.') })
  .describe('Evidence blobs on the local disk (the default).');

const ObjectLock = z
  .strictObject({
    mode: z
      .enum(['GOVERNANCE', 'COMPLIANCE'])
      .describe(
        'S3 Object Lock mode of every blob and journal entry: COMPLIANCE cannot be lifted by anyone before the date; GOVERNANCE by holders of s3:BypassGovernanceRetention.',
      ),
    retainDays: z
      .number()
      .int()
      .min(1)
      .max(36_500)
      .describe('Days each object is retained from when it is written; cover the certification cycle (3 years = 1095).'),
  })
  .describe('Write-once retention: the bucket must have been created with Object Lock enabled.');

const ServerSideEncryption = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('SSE-S3').describe('S3-managed keys (AES256).') }),
    z.strictObject({
      kind: z.literal('SSE-KMS').describe('AWS KMS keys.'),
      kmsKeyId: z.string().min(1).optional().describe("The KMS key id or ARN; without it the account's aws/s3 key."),
    }),
  ])
  .describe('How S3 encrypts each object at rest; sent with every put.');

const S3Blobs = z
  .strictObject({
    kind: z.literal('s3').describe('Blobs and the journal in an S3 bucket, shared by workers on several hosts.'),
    bucket: z.string().min(3).max(63).describe('The bucket.'),
    prefix: z
      .string()
      .regex(/^(?:[A-Za-z0-9!_.*'()-]+\/)*$/, 'a prefix is empty or folder names each ending in "/"')
      .default('')
      .describe('Key prefix of the store, e.g. "isms/evidence/"; empty or ending in "/".'),
    region: z.string().min(1).optional().describe("The bucket's region; without it the default AWS chain (AWS_REGION, profile)."),
    endpoint: z.url().optional().describe('Endpoint of an S3-compatible store (MinIO, Ceph, moto); without it AWS.'),
    forcePathStyle: z.boolean().default(false).describe('Address the bucket in the path (http://host/bucket/key), as most S3-compatible stores need.'),
    objectLock: ObjectLock.optional(),
    serverSideEncryption: ServerSideEncryption.optional(),
    partSizeMiB: z.number().int().min(5).max(5120).default(64).describe('Blobs larger than this are uploaded in parts of this size (multipart upload).'),
  })
  .describe('Evidence blobs in S3. Credentials come from the default AWS chain (environment, profile, instance or task role).');

export const EvidenceBlobsConfig = z.discriminatedUnion('kind', [FilesystemBlobs, S3Blobs]).describe('Where evidence blobs and the journal are kept.');
export type EvidenceBlobsConfig = z.infer<typeof EvidenceBlobsConfig>;
export type S3BlobsConfig = z.infer<typeof S3Blobs>;

export const EvidenceConfig = z.strictObject({ blobs: EvidenceBlobsConfig.default({ kind: 'filesystem' }) }).describe('The evidence store.');
