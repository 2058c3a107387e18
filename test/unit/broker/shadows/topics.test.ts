import { parseShadowTopic, shadowTopic } from '../../../../broker/shadows/index.js';

describe('shadow topics', () => {
  it('parses classic and named request topics', () => {
    expect(parseShadowTopic('$aws/things/lamp/shadow/update')).toEqual({ thingName: 'lamp', shadowName: '', operation: 'update' });
    expect(parseShadowTopic('$aws/things/lamp/shadow/name/cfg/get')).toEqual({ thingName: 'lamp', shadowName: 'cfg', operation: 'get' });
  });

  it('recognises the response topics of each operation and nothing else', () => {
    expect(parseShadowTopic('$aws/things/lamp/shadow/update/delta')?.response).toBe('delta');
    expect(parseShadowTopic('$aws/things/lamp/shadow/name/cfg/delete/accepted')?.response).toBe('accepted');
    expect(parseShadowTopic('$aws/things/lamp/shadow/get/delta')).toBeUndefined();
    expect(parseShadowTopic('$aws/things/lamp/shadow/update/accepted/more')).toBeUndefined();
    expect(parseShadowTopic('$aws/things/lamp/jobs/get')).toBeUndefined();
    expect(parseShadowTopic('$aws/things/lamp/shadow/name//get')).toBeUndefined();
  });

  it('builds the topic the service answers on', () => {
    expect(shadowTopic('lamp', '', 'update', 'accepted')).toBe('$aws/things/lamp/shadow/update/accepted');
    expect(shadowTopic('lamp', 'cfg', 'get')).toBe('$aws/things/lamp/shadow/name/cfg/get');
  });
});
