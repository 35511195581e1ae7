/**
 * The takeover spec crosses Redis sealed: only a node with the cluster's API secret opens it, only
 * for the recording it was sealed for, and any change to the sealed text is refused; the storage
 * secret never shows in it.
 */
import t from 'tap';
import { openSpec, sealSpec, type RecordingSpec } from '../../plugin/recording/cluster/recordingSpec';
import { resolveRecordingConfig } from '../../plugin/recording/recordingConfig';
import { segmentKeyStem } from '../../plugin/recording/recordingKeys';

const SECRET = 'cluster-api-secret-0123456789';
const spec: RecordingSpec = {
  version: 1,
  recordingId: 'rec_20261201000000_0a1b2c3d',
  channelId: 'room-1',
  config: resolveRecordingConfig({}),
  target: { vendor: 's3', region: 'us-east-1', bucket: 'b', accessKey: 'AK', secretKey: 'storage-secret-never-shown', endpoint: 'http://127.0.0.1:9000' },
  keyStem: 'room-1/rec_20261201000000_0a1b2c3d',
  startedBy: 'backend:ops',
  participants: ['alice'],
};

t.test('sealed and opened again with the same secret, for the same recording', async (t) => {
  const sealed = sealSpec(spec, SECRET);
  t.notOk(sealed.includes('storage-secret-never-shown'), 'the storage secret is not in the sealed text');
  t.notOk(sealed.includes('room-1'), 'nor anything else of the spec in the clear');
  t.same(openSpec(sealed, spec.recordingId, SECRET), spec, 'opened: the same spec');
  t.not(sealSpec(spec, SECRET), sealed, 'each sealing has its own nonce');
});

t.test('refused: another secret, another recording, a changed byte, garbage', async (t) => {
  const sealed = sealSpec(spec, SECRET);
  t.equal(openSpec(sealed, spec.recordingId, 'another-cluster-secret-xyz'), undefined, 'another secret');
  t.equal(openSpec(sealed, 'rec_20261201000000_ffffffff', SECRET), undefined, 'sealed for another recording');
  const relabelled = sealed.replace(spec.recordingId, 'rec_20261201000000_ffffffff');
  t.equal(openSpec(relabelled, 'rec_20261201000000_ffffffff', SECRET), undefined, 'relabelled for another recording (the id is authenticated)');
  const parts = sealed.split('.');
  const body = Buffer.from(parts[4]!, 'base64url');
  body[0] = body[0]! ^ 1;
  parts[4] = body.toString('base64url');
  t.equal(openSpec(parts.join('.'), spec.recordingId, SECRET), undefined, 'one bit changed');
  for (const garbage of ['', 'x', 's1.a.b.c', 's2.' + sealed.slice(3)]) t.equal(openSpec(garbage, spec.recordingId, SECRET), undefined, `garbage ${JSON.stringify(garbage.slice(0, 12))}`);
});

t.test('segment key stems: segment 0 keeps the stem, later ones get _seg<n>', async (t) => {
  t.equal(segmentKeyStem('dir/name_20261201-000000_0a1b2c3d', 0), 'dir/name_20261201-000000_0a1b2c3d');
  t.equal(segmentKeyStem('dir/name_20261201-000000_0a1b2c3d', 1), 'dir/name_20261201-000000_0a1b2c3d_seg1');
  t.equal(segmentKeyStem('room/rec_x', 12), 'room/rec_x_seg12');
});
