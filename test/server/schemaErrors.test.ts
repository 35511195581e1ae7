// Validation from the schema source answers like the hand-written checker did: the first wrong field
// in our dotted form, unknown fields refused by name, optional request data may be left out.
import { Type } from '@sinclair/typebox';
import t from 'tap';
import { requestEnvelopeSchema, requestSchemas } from '../../signaling/protocol';
import { checker, OpaqueObject, SchemaError, StringEnum } from '../../signaling/schemas/validate';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof SchemaError ? error.message : `not a SchemaError: ${String(error)}`;
  }
  return 'accepted';
}

t.test('field paths, wording and unknown fields', async (t) => {
  const list = checker(Type.Object({ codecs: Type.Array(Type.Object({ mimeType: Type.String() }, { additionalProperties: false })) }, { additionalProperties: false }));
  t.equal(messageOf(() => list.parse({ codecs: [{ mimeType: 'a' }, { mimeType: 1 }] }, 'data.rtpParameters')), 'data.rtpParameters.codecs[1].mimeType: must be a string');
  t.equal(messageOf(() => list.parse({ codecs: [{ mimeType: 'a', extra: 1 }] }, 'data')), 'data.codecs[0].extra: is not a known field');
  t.equal(messageOf(() => list.parse({}, 'data')), 'data.codecs: is required');
  t.equal(messageOf(() => requestSchemas.join.parse({ channelId: 'a', displayName: 'b', token: 'c', surprise: 1 }, 'data')), 'data.surprise: is not a known field');
  t.equal(messageOf(() => requestSchemas.createWebRtcTransport.parse({ direction: 'sideways' }, 'data')), 'data.direction: must be one of send, recv');
  t.equal(messageOf(() => requestSchemas.produce.parse({ transportId: 't', kind: 'video', rtpParameters: [] }, 'data')), 'data.rtpParameters: must be an object');
  t.equal(messageOf(() => requestSchemas.enableRecord.parse({ enable: true, recordParam: 5 }, 'data')), 'data.recordParam: must be one of: an object, null');
  t.equal(messageOf(() => requestEnvelopeSchema.parse({ id: 1.5, method: 'join' })), 'id: must be an integer');
  t.equal(messageOf(() => requestEnvelopeSchema.parse([])), 'message: must be an object');
  t.equal(messageOf(() => requestSchemas.leave.parse(undefined, 'data')), 'accepted', 'optional data may be left out');
  t.equal(messageOf(() => requestSchemas.leave.parse({ x: 1 }, 'data')), 'data.x: is not a known field');
  t.equal(messageOf(() => requestSchemas.join.parse({ channelId: 'a', displayName: 'b', token: 'c', __proto__: 1 } as never, 'data')), 'accepted', 'a literal __proto__ is no field');
  t.equal(messageOf(() => requestSchemas.join.parse(JSON.parse('{"channelId":"a","displayName":"b","token":"c","__proto__":1}'), 'data')), 'data.__proto__: is not a known field', 'JSON __proto__ is refused');
});

t.test('OpaqueObject bounds its JSON size; StringEnum is a plain JSON Schema enum', async (t) => {
  const opaque = checker(OpaqueObject(20));
  t.equal(messageOf(() => opaque.parse({ a: 'x'.repeat(30) }, 'data')), 'data: must be at most 20 bytes of JSON');
  t.equal(messageOf(() => opaque.parse('x', 'data')), 'data: must be an object');
  t.equal(messageOf(() => opaque.parse({ a: 1 }, 'data')), 'accepted');
  t.same(JSON.parse(JSON.stringify(StringEnum(['a', 'b'] as const))), { type: 'string', enum: ['a', 'b'] });
});
