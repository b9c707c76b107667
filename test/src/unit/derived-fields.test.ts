/**
 * wire/derived-fields.ts: what a MESSAGE frame's encoders leave out of each message (the fields equal to
 * what the client derives, TM2a/c/f), exactly; the frame's ProtocolMessage and messages (shared with the
 * channel's log) untouched; every other frame as it is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, decodeFrame, type Message, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, encodeWithoutDerivedFields, isItemId, withoutDerivedFields } from '@encke/server/internal';
import { messageOf } from '../helpers/json.js';

const T = 1796642675232;

function frameOf(messages: Message[], extra: Partial<ProtocolMessage> = {}): ProtocolMessage {
  return {
    action: Action.MESSAGE,
    channel: 'c',
    channelSerial: 's',
    messages,
    id: 'cid:7',
    connectionId: 'cid',
    timestamp: T,
    ...extra,
  };
}

describe('MESSAGE frames without derived fields', () => {
  it('leaves out each field equal to what the client derives, and only those', () => {
    const messages: Message[] = [
      { data: 'a', id: 'cid:7:0', connectionId: 'cid', timestamp: T },
      { data: 'b', id: 'cid:7:2', connectionId: 'other', timestamp: T - 1 }, // index 1: its id is not derived
      { data: 'c', id: 'cid:7:02', connectionId: 'cid', timestamp: T },
      { data: 'd', id: 'cid:7:3', connectionId: 'cid', timestamp: T },
    ];
    const pm = frameOf(messages);
    const copy = structuredClone(pm);
    const sent = messageOf(decodeFrame(new OutboundFrame(pm).json(), 'json'));
    assert.deepEqual(sent.messages, [
      { data: 'a' },
      { data: 'b', id: 'cid:7:2', connectionId: 'other', timestamp: T - 1 },
      { data: 'c', id: 'cid:7:02' },
      { data: 'd' },
    ]);
    assert.deepEqual(messageOf(decodeFrame(new OutboundFrame(pm).msgpack(), 'msgpack')).messages, sent.messages);
    assert.deepEqual(pm, copy, 'the ProtocolMessage and its messages are not changed');
    assert.equal(pm.messages, messages, 'the frame keeps its own message list');
    assert.throws(() =>
      encodeWithoutDerivedFields(pm, () => {
        throw new Error('refused');
      }),
    );
    assert.equal(pm.messages, messages, 'also when the encoder throws');
  });

  it('keeps ids and connectionIds when the frame has none (a batch of several publishes)', () => {
    const pm = frameOf([{ data: 'a', id: 'x:0:0', connectionId: 'x', timestamp: T }], {
      id: undefined,
      connectionId: undefined,
    });
    assert.deepEqual(withoutDerivedFields(pm, pm.messages!), [{ data: 'a', id: 'x:0:0', connectionId: 'x' }]);
  });

  it('gives back every other frame, and a frame with nothing to leave out, as it is', () => {
    const presence: ProtocolMessage = {
      action: Action.PRESENCE,
      channel: 'c',
      id: 'cid:7',
      connectionId: 'cid',
      timestamp: T,
      presence: [{ action: 2, clientId: 'u', id: 'cid:7:0', connectionId: 'cid', timestamp: T }],
    };
    const same = (pm: ProtocolMessage): ProtocolMessage => pm;
    assert.equal(encodeWithoutDerivedFields(presence, same), presence);
    assert.equal(encodeWithoutDerivedFields(presence, same).presence![0]!.id, 'cid:7:0');
    const own = frameOf([{ data: 'a', id: 'mine', connectionId: 'other', timestamp: 1 }]);
    assert.equal(withoutDerivedFields(own, own.messages!), undefined);
    assert.equal(
      encodeWithoutDerivedFields(own, (pm) => pm.messages),
      own.messages,
    );
  });

  it('recognises `<parent>:<index>` exactly', () => {
    assert.equal(isItemId('p:1:0', 'p:1', 0), true);
    assert.equal(isItemId('p:1:12', 'p:1', 12), true);
    assert.equal(isItemId('p:1:12', 'p:1', 1), false);
    assert.equal(isItemId('p:1:012', 'p:1', 12), false);
    assert.equal(isItemId('p:1:', 'p:1', 0), false);
    assert.equal(isItemId('p:1;0', 'p:1', 0), false);
    assert.equal(isItemId('q:1:0', 'p:1', 0), false);
    assert.equal(isItemId('p:1:1a', 'p:1', 1), false);
    assert.equal(isItemId('p:1', 'p:1', 0), false);
  });
});
