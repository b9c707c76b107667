/**
 * Annotation summaries (Ably docs, messages/annotations#annotation-types). An annotation type is
 * `namespace:method.v1`; its method says how annotations of that type roll up into the summary
 * carried on the annotated message (`message.annotations.summary[type]`, ably-js `SummaryEntry`):
 *
 * - `total.v1`     `{total}`: +1 per create, -1 per delete; anyone may publish.
 * - `flag.v1`      `{total, clientIds, clipped}`: each identified client once.
 * - `distinct.v1`  `{[name]: {total, clientIds, clipped}}`: each client once per name.
 * - `unique.v1`    like distinct, but a client counts under one name at a time.
 * - `multiple.v1`  `{[name]: {total, clientIds: {[clientId]: count}, totalUnidentified, totalClientIds, clipped}}`:
 *                  counts add up (`count`, default 1); a delete removes that client's contribution.
 *
 * `applyAnnotation` is a pure reducer over the summary in its wire shape, so an engine can keep the
 * summary beside the message and update it in one step per annotation.
 */
import { AblyError, AnnotationAction, Err } from '@encke/protocol';

export { AnnotationAction };

export interface AnnotationInput {
  action: number;
  type: string;
  name?: string;
  clientId?: string;
  count?: number;
}

interface ClientIdList {
  total: number;
  clientIds: string[];
  clipped: boolean;
}
interface ClientCounts {
  total: number;
  clientIds: Record<string, number>;
  totalUnidentified: number;
  totalClientIds: number;
  clipped: boolean;
}
export type SummaryEntry =
  { total: number } | ClientIdList | Record<string, ClientIdList> | Record<string, ClientCounts>;
export type Summary = Record<string, SummaryEntry>;

/** Client ids listed per summary entry before it is marked `clipped` (counts stay exact). */
export const MAX_SUMMARY_CLIENT_IDS = 1000;
const METHODS = ['total', 'flag', 'distinct', 'unique', 'multiple'] as const;
type Method = (typeof METHODS)[number];
const TYPE_RE = /^[^:]{1,200}:(total|flag|distinct|unique|multiple)\.v1$/;

function invalid(message: string): AblyError {
  return new AblyError(Err.invalidParameterValue, message);
}

/** The summarization method of a valid annotation; throws 40003 for one that cannot be summarised. */
export function validateAnnotation(a: AnnotationInput): Method {
  const m = TYPE_RE.exec(a.type);
  if (!m)
    throw invalid(
      `Invalid annotation type ${JSON.stringify(a.type.slice(0, 100))}: expected "<namespace>:<total|flag|distinct|unique|multiple>.v1"`,
    );
  const method = m[1] as Method;
  if (a.action !== AnnotationAction.CREATE && a.action !== AnnotationAction.DELETE)
    throw invalid(`Invalid annotation action ${a.action}`);
  if (method !== 'total' && method !== 'multiple' && a.clientId === undefined) {
    throw new AblyError(Err.identifiedClientRequired, `Annotations of type ${a.type} need an identified client`);
  }
  if (
    (method === 'distinct' || method === 'unique' || method === 'multiple') &&
    (a.name === undefined || a.name === '')
  ) {
    throw invalid(`Annotations of type ${a.type} need a name`);
  }
  if (a.count !== undefined && (method !== 'multiple' || !Number.isSafeInteger(a.count) || a.count < 1)) {
    throw invalid(
      method === 'multiple'
        ? 'An annotation count must be a positive integer'
        : `Annotations of type ${a.type} take no count`,
    );
  }
  return method;
}

function listAdd(entry: ClientIdList, clientId: string): ClientIdList {
  if (entry.clientIds.includes(clientId)) return entry;
  if (entry.clientIds.length >= MAX_SUMMARY_CLIENT_IDS) return { ...entry, total: entry.total + 1, clipped: true };
  return { total: entry.total + 1, clientIds: [...entry.clientIds, clientId], clipped: entry.clipped };
}

function listRemove(entry: ClientIdList, clientId: string): ClientIdList {
  if (!entry.clientIds.includes(clientId)) return entry;
  return { total: entry.total - 1, clientIds: entry.clientIds.filter((c) => c !== clientId), clipped: entry.clipped };
}

const EMPTY_LIST: ClientIdList = { total: 0, clientIds: [], clipped: false };

/** `byName` with `name`'s entry replaced; a name nobody contributes to any more disappears. */
function withName<T extends { total: number }>(byName: Record<string, T>, name: string, entry: T): Record<string, T> {
  const out = { ...byName };
  if (entry.total > 0) out[name] = entry;
  else delete out[name];
  return out;
}

function applyMultiple(byName: Record<string, ClientCounts>, a: AnnotationInput): Record<string, ClientCounts> {
  const name = a.name!;
  const entry: ClientCounts = byName[name] ?? {
    total: 0,
    clientIds: {},
    totalUnidentified: 0,
    totalClientIds: 0,
    clipped: false,
  };
  const clientIds = { ...entry.clientIds };
  let { total, totalUnidentified, clipped } = entry;
  if (a.action === AnnotationAction.CREATE) {
    const count = a.count ?? 1;
    total += count;
    if (a.clientId === undefined) totalUnidentified += count;
    else if (a.clientId in clientIds || Object.keys(clientIds).length < MAX_SUMMARY_CLIENT_IDS)
      clientIds[a.clientId] = (clientIds[a.clientId] ?? 0) + count;
    else clipped = true;
  } else if (a.clientId !== undefined && a.clientId in clientIds) {
    total -= clientIds[a.clientId]!;
    delete clientIds[a.clientId];
  }
  return withName(byName, name, {
    total,
    clientIds,
    totalUnidentified,
    totalClientIds: Object.keys(clientIds).length,
    clipped,
  });
}

function applyByName(
  byName: Record<string, ClientIdList>,
  a: AnnotationInput,
  unique: boolean,
): Record<string, ClientIdList> {
  const name = a.name!;
  const clientId = a.clientId!;
  let out = byName;
  if (a.action === AnnotationAction.DELETE) return withName(out, name, listRemove(out[name] ?? EMPTY_LIST, clientId));
  if (unique)
    for (const other of Object.keys(out))
      if (other !== name) out = withName(out, other, listRemove(out[other]!, clientId));
  return withName(out, name, listAdd(out[name] ?? EMPTY_LIST, clientId));
}

/** The summary after annotation `a` (validated with validateAnnotation); `summary` is not modified. */
export function applyAnnotation(summary: Summary, a: AnnotationInput): Summary {
  const method = validateAnnotation(a);
  const current = summary[a.type];
  let next: SummaryEntry;
  switch (method) {
    case 'total': {
      const total = (current as { total: number } | undefined)?.total ?? 0;
      next = { total: Math.max(0, total + (a.action === AnnotationAction.CREATE ? 1 : -1)) };
      break;
    }
    case 'flag': {
      const entry = (current as ClientIdList | undefined) ?? EMPTY_LIST;
      next = a.action === AnnotationAction.CREATE ? listAdd(entry, a.clientId!) : listRemove(entry, a.clientId!);
      break;
    }
    case 'distinct':
    case 'unique':
      next = applyByName((current as Record<string, ClientIdList> | undefined) ?? {}, a, method === 'unique');
      break;
    case 'multiple':
      next = applyMultiple((current as Record<string, ClientCounts> | undefined) ?? {}, a);
      break;
  }
  return { ...summary, [a.type]: next };
}
