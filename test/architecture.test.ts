// Keeps the import directions of ../shared/ARCHITECTURE.md under test: a forbidden edge fails here.
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { importsOf, listTsFiles, type ImportEdge } from './helpers/imports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['broker', 'rules', 'analytics', 'devices-sim', 'dashboard', 'bench', 'test'] as const;
const edges: ImportEdge[] = FOLDERS.flatMap((f) => listTsFiles(ROOT, f)).flatMap((file) => importsOf(ROOT, file));
const folderOf = (path: string) => path.split('/')[0];
const crossFolder = edges.filter((e) => e.target && folderOf(e.target) !== folderOf(e.from));
const describeEdge = (e: ImportEdge) => `${e.from} imports ${e.specifier}${e.typeOnly ? ' (type-only)' : ''}`;

describe('import directions', () => {
  it('finds the source files it checks', () => {
    expect(edges.some((e) => e.from.startsWith('broker/'))).toBe(true);
    expect(edges.some((e) => e.from.startsWith('rules/'))).toBe(true);
    expect(edges.some((e) => e.from.startsWith('analytics/'))).toBe(true);
  });

  it('keeps rules/ a pure library that imports nothing else in the repo', () => {
    expect(crossFolder.filter((e) => folderOf(e.from) === 'rules').map(describeEdge)).toEqual([]);
  });

  it('keeps analytics/ free of imports from other folders', () => {
    expect(crossFolder.filter((e) => folderOf(e.from) === 'analytics').map(describeEdge)).toEqual([]);
  });

  it('lets broker/ reach rules/ and analytics/ only through their index.ts', () => {
    const bad = crossFolder.filter(
      (e) => folderOf(e.from) === 'broker' && e.target !== 'rules/index.ts' && e.target !== 'analytics/index.ts',
    );
    expect(bad.map(describeEdge)).toEqual([]);
  });

  it('lets devices-sim/ and dashboard/ use only types from broker/contract.ts', () => {
    const bad = crossFolder.filter(
      (e) => ['devices-sim', 'dashboard'].includes(folderOf(e.from)) && !(e.target === 'broker/contract.ts' && e.typeOnly),
    );
    expect(bad.map(describeEdge)).toEqual([]);
  });

  // Unit tests and single-module benchmarks may reach inside the module they measure.
  it('lets integration and browser tests reach folders only through their index.ts', () => {
    const bad = crossFolder.filter(
      (e) =>
        (e.from.startsWith('test/integration/') || e.from.startsWith('test/browser/')) &&
        folderOf(e.target!) !== 'test' && !e.target!.endsWith('/index.ts') && e.target !== 'broker/contract.ts',
    );
    expect(bad.map(describeEdge)).toEqual([]);
  });

  it('has each outside library imported by exactly one production file', () => {
    const builtins = new Set(builtinModules);
    const importers = new Map<string, Set<string>>();
    for (const e of edges) {
      if (e.target || e.from.startsWith('test/') || e.from.startsWith('bench/')) continue;
      if (e.specifier.startsWith('node:') || builtins.has(e.specifier)) continue;
      const pkg = e.specifier.startsWith('@') ? e.specifier.split('/').slice(0, 2).join('/') : e.specifier.split('/')[0];
      if (!importers.has(pkg)) importers.set(pkg, new Set());
      importers.get(pkg)!.add(e.from);
    }
    const shared = [...importers].filter(([, files]) => files.size > 1).map(([pkg, files]) => `${pkg}: ${[...files].join(', ')}`);
    expect(shared).toEqual([]);
  });
});
