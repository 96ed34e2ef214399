import { createHash } from 'node:crypto';
import { randomBase64url } from '../random.js';

/**
 * CloudFront's identifiers in AWS's shapes: distribution ids (`E` + 13 capitals and digits, such
 * as E2QWRUHAPOMQZL), domain names (`d111111abcdef8.cloudfront.net`), the per-request id that is
 * both the `X-Amz-Cf-Id` header and the log's x-edge-request-id, and the `Via` host.
 * Derived ids are stable across runs (saved logs and metric queries stay valid).
 */

export interface DistributionIds {
  id: string;
  domainName: string;
  /** arn:aws:cloudfront::<account>:distribution/<id> (CloudFront is global: no region). */
  arn: string;
  /** `<32 hex>.cloudfront.net`, the edge server named in `Via`. */
  viaHost: string;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';

function derived(seed: string, alphabet: string, length: number): string {
  const bytes = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

export function distributionIds(
  accountId: string,
  originName: string,
  given: { id?: string | undefined; domainName?: string | undefined } = {},
): DistributionIds {
  const id = given.id ?? `E${derived(`${accountId}:cloudfront:${originName}`, UPPER, 13)}`;
  const domainName =
    given.domainName ?? `d${derived(`${accountId}:cloudfront-domain:${id}`, LOWER, 13)}.cloudfront.net`;
  const viaHost = `${createHash('sha256').update(`via:${id}`).digest('hex').slice(0, 32)}.cloudfront.net`;
  return { id, domainName, arn: `arn:aws:cloudfront::${accountId}:distribution/${id}`, viaHost };
}

const REQUEST_ID_LENGTH = 56;
const REQUEST_IDS_PER_BLOCK = 64;
let requestIdBlock = '';
let nextRequestId = REQUEST_IDS_PER_BLOCK;

/**
 * A request id as CloudFront writes them: 40 random bytes, URL-safe base64 (56 characters, `==` at
 * the end). Made 64 at a time into one string and handed out as slices of it, which are flat
 * strings: an id built as base64 + `==` would be a two-part string that its first reader (the
 * origin's header check, the viewer's, the log line) has to copy into one first.
 */
export function cloudFrontRequestId(): string {
  if (nextRequestId === REQUEST_IDS_PER_BLOCK) {
    const parts: string[] = [];
    for (let i = 0; i < REQUEST_IDS_PER_BLOCK; i++) parts.push(randomBase64url(40), '==');
    requestIdBlock = parts.join('');
    nextRequestId = 0;
  }
  const at = nextRequestId++ * REQUEST_ID_LENGTH;
  return requestIdBlock.slice(at, at + REQUEST_ID_LENGTH);
}
