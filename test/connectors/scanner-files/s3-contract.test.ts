// @module-tag moto
import { readFile } from 'node:fs/promises';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { scannerFiles } from '../../../connectors/scanner-files/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startMoto } from '../../support/moto.ts';
import { isGetObject, isListing, startS3Proxy } from '../../support/scanner-s3-proxy.ts';
import { fixture } from './helpers.ts';

const BUCKET = 'isms-contract';
const KEY_ID = 'AKIAISMSCONTRACT0002';
const SECRET = 's3-contract-secret-Zq9vP2mWx7';
const EXPORTS = ['grype-fix-available.json', 'semgrep-juice-shop.sarif', 'trivy-alpine-310.json'];

/** scanner-files' S3 input: listed a key a page (so the listing has pages to disturb), one cursor per object read. */
connectorContract({
  connector: scannerFiles,
  async start() {
    const moto = await startMoto();
    const proxy = await startS3Proxy(moto.endpoint);
    const admin = new S3Client({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    });
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const name of EXPORTS) await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `scans/${name}`, Body: await readFile(fixture(name)) }));
    admin.destroy();
    return {
      server: {
        faults: proxy.faults,
        requests: (operation) => proxy.requests.filter(operation === 'ListObjectsV2' ? isListing : isGetObject).length,
        reset: () => proxy.reset(),
        close: async () => {
          await proxy.close();
          await moto.stop();
        },
      },
      config: {
        paths: [`s3://${BUCKET}/scans/`],
        s3: {
          endpoint: proxy.endpoint,
          forcePathStyle: true,
          pageSize: 1,
          maxAttempts: 3,
          credentials: { accessKeyId: { env: 'S3_KEY_ID' }, secretAccessKey: { env: 'S3_SECRET' } },
        },
      },
      env: { S3_KEY_ID: KEY_ID, S3_SECRET: SECRET },
      secrets: () => [KEY_ID, SECRET],
    };
  },
  operation: 'ListObjectsV2',
  names: /^scanner-files: paths\[0\] "s3:\/\/isms-contract\/scans\/": ListObjectsV2 page 2: /,
  key: (record) => JSON.stringify(record),
});
