import { PLUG_INITIAL_POWER, PLUG_SHADOW_FIELD, PlugRelay, plugReportedDocument } from '../../../devices-sim/profiles/plug.js';
import { PROFILES } from '../../../devices-sim/profiles/index.js';
import { shadowDeltaTopic, shadowUpdateTopic } from '../../../devices-sim/topics.js';

/** A delta document as the broker publishes it on $aws/things/<id>/shadow/update/delta. */
const delta = (state: unknown) => ({ version: 7, timestamp: 1_760_000_000, state, metadata: {} });

describe('the plug relay and its shadow contract', () => {
  it('starts on and reports {"state":{"reported":{"power":"on"}}}', () => {
    const relay = new PlugRelay();
    expect(PLUG_INITIAL_POWER).toBe('on');
    expect(PLUG_SHADOW_FIELD).toBe('power');
    expect(relay.reportedDocument()).toEqual({ state: { reported: { power: 'on' } } });
  });

  it('switches off on a delta with power "off" and then reports off', () => {
    const relay = new PlugRelay();
    expect(relay.applyDelta(delta({ power: 'off' }))).toBe('applied');
    expect(relay.power).toBe('off');
    expect(relay.reportedDocument()).toEqual({ state: { reported: { power: 'off' } } });
  });

  it('switches back on, and applies (so reports again) a delta equal to its state, repairing a stale reported value', () => {
    const relay = new PlugRelay('off');
    expect(relay.applyDelta(delta({ power: 'on' }))).toBe('applied');
    expect(relay.power).toBe('on');
    expect(relay.applyDelta(delta({ power: 'on' }))).toBe('applied');
    expect(relay.reportedDocument()).toEqual(plugReportedDocument('on'));
  });

  it('applies the power field and leaves the other desired fields alone', () => {
    const relay = new PlugRelay();
    expect(relay.applyDelta(delta({ power: 'off', colour: 'red' }))).toBe('applied');
    expect(relay.reportedDocument()).toEqual({ state: { reported: { power: 'off' } } });
  });

  it.each([
    ['no power field', delta({ colour: 'red' })],
    ['a value other than "on" or "off"', delta({ power: 'dim' })],
    ['a boolean', delta({ power: true })],
    ['upper case', delta({ power: 'OFF' })],
    ['no state', { version: 3 }],
    ['a state that is not an object', delta('off')],
    ['nothing (the payload was not JSON)', undefined],
    ['an array', [{ state: { power: 'off' } }]],
  ])('ignores a delta with %s, keeping its state (a report would only bring the same delta back)', (_, document) => {
    const relay = new PlugRelay();
    expect(relay.applyDelta(document)).toBe('ignored');
    expect(relay.power).toBe('on');
  });

  it('is what only the plug profile has, on the topics of the classic shadow', () => {
    expect(Object.entries(PROFILES).filter(([, p]) => p.obeysShadow).map(([name]) => name)).toEqual(['plug']);
    expect(PROFILES.plug.create(() => 0.5, 'plug-1').shadow).toBeInstanceOf(PlugRelay);
    expect(PROFILES.environment.create(() => 0.5, 'env-1').shadow).toBeUndefined();
    expect(shadowDeltaTopic('plug-1')).toBe('$aws/things/plug-1/shadow/update/delta');
    expect(shadowUpdateTopic('plug-1')).toBe('$aws/things/plug-1/shadow/update');
  });
});
