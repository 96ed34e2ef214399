import { describe, expect, it } from 'vitest';
import { handler, scenarioWith, testLab } from './helpers.js';

describe('TypeScript handler modules', () => {
  it('runs a .ts handler through tsx in its worker', async () => {
    const lab = await testLab(scenarioWith([handler('typed', 'typed.ts')]));
    try {
      const r = await lab.get('/typed?name=lab');
      expect(r.status).toBe(200);
      expect(r.text).toBe('hello lab from GET /typed');
    } finally {
      await lab.close();
    }
  });
});
