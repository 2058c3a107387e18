import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../broker/atomic-file.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file with a string or with parts, leaving no temporary file behind', () => {
    const path = join(dir, 'store.json');
    writeFileAtomic(path, 'first\n');
    writeFileAtomic(path, ['a\n', 'b'.repeat(2 << 20), '\n'], { fsync: true });
    expect(readFileSync(path, 'utf8')).toBe(`a\n${'b'.repeat(2 << 20)}\n`);
    expect(readdirSync(dir)).toEqual(['store.json']);
  });

  it('gives the file the requested mode whatever the umask', () => {
    const path = join(dir, 'key.pem');
    writeFileAtomic(path, 'secret', { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    writeFileAtomic(path, 'public', { mode: 0o644 });
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('fails with InternalFailureException naming the file and keeps the old content', () => {
    const path = join(dir, 'missing-folder', 'store.json');
    expect(() => writeFileAtomic(path, 'x')).toThrow(expect.objectContaining({ code: 'InternalFailureException', message: expect.stringContaining(path) }));
    const kept = join(dir, 'kept.json');
    writeFileAtomic(kept, 'old');
    const parts = (function* () {
      yield 'new';
      throw new Error('disk full');
    })();
    expect(() => writeFileAtomic(kept, parts)).toThrow(/disk full/);
    expect(readFileSync(kept, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['kept.json']);
  });
});
