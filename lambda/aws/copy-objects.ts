/**
 * The two S3 reads a restore from a copy needs: list the keys under the copy's prefix, and read
 * `manifest-files.json`. Behind a small port (CopyObjects), so the import logic does not depend
 * on how S3 is reached. This adapter signs the two REST calls itself (SigV4, the SDK's own
 * signer) with the credentials of the service's DynamoDB client, at the same endpoint when one
 * is set (moto, LocalStack).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CopyObjects {
  /** Every key under `prefix` in `bucket` (all pages). */
  listKeys(bucket: string, prefix: string, owner?: string): Promise<string[]>;
  /** The object's text, or undefined when it does not exist. */
  getText(bucket: string, key: string, owner?: string): Promise<string | undefined>;
}

/** An S3 call failed (not a missing object). */
export class CopyObjectsError extends Error {
  override readonly name = 'CopyObjectsError';
}

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: Bytes): string | Buffer =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? Buffer.from(d) : Buffer.from(d.buffer, d.byteOffset, d.byteLength);

class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.h = secret ? createHmac('sha256', toBuffer(secret)) : createHash('sha256');
  }
  update(data: Bytes): void {
    this.h.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

/** Decodes the five XML entities S3 uses. */
function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function tagValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => unescapeXml(m[1]));
}

export interface S3RestOptions {
  /** The region of the bucket (the copy's `region`, else the DynamoDB client's). */
  readonly region?: string;
  /** An endpoint for every service (moto); path-style addressing is used then. */
  readonly endpoint?: string;
  readonly fetch?: typeof fetch;
}

/** CopyObjects over S3's REST API (ListObjectsV2, GetObject). */
export class S3RestObjects implements CopyObjects {
  constructor(
    private readonly ddb: Pick<DynamoDBClient, 'config'>,
    private readonly opts: S3RestOptions = {},
  ) {}

  private async call(bucket: string, key: string, query: Record<string, string>, owner?: string): Promise<{ status: number; body: string }> {
    const region = this.opts.region ?? (await this.ddb.config.region());
    const custom = this.opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const base = new URL(custom ?? (bucket.includes('.') ? `https://s3.${region}.amazonaws.com` : `https://${bucket}.s3.${region}.amazonaws.com`));
    const pathStyle = custom !== undefined || bucket.includes('.');
    const path = `${pathStyle ? `/${bucket}` : ''}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const headers: Record<string, string> = {
      host: base.host,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...(owner ? { 'x-amz-expected-bucket-owner': owner } : {}),
    };
    const signer = new SignatureV4({ service: 's3', region, credentials: this.ddb.config.credentials, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
    const signed = await signer.sign({ method: 'GET', protocol: base.protocol, hostname: base.hostname, port: base.port ? Number(base.port) : undefined, path, query, headers });
    const qs = new URLSearchParams(query).toString();
    const url = `${base.protocol}//${base.host}${path}${qs ? `?${qs}` : ''}`;
    const res = await (this.opts.fetch ?? fetch)(url, { method: 'GET', headers: signed.headers as Record<string, string> });
    return { status: res.status, body: await res.text() };
  }

  async listKeys(bucket: string, prefix: string, owner?: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.call(bucket, '', { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) }, owner);
      if (res.status !== 200) throw new CopyObjectsError(`cannot list s3://${bucket}/${prefix}: HTTP ${res.status} ${tagValues(res.body, 'Code')[0] ?? ''} ${tagValues(res.body, 'Message')[0] ?? ''}`.trim());
      keys.push(...tagValues(res.body, 'Key'));
      token = tagValues(res.body, 'IsTruncated')[0] === 'true' ? tagValues(res.body, 'NextContinuationToken')[0] : undefined;
    } while (token);
    return keys;
  }

  async getText(bucket: string, key: string, owner?: string): Promise<string | undefined> {
    const res = await this.call(bucket, key, {}, owner);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new CopyObjectsError(`cannot read s3://${bucket}/${key}: HTTP ${res.status} ${tagValues(res.body, 'Code')[0] ?? ''}`.trim());
    return res.body;
  }
}
