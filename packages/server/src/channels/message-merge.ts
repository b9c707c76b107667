/**
 * What an update, delete or append makes of a message (Ably docs, messages/updates-deletes): the
 * message as it then stands, and what subscribers get. Pure; channels/message-changes.ts reads the
 * message, merges, and has the engine append the result only if the message did not change
 * meanwhile (engine/message-chain.ts).
 *
 * - Update and delete have patch semantics: the `name`, `data` (with its `encoding`) and `extras`
 *   the change carries replace the message's; what it leaves out stays. Subscribers get the whole
 *   message with its new `action` and `version`.
 * - Append concatenates `data` (strings to strings, bytes to bytes, with the same encoding; a JSON
 *   or encrypted payload cannot be appended to) and replaces `name` and `extras` when given.
 *   Subscribers get the fragment with action append; history, rewind and `getMessage` show the
 *   whole accumulated message with action update, as Ably does.
 * - `version` gets the change's timestamp and operation (clientId, description, metadata); its
 *   serial is the change's own, given when the engine appends it. `serial`, `id`, `clientId`,
 *   `connectionId`, `timestamp` and `annotations` stay the message's; what subscribers get has an
 *   id of its own.
 */
import { AblyError, Err, MessageAction, type Data, type Message, type MessageVersion } from '@encke/protocol';

export interface MergedChange {
  /** What subscribers get. */
  live: Message;
  /** The message as it now stands, when that is not `live` (an append). */
  full?: Message;
}

/** Steps of an encoding that make concatenated payloads meaningless. */
const OPAQUE_STEP = /(^|\/)(json|cipher|vcdiff)/;

function isEmpty(data: Data | undefined): boolean {
  return data === undefined || data.length === 0;
}

function concat(a: Data, b: Data): Data | undefined {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }
  return undefined;
}

/** The message's data and encoding with `fragment` appended; 40013 when they cannot be joined. */
function appended(message: Message, fragment: Message): Pick<Message, 'data' | 'encoding'> {
  if (fragment.data === undefined) return { data: message.data, encoding: message.encoding };
  if (isEmpty(message.data) && message.encoding === undefined)
    return { data: fragment.data, encoding: fragment.encoding };
  const encoding = message.encoding ?? '';
  if (encoding !== (fragment.encoding ?? '')) {
    throw new AblyError(
      Err.invalidDataOrEncoding,
      `Cannot append data encoded ${JSON.stringify(fragment.encoding ?? '')} to a message encoded ${JSON.stringify(encoding)}`,
    );
  }
  if (OPAQUE_STEP.test(encoding))
    throw new AblyError(
      Err.invalidDataOrEncoding,
      `Cannot append to a message whose data is encoded ${JSON.stringify(encoding)}`,
    );
  const data = concat(message.data!, fragment.data);
  if (data === undefined)
    throw new AblyError(
      Err.invalidDataOrEncoding,
      'Cannot append binary data to a string message, or a string to a binary one',
    );
  return { data, encoding: message.encoding };
}

function setData(target: Message, data: Data | undefined, encoding: string | undefined): void {
  if (data === undefined) delete target.data;
  else target.data = data;
  if (encoding === undefined) delete target.encoding;
  else target.encoding = encoding;
}

/**
 * `latest` after `change` (action update, delete or append) made at `version.timestamp` by
 * `version.clientId`; what subscribers get has the id `id` (the change's own: a delivery is told
 * apart from the message's earlier ones by its id, as delta chains do).
 */
export function mergeChange(latest: Message, change: Message, version: MessageVersion, id: string): MergedChange {
  const full: Message = {
    ...latest,
    action: change.action === MessageAction.APPEND ? MessageAction.UPDATE : change.action!,
    version,
  };
  if (change.name !== undefined) full.name = change.name;
  if (change.extras !== undefined) full.extras = change.extras;
  if (change.action !== MessageAction.APPEND) {
    if (change.data !== undefined) setData(full, change.data, change.encoding);
    // The message keeps its id; the engine gives it back (message-chain.ts latestForm).
    return { live: { ...full, id } };
  }
  const joined = appended(latest, change);
  setData(full, joined.data, joined.encoding);
  const live: Message = { ...full, id, action: MessageAction.APPEND };
  setData(live, change.data, change.data === undefined ? undefined : change.encoding);
  delete live.annotations;
  return { live, full };
}
