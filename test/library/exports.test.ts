import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

describe('package exports', () => {
  const parts = Object.keys(pkg.exports)
    .filter((k) => k.startsWith('./') && k !== './package.json')
    .map((k) => k.slice(2));

  it('has the root and one subpath per part, each an index of src/', () => {
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(parts.sort()).toEqual(
      [
        'common',
        'demo',
        'diagnose',
        'fix',
        'lab',
        'logs',
        'metrics',
        'plan',
        'probe',
        'report',
        'verify',
      ].sort(),
    );
    for (const part of parts) {
      expect(pkg.exports[`./${part}`]).toEqual({
        types: `./dist/${part}/index.d.ts`,
        default: `./dist/${part}/index.js`,
      });
      expect(existsSync(new URL(`../../src/${part}/index.ts`, import.meta.url)), part).toBe(true);
    }
  });

  it('the root names every part as a namespace', () => {
    for (const part of parts) expect(Object.keys(root), part).toContain(part);
    expect(typeof root.logs.analyseAlbLogs).toBe('function');
    expect(typeof root.plan.simulateScenario).toBe('function');
    expect(typeof root.lab.startLab).toBe('function');
  });

  it('tsx is an optional peer dependency, not a runtime one', () => {
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.peerDependencies).toHaveProperty('tsx');
    expect(pkg.peerDependenciesMeta?.tsx?.optional).toBe(true);
  });
});
