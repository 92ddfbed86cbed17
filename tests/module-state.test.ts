import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * No module-level mutable state in src/: policy and state live in the value that owns them (a
 * pipeline, a writer, a store). The one accepted global is the pipeline registry on `globalThis`
 * (src/pipeline/global-registry.ts), reached through a function, never a module binding.
 *
 * Reported anywhere in src/: `let`/`var` at the top level; a top-level `const` whose value is, or
 * contains outside a function, a constructed object other than a RegExp (`new Map()`,
 * `new Foo()` — `as`, `satisfies` and parentheses are looked through; a `Map` or `Set` passes
 * only under a `ReadonlyMap`/`ReadonlySet` annotation and is never cast back) or an
 * immediately invoked function; a static class field that is not `readonly` with an immutable
 * value. Constant lookup tables written as object or array literals are typed `readonly` and
 * are not reported; no code assigns to them (`tsc` refuses it through the readonly types).
 */
const ROOT = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Lookup tables may be a `Map` or `Set` when the binding is declared `ReadonlyMap` / `ReadonlySet`
 * (a type annotation, not an `as` cast): TypeScript then refuses every mutation.
 */
const CONTAINERS: ReadonlySet<string> = new Set(['Map', 'Set']);
const READONLY_TYPE = /^Readonly(?:Map|Set)</;

function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isParenthesizedExpression(current) ||
    ts.isTypeAssertionExpression(current) ||
    ts.isNonNullExpression(current)
  ) {
    current = current.expression;
  }
  return current;
}

/**
 * A container or object built when the module loads, found anywhere in a top-level initializer
 * except inside function bodies (which run later, per call).
 */
function constructedState(node: ts.Node, readonlyContainer = false): string | undefined {
  let found: string | undefined;
  const visit = (current: ts.Node): void => {
    if (found !== undefined) return;
    if (
      ts.isArrowFunction(current) ||
      ts.isFunctionExpression(current) ||
      ts.isClassExpression(current) ||
      ts.isMethodDeclaration(current) ||
      ts.isGetAccessorDeclaration(current) ||
      ts.isSetAccessorDeclaration(current)
    ) {
      return;
    }
    if (ts.isNewExpression(current) && current.expression.getText() !== 'RegExp') {
      const kind = current.expression.getText();
      if (
        !(readonlyContainer && current === unwrap(node as ts.Expression) && CONTAINERS.has(kind))
      ) {
        found = `constructs ${kind} at module level`;
        return;
      }
    }
    if (ts.isCallExpression(current)) {
      const callee = unwrap(current.expression);
      if (ts.isArrowFunction(callee) || ts.isFunctionExpression(callee)) {
        found = 'immediately invoked function at module level';
        return;
      }
      // A call's arguments are consumed by it (`fileURLToPath(new URL(…))`); only
      // `Object.freeze` keeps what it is given.
      if (current.expression.getText() !== 'Object.freeze') return;
    }
    ts.forEachChild(current, visit);
  };
  visit(node);
  return found;
}

function violations(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const at = (node: ts.Node) =>
    `${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      const list = statement.declarationList;
      const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
      for (const declaration of list.declarations) {
        const name = declaration.name.getText();
        if (!isConst) {
          found.push(`${at(declaration)} ${name}: module-level let/var`);
        } else if (declaration.initializer) {
          const typed =
            declaration.type !== undefined && READONLY_TYPE.test(declaration.type.getText());
          const hidden = constructedState(declaration.initializer, typed);
          if (hidden !== undefined) found.push(`${at(declaration)} ${name}: ${hidden}`);
          // A readonly container must never be cast back to its mutable type.
          if (typed && new RegExp(`\\b${name}\\s+as\\s+(?:Map|Set|Weak)`).test(text)) {
            found.push(`${at(declaration)} ${name}: cast back to a mutable container`);
          }
        }
      }
    } else if (ts.isClassDeclaration(statement)) {
      for (const member of statement.members) {
        const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
        const isStatic = modifiers.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
        const isReadonly = modifiers.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword);
        if (ts.isPropertyDeclaration(member) && isStatic) {
          const frozen =
            isReadonly &&
            (!member.initializer || constructedState(member.initializer) === undefined);
          if (!frozen) found.push(`${at(member)} static ${member.name.getText()}: mutable static`);
        }
      }
    }
  }
  return found;
}

describe('module-level state', () => {
  it('no module in src/ holds mutable state at its top level', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(violations)).toEqual([]);
  });

  it('the check catches the tricks it is meant to catch', () => {
    const probe = join(import.meta.dirname, 'fixtures', 'module-state-probe.ts');
    expect(violations(probe).map((line) => line.split(' ')[1])).toEqual([
      'counter:',
      'cache:',
      'hidden:',
      'made:',
      'static',
    ]);
  });
});
