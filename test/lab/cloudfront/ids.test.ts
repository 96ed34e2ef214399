import { describe, expect, it } from 'vitest';
import { cloudFrontRequestId } from '../../../src/lab/cloudfront/ids.js';

describe('cloudFrontRequestId', () => {
  it('gives 40 random bytes as URL-safe base64 with its padding, never the same twice across the blocks it is made in', () => {
    const ids = Array.from({ length: 300 }, () => cloudFrontRequestId());
    for (const id of ids) {
      // 40 bytes: 13 groups of three, then one byte whose last character carries 2 bits (A, Q, g or w).
      expect(id).toMatch(/^[A-Za-z0-9_-]{53}[AQgw]==$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(40);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
