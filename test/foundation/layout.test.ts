import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/processes.ts';

// The layout docs/architecture.md describes, checked on every import in src/: dependencies point inwards
// (api -> services -> domain <- storage) and nothing imports in a circle.

const SRC = path.join(REPO_ROOT, 'src');

/** What each part of src/ may import from the others (a part is a top-level folder or file of src/). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: [],
  'logger.ts': [],
  // The product's version, read from package.json: a leaf anyone may name (User-Agent, OpenAPI info).
  'version.ts': [],
  storage: ['domain'],
  observability: ['domain'],
  'config.ts': ['domain', 'logger.ts'],
  records: ['domain', 'storage', 'observability'],
  metadata: ['domain', 'storage'],
  workspaces: ['domain', 'storage'],
  webhooks: ['domain', 'storage', 'config.ts'],
  delivery: ['domain', 'storage', 'webhooks', 'observability', 'config.ts', 'version.ts'],
  'delivery-log': ['domain', 'storage', 'delivery'],
  'local-admin': ['domain', 'workspaces'],
  api: ['domain', 'records', 'metadata', 'workspaces', 'webhooks', 'delivery-log', 'observability', 'config.ts', 'services.ts', 'version.ts'],
  'services.ts': ['domain', 'storage', 'records', 'metadata', 'workspaces', 'webhooks', 'delivery', 'delivery-log', 'observability', 'config.ts'],
  'server.ts': ['domain', 'storage', 'records', 'metadata', 'workspaces', 'webhooks', 'delivery', 'delivery-log', 'local-admin', 'observability', 'api', 'config.ts', 'logger.ts', 'services.ts', 'version.ts'],
  cli: ['domain', 'storage', 'records', 'metadata', 'workspaces', 'webhooks', 'delivery', 'delivery-log', 'local-admin', 'observability', 'api', 'config.ts', 'logger.ts', 'services.ts', 'server.ts', 'version.ts'],
};

/** Imports of types only, which leave no runtime dependency: the API names the storage's status types. */
const MAY_IMPORT_TYPES: Record<string, readonly string[]> = { api: ['storage'] };

/** Packages the pure domain may use besides its own files. */
const DOMAIN_PACKAGES = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

interface Import {
  from: string;
  /** A file of src/ (absolute path), or the bare package name. */
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every import and re-export of a file, static or dynamic, and whether it brings in types only. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    const to = specifier.startsWith('.') ? path.resolve(path.dirname(file), specifier) : specifier;
    found.push({ from: file, to, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((element) => element.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0]!)) {
      add((node.arguments[0] as ts.StringLiteral).text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The part of src/ a file belongs to; undefined outside src/. */
function partOf(file: string): string | undefined {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..')) return undefined;
  return relative.split(path.sep)[0];
}

/** Imports that break MAY_IMPORT, as "from -> to" lines. */
function layoutViolations(imports: readonly Import[]): string[] {
  const broken: string[] = [];
  for (const { from, to, typeOnly } of imports) {
    const fromPart = partOf(from)!;
    const line = `${path.relative(SRC, from)} -> ${path.isAbsolute(to) ? path.relative(SRC, to) : to}`;
    if (!path.isAbsolute(to)) {
      if (fromPart === 'domain' && !DOMAIN_PACKAGES.has(to)) broken.push(`${line} (the domain uses Node's own modules only)`);
      continue;
    }
    const toPart = partOf(to);
    if (toPart === undefined || toPart === fromPart) continue;
    const allowed = MAY_IMPORT[fromPart];
    if (!allowed) {
      broken.push(`${line} (${fromPart} is not in MAY_IMPORT: add it, and to docs/architecture.md)`);
    } else if (!allowed.includes(toPart) && !(typeOnly && MAY_IMPORT_TYPES[fromPart]?.includes(toPart))) {
      broken.push(line);
    }
  }
  return broken;
}

/**
 * One cycle of run-time imports among the files, as the files in order; undefined when there is none. Imports of
 * types only are erased by the compiler and cannot make a module see another half-loaded, so they are left out.
 */
function findCycle(imports: readonly Import[]): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const { from, to, typeOnly } of imports) {
    if (typeOnly || !path.isAbsolute(to) || partOf(to) === undefined) continue;
    edges.set(from, [...(edges.get(from) ?? []), to]);
  }
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of edges.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle.map((step) => path.relative(SRC, step));
  }
  return undefined;
}

/** Resolves an import written in TypeScript's way: `./x.ts` as written, a folder to its index.ts. */
function resolved(imports: Import[]): Import[] {
  return imports.map((entry) => {
    if (!path.isAbsolute(entry.to) || fs.existsSync(entry.to) && fs.statSync(entry.to).isFile()) return entry;
    const index = path.join(entry.to, 'index.ts');
    return fs.existsSync(index) ? { ...entry, to: index } : entry;
  });
}

describe('the layout of src/', () => {
  const imports = resolved(sourceFiles(SRC).flatMap(importsOf));

  it('reads every import (the check sees what it checks)', () => {
    expect(imports.length).toBeGreaterThan(300);
    expect(new Set(imports.map((entry) => partOf(entry.from)))).toEqual(new Set(Object.keys(MAY_IMPORT)));
  });

  it('imports only inwards: domain from nothing, storage from domain, api never storage at run time', () => {
    expect(layoutViolations(imports)).toEqual([]);
  });

  it('has no cycle of run-time imports between files', () => {
    expect(findCycle(imports)).toBeUndefined();
  });

  it('would name a file that imports outwards, and a cycle', () => {
    const at = (file: string) => path.join(SRC, file);
    const outwards: Import[] = [
      { from: at('domain/records.ts'), to: at('storage/schema.ts'), typeOnly: true },
      { from: at('storage/records.ts'), to: at('api/app.ts'), typeOnly: false },
      { from: at('api/ui.ts'), to: at('storage/database.ts'), typeOnly: false },
      { from: at('api/ui.ts'), to: at('storage/schema.ts'), typeOnly: true },
      { from: at('domain/payload.ts'), to: 'kysely', typeOnly: false },
    ];
    expect(layoutViolations(outwards)).toEqual([
      'domain/records.ts -> storage/schema.ts',
      'storage/records.ts -> api/app.ts',
      'api/ui.ts -> storage/database.ts',
      "domain/payload.ts -> kysely (the domain uses Node's own modules only)",
    ]);
    const circle: Import[] = [
      { from: at('delivery/a.ts'), to: at('delivery/b.ts'), typeOnly: false },
      { from: at('delivery/b.ts'), to: at('delivery/c.ts'), typeOnly: false },
      { from: at('delivery/c.ts'), to: at('delivery/a.ts'), typeOnly: false },
    ];
    expect(findCycle(circle.map((entry, index) => ({ ...entry, typeOnly: index === 2 })))).toBeUndefined();
    expect(findCycle(circle)).toEqual(['delivery/a.ts', 'delivery/b.ts', 'delivery/c.ts', 'delivery/a.ts']);
  });
});
