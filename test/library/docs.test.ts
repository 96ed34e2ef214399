/**
 * docs/library.md's examples, run against the sources: each ```ts block with its
 * `throttlescope/<part>` imports pointed at src/<part>/index.ts, `./alb-logs/` at a directory of
 * real-format lines, and console.log collected.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaLine } from '../helpers/alb-lines.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const T0 = Date.parse('2026-11-24T10:00:00Z');

declare global {
  var __libraryDocLog: (...args: unknown[]) => void;
}

async function examples(): Promise<Map<string, string>> {
  const doc = await readFile(new URL('../../docs/library.md', import.meta.url), 'utf8');
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/^## (.+)\n[\s\S]*?```ts\n([\s\S]*?)```/gm))
    out.set(m[1] as string, m[2] as string);
  return out;
}

describe('docs/library.md examples', () => {
  let dir: string;
  let blocks: Map<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libdoc-'));
    await writeFile(
      join(dir, 'a.log'),
      [lambdaLine(T0 + 1000), lambdaLine(T0 + 2000, { reason: 'LambdaThrottling' })].join('\n'),
    );
    blocks = await examples();
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function run(title: string): Promise<unknown[][]> {
    const code = blocks.get(title);
    expect(code, title).toBeDefined();
    const source = (code as string)
      .replace(
        /from 'throttlescope\/(\w+)'/g,
        (_m, part: string) => `from ${JSON.stringify(`${SRC}${part}/index.ts`)}`,
      )
      .replaceAll("'./alb-logs/'", JSON.stringify(`${dir}/`))
      .replace(/console\.log\(/g, 'globalThis.__libraryDocLog(');
    const file = join(dir, `${title.replace(/\W+/g, '-')}.ts`);
    await writeFile(file, `${source}\nexport {};\n`);
    const out: unknown[][] = [];
    globalThis.__libraryDocLog = (...args) => out.push(args);
    await import(pathToFileURL(file).href);
    return out;
  }

  it('has the three examples', () => {
    expect([...blocks.keys()]).toEqual(['Read ALB access logs', 'Run the lab', 'Diagnose']);
  });

  it('reads logs', async () => {
    const out = await run('Read ALB access logs');
    expect(out[0]).toEqual([{ LambdaThrottling: 1 }]);
    expect(String(out[1]?.[0])).toMatch(/^ALB access logs: 1 file\(s\), 2 entries/);
  });

  it('runs the lab', async () => {
    const out = await run('Run the lab');
    expect(out[0]?.[0]).toBe(200);
    expect(String(out[0]?.[1])).toMatch(
      /AWS endpoint for the SDK and the aws CLI: http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(out[1]?.[0]).toHaveProperty('accountLimit');
  });

  it('diagnoses', async () => {
    const out = await run('Diagnose');
    expect(typeof out[0]?.[0]).toBe('string');
    expect(String(out[1]?.[0])).toMatch(/^Root cause: /);
  });
});
