/**
 * ESLint rule `local/no-any-value`: no expression or binding typed `any`, wherever it flows — also into
 * `unknown`, where typescript-eslint's no-unsafe-* rules accept it (`const v: unknown = JSON.parse(t)`,
 * `f(m.data)` with `f(x: unknown)`, `return Reflect.get(o, k)` from a function returning unknown).
 * Values from outside the type system enter through functions typed to return `unknown` (protocol's
 * unknown.ts: parseJson, readField) and are narrowed by guards (isPlainObject, isArrayValue).
 *
 * Checked: calls, `new`, member reads, await, yield (a generator's next() value), tagged templates, and
 * every binding (variables, parameters, destructured names: an untyped callback parameter or a
 * `let x;` that evolves from `any`). A reference to a binding is not checked again: its binding is.
 * The `import` keyword of a dynamic import() is not an expression of its own here (ESTree's
 * ImportExpression is the whole call, typed Promise<module>).
 *
 * Also reported, without type information: a renamed key in a destructuring declaration (`const { a: b } = o`,
 * parameters too; a destructuring assignment's keys are typed).
 * TypeScript's checker types that key (`a`) as `any` (its error type: a binding element's property
 * name has no type of its own), so any-counting tools built on getTypeAtLocation count it; bind the
 * property under its own name (`{ a } = o`) or read it (`const b = o.a`).
 */
import ts from 'typescript';

/** Parents under which an Identifier names a binding (the node is the binding, not a read of one). */
function isBinding(node) {
  const p = node.parent;
  if (!p) return false;
  switch (p.type) {
    case 'VariableDeclarator':
      return p.id === node;
    case 'ArrayPattern':
    case 'RestElement':
      return true;
    case 'AssignmentPattern':
      return p.left === node;
    case 'Property':
      return p.value === node && p.parent?.type === 'ObjectPattern';
    case 'CatchClause':
      return p.param === node;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return p.params.includes(node);
    case 'TSParameterProperty':
      return p.parameter === node;
    default:
      return false;
  }
}

/** Whether a pattern destructures into existing places (`({ a: this.b } = o)`), not new bindings. */
function assigns(pattern) {
  let n = pattern;
  while (['ObjectPattern', 'ArrayPattern', 'Property', 'AssignmentPattern', 'RestElement'].includes(n.parent?.type))
    n = n.parent;
  const p = n.parent;
  return (
    p?.type === 'AssignmentExpression' ||
    (p?.type === 'ForOfStatement' && p.left === n) ||
    (p?.type === 'ForInStatement' && p.left === n)
  );
}

const WHAT = {
  CallExpression: 'call',
  NewExpression: '`new`',
  MemberExpression: 'member read',
  AwaitExpression: 'await',
  YieldExpression: 'yield (the value next() passes in: type the generator `Generator<T, R, undefined>`)',
  TaggedTemplateExpression: 'tagged template',
  Identifier: 'binding',
};

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Disallow any expression or binding typed `any`, even one that flows into `unknown`.' },
    messages: {
      renamed:
        'TypeScript types a renamed destructuring key as `any` (its error type): destructure it under its own name or read the property (`const b = o.a`).',
      any: 'This {{what}} is typed `any`: take outside values as `unknown` (@encke/protocol unknown.ts: parseJson, readField, entriesOf) and narrow them with guards, or give the binding a type.',
    },
    schema: [],
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program) return {};
    const checker = services.program.getTypeChecker();
    const toTs = services.esTreeNodeToTSNodeMap;
    const check = (node) => {
      const type = checker.getTypeAtLocation(toTs.get(node));
      if (type.flags & ts.TypeFlags.Any) context.report({ node, messageId: 'any', data: { what: WHAT[node.type] } });
    };
    return {
      CallExpression: check,
      NewExpression: check,
      MemberExpression: check,
      AwaitExpression: check,
      YieldExpression: check,
      TaggedTemplateExpression: check,
      Identifier(node) {
        if (isBinding(node)) check(node);
      },
      'ObjectPattern > Property'(node) {
        if (!node.computed && !node.shorthand && !assigns(node.parent))
          context.report({ node: node.key, messageId: 'renamed' });
      },
    };
  },
};
