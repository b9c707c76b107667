/**
 * ESLint rule `local/no-unchecked-cast`: no cast of an unchecked value. The functions through which
 * outside values enter (protocol's unknown.ts: `parseJson`, `readField` and its test alias `field`;
 * V8's `deserialize`) return `unknown` so that the value is checked before use; `parseJson(t) as T`
 * (or `<T>readField(o, k)`) skips that check and only claims the shape. Reported: a TSAsExpression or
 * type assertion to any type but `unknown` whose expression is a call of one of them, also through
 * `!`, `?.` and an intermediate `as unknown` (`parseJson(t) as unknown as T`).
 *
 * The callee is matched by name, as written (`parseJson`, `v8.deserialize`) and, with type
 * information, as declared: an import under another name (`readField as field`) is followed to the
 * function it names. The tests' readers of the SDK's untyped fields (helpers/field.ts `dataOf`,
 * `extrasOf`, `firstItem`; helpers/json.ts `jsonValue`; helpers/module.ts `importModule`) count too.
 *
 * Also reported, through `await` as well: a cast of what an HTTP body reader returns, `.json()`
 * (`(await res.json()) as T`, `r.json() as Promise<T>`: fetch's Response.json resolves to unknown),
 * and a cast of a `.body` typed `unknown` or `any` (`res.body as T` of the tests' httpGet answers).
 *
 * With the option `{ calls: true }` (on everywhere in eslint.config.js) it reports a cast of any
 * call whose result the type checker types `unknown` or `any`, whatever its name: a decoder's
 * (`decode(bytes) as T`, `decodeMsgpack(b) as T`), a fixture loader's, a page driver's answer.
 */
import ts from 'typescript';

/** Functions whose result is an unchecked value (typed `unknown`), by their declared names. */
const UNCHECKED = new Set([
  'parseJson',
  'readField',
  'deserialize',
  'deserializeValue',
  'jsonValue',
  'dataOf',
  'extrasOf',
  'firstItem',
  'importModule',
]);

/** Methods whose result is an HTTP body read as JSON, unchecked: `Response.json()` (unknown), `Body.json()`. */
const BODY_READERS = new Set(['json']);

/** Properties that hold a body of unknown type where the type checker says so (`HttpAnswer.body`). */
const BODY_FIELDS = new Set(['body']);

const isUnknownType = (typeNode) => typeNode?.type === 'TSUnknownKeyword';

/** The expression a cast applies to, through `!`, `?.`, `await` and casts to `unknown`. */
function castOperand(node) {
  let n = node.expression;
  for (;;) {
    if (n.type === 'TSNonNullExpression' || n.type === 'ChainExpression' || n.type === 'AwaitExpression')
      n = n.type === 'AwaitExpression' ? n.argument : n.expression;
    else if ((n.type === 'TSAsExpression' || n.type === 'TSTypeAssertion') && isUnknownType(n.typeAnnotation))
      n = n.expression;
    else return n;
  }
}

/** The name a callee is written with: `f` of `f(…)`, `g` of `o.g(…)`. */
function writtenName(callee) {
  if (callee.type === 'Identifier') return callee.name;
  if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier')
    return callee.property.name;
  return undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow casting an unchecked value: parseJson, readField, deserialize, .json(), an untyped .body.',
    },
    messages: {
      body: '`{{name}} as {{type}}` casts a body of unknown type: a cast only claims a shape. Check it instead: a type guard (isPlainObject, `in`); in tests, helpers/json.ts (isErrorFields, …), helpers/field.ts (objectOf, …) or assert.',
      cast: '`{{name}}(…) as {{type}}` casts an unchecked value: what `{{name}}` returns is unknown until it is checked, and a cast only claims a shape. Check it instead: a type guard (isPlainObject, isArrayValue, a validator next to the type); in tests, test/src/helpers/json.ts (jsonValue, jsonObject, jsonBatch, …) or assert.',
    },
    schema: [
      {
        type: 'object',
        properties: { calls: { type: 'boolean', description: 'Report a cast of any call typed unknown or any.' } },
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const anyCall = context.options[0]?.calls === true;
    const services = context.sourceCode.parserServices;
    const checker = services?.program?.getTypeChecker();
    const toTs = services?.esTreeNodeToTSNodeMap;

    /** The declared name of the function a callee refers to, following renamed imports and re-exports. */
    const declaredName = (callee) => {
      if (!checker || !toTs) return undefined;
      const tsNode = toTs.get(callee.type === 'MemberExpression' ? callee.property : callee);
      let symbol = tsNode && checker.getSymbolAtLocation(tsNode);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      return symbol?.getName();
    };

    /** Whether the checker types `expression` unknown or any (no type information: assumed so). */
    const untyped = (expression) => {
      const tsNode = toTs?.get(expression);
      if (!checker || !tsNode) return true;
      return (checker.getTypeAtLocation(tsNode).flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any)) !== 0;
    };

    /** `res.body` (typed unknown or any): the name it is reported under, else undefined. */
    const untypedBody = (operand) =>
      operand.type === 'MemberExpression' &&
      !operand.computed &&
      BODY_FIELDS.has(operand.property.name) &&
      untyped(operand)
        ? `${context.sourceCode.getText(operand.object)}.${operand.property.name}`
        : undefined;

    const check = (node) => {
      if (isUnknownType(node.typeAnnotation)) return;
      const operand = castOperand(node);
      const body = untypedBody(operand);
      if (body) {
        const type = context.sourceCode.getText(node.typeAnnotation);
        context.report({ node, messageId: 'body', data: { name: body, type } });
        return;
      }
      if (operand.type !== 'CallExpression') return;
      const written = writtenName(operand.callee);
      if (anyCall && checker && untyped(operand)) {
        const type = context.sourceCode.getText(node.typeAnnotation);
        const name = written ?? context.sourceCode.getText(operand.callee).slice(0, 40);
        context.report({ node, messageId: 'cast', data: { name, type } });
        return;
      }
      if (operand.callee.type === 'MemberExpression' && BODY_READERS.has(written)) {
        const type = context.sourceCode.getText(node.typeAnnotation);
        context.report({ node, messageId: 'cast', data: { name: `.${written}`, type } });
        return;
      }
      const name = UNCHECKED.has(written) ? written : declaredName(operand.callee);
      if (!UNCHECKED.has(name)) return;
      context.report({
        node,
        messageId: 'cast',
        data: { name: written ?? name, type: context.sourceCode.getText(node.typeAnnotation) },
      });
    };
    return { TSAsExpression: check, TSTypeAssertion: check };
  },
};
