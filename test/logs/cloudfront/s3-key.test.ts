import { describe, expect, it } from 'vitest';
import {
  cloudFrontKeyMayOverlap,
  cloudFrontLogKey,
  HOUR_MS,
  parseCloudFrontLogKey,
} from '../../../src/logs/cloudfront/index.js';

describe('standard-log object keys', () => {
  it("reads AWS's example key", () => {
    expect(parseCloudFrontLogKey('example-prefix/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz')).toEqual({
      prefix: 'example-prefix',
      distributionId: 'EMLARXS9EXAMPLE',
      hourMs: Date.UTC(2019, 10, 14, 20),
      unique: 'RT4KCN4SGK9',
    });
  });

  it('writes <prefix>/<distribution>.YYYY-MM-DD-HH.<unique>.gz, adding the / CloudFront adds', () => {
    const parts = {
      distributionId: 'E2QWRUHAPOMQZL',
      hourMs: Date.UTC(2026, 11, 5, 9, 59, 12),
      unique: 'A1B2C3D4',
    };
    expect(cloudFrontLogKey({ ...parts, prefix: 'cf-logs' })).toBe(
      'cf-logs/E2QWRUHAPOMQZL.2026-12-05-09.A1B2C3D4.gz',
    );
    expect(cloudFrontLogKey({ ...parts, prefix: 'cf-logs/' })).toBe(
      'cf-logs/E2QWRUHAPOMQZL.2026-12-05-09.A1B2C3D4.gz',
    );
    expect(cloudFrontLogKey({ ...parts, prefix: '' })).toBe('E2QWRUHAPOMQZL.2026-12-05-09.A1B2C3D4.gz');
    const back = parseCloudFrontLogKey(cloudFrontLogKey({ ...parts, prefix: 'a/b' }));
    expect(back).toEqual({ ...parts, prefix: 'a/b', hourMs: Date.UTC(2026, 11, 5, 9) });
  });

  it.each([
    'E2QWRUHAPOMQZL.2026-12-05-09.A1B2C3D4.log',
    'E2QWRUHAPOMQZL.2026-12-05.A1B2C3D4.gz',
    'E2QWRUHAPOMQZL.2026-02-30-09.A1B2C3D4.gz',
    'E2QWRUHAPOMQZL.2026-12-05-24.A1B2C3D4.gz',
    '123456789012_elasticloadbalancing_eu-west-1_app.x.50dc6c495c0c9188_20261205T0905Z_10.0.0.1_abc.log.gz',
  ])('%s is not a CloudFront log key', (key) => {
    expect(parseCloudFrontLogKey(key)).toBeUndefined();
  });

  it('a file named for an hour can hold only that hour', () => {
    const hour = Date.UTC(2026, 11, 5, 9);
    expect(cloudFrontKeyMayOverlap(hour, hour + HOUR_MS, undefined)).toBe(false);
    expect(cloudFrontKeyMayOverlap(hour, hour + HOUR_MS - 1, undefined)).toBe(true);
    expect(cloudFrontKeyMayOverlap(hour, undefined, hour)).toBe(false);
    expect(cloudFrontKeyMayOverlap(hour, undefined, hour + 1)).toBe(true);
  });
});
