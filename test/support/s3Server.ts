/**
 * s3rver (a real, file-backed S3 implementation) on loopback for tests: port 0, a temp directory,
 * buckets created up front, an extra key pair registered so tests can use (and grep for) their own
 * secret. Objects are read back through the S3 API, not from s3rver's files.
 */

import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');
// s3rver only knows the key pair S3RVER/S3RVER; its account registry is how others are added.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AWSAccount = require('s3rver/lib/models/account');

export type S3TestServer = {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  directory: string;
  /** The stored object's bytes, or undefined when there is no such object. */
  getObject(bucket: string, key: string): Promise<Buffer | undefined>;
  /** Stores an object as another writer of the bucket would (plain PutObject, overwriting). */
  putObject(bucket: string, key: string, data: Buffer): Promise<void>;
  close(): Promise<void>;
};

export type S3ServerOptions = { buckets: string[]; accessKey?: string; secretKey?: string };

export async function startS3Server(options: S3ServerOptions): Promise<S3TestServer> {
  const accessKey = options.accessKey ?? 'S3RVER';
  const secretKey = options.secretKey ?? 'S3RVER';
  if (accessKey !== 'S3RVER') AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
  const directory = await fsp.mkdtemp(path.join(os.tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let closed = false;
  return {
    endpoint,
    region: 'us-east-1',
    accessKey,
    secretKey,
    directory,
    async getObject(bucket, key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async putObject(bucket, key, data) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
    },
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      server.httpServer?.closeAllConnections?.();
      await server.close();
      await fsp.rm(directory, { recursive: true, force: true });
    },
  };
}
