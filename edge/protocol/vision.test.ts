import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classOf,
  DEFAULT_RECOGNITION_POLICY,
  priorityOf,
  recognitionPolicyProblem,
  visionRefOf,
  visionRequestProblem,
  visionVerdictProblem,
} from './vision.ts';

describe('recognition policy', () => {
  it('takes the default and names the field of a bad one', () => {
    assert.equal(recognitionPolicyProblem(DEFAULT_RECOGNITION_POLICY), undefined);
    const withKind = (patch: Record<string, unknown>) => ({
      ...DEFAULT_RECOGNITION_POLICY,
      kinds: { ebike: { ...DEFAULT_RECOGNITION_POLICY.kinds.ebike, ...patch } },
    });
    assert.match(recognitionPolicyProblem([]) ?? '', /^recognition must be an object/);
    assert.match(
      recognitionPolicyProblem({ ...DEFAULT_RECOGNITION_POLICY, model: 'a{b}' }) ?? '',
      /^recognition\.model/,
    );
    assert.match(
      recognitionPolicyProblem({ ...DEFAULT_RECOGNITION_POLICY, queueBound: 0 }) ?? '',
      /^recognition\.queueBound/,
    );
    assert.match(
      recognitionPolicyProblem(withKind({ confirmScore: 1.5 })) ?? '',
      /^recognition\.kinds\.ebike\.confirmScore/,
    );
    assert.match(
      recognitionPolicyProblem(withKind({ targets: [] })) ?? '',
      /^recognition\.kinds\.ebike\.targets/,
    );
    assert.match(recognitionPolicyProblem(withKind({ targets: ['Person'] })) ?? '', /targets/);
    assert.match(recognitionPolicyProblem(withKind({ forward: 'never' })) ?? '', /\.forward must be/);
    assert.match(recognitionPolicyProblem(withKind({ onTimeout: 'x' })) ?? '', /\.onTimeout must be/);
    assert.match(
      recognitionPolicyProblem(withKind({ deadlineMs: 10 })) ?? '',
      /\.deadlineMs must be an integer 100\.\.600000, got 10/,
    );
    assert.match(recognitionPolicyProblem(withKind({ class: 'fire' })) ?? '', /\.class must be one of/);
  });

  it('orders classes by priority and maps alarms to classes', () => {
    assert.deepEqual(
      ['trapped', 'person_down', 'ebike', 'other'].map((c) => priorityOf(c as never)),
      [1, 2, 3, 4],
    );
    assert.equal(classOf('ebike'), 'ebike');
    assert.equal(classOf('smoke'), 'other');
    const policy = {
      ...DEFAULT_RECOGNITION_POLICY,
      kinds: { scooter: { ...DEFAULT_RECOGNITION_POLICY.kinds.ebike!, class: 'person_down' as const } },
    };
    assert.equal(classOf('scooter', policy), 'person_down', 'a configured kind has its class');
  });
});

describe('vision events and verdicts', () => {
  it('reads the vision event from an alarm start data, or nothing for a legacy edge', () => {
    assert.deepEqual(visionRefOf({ floor: 1, eventId: 'e1', frames: 2 }), { eventId: 'e1', frames: 2 });
    assert.equal(visionRefOf({ floor: 1 }), undefined);
    assert.equal(visionRefOf(undefined), undefined);
  });

  it('checks a request and a verdict field by field', () => {
    const request = {
      edgeId: 'E-1',
      eventId: 'e1',
      alarm: 'ebike',
      since: 1,
      frames: 1,
      class: 'ebike',
      model: 'yolov8n-coco',
      deadlineAt: 2,
      requestedAt: 1,
    };
    assert.equal(visionRequestProblem(request), undefined);
    assert.match(visionRequestProblem({ ...request, frames: 5 }) ?? '', /^frames/);
    assert.match(visionRequestProblem({ ...request, class: 'x' }) ?? '', /^class/);
    const verdict = {
      eventId: 'e1',
      alarm: 'ebike',
      since: 1,
      verdict: 'confirmed',
      model: { name: 'yolov8n-coco', version: '8.0.175' },
      detections: [{ label: 'motorcycle', score: 0.87, box: [0.1, 0.2, 0.5, 0.6] }],
      frame: 0,
      queueMs: 12,
      inferMs: 100,
    };
    assert.equal(visionVerdictProblem(verdict), undefined);
    assert.equal(
      visionVerdictProblem({ eventId: 'e1', alarm: 'ebike', since: 1, verdict: 'shed', reason: 'r' }),
      undefined,
    );
    assert.match(visionVerdictProblem({ ...verdict, verdict: 'maybe' }) ?? '', /^verdict must be one of/);
    assert.match(
      visionVerdictProblem({ ...verdict, detections: [{ label: 'x', score: 2, box: [0, 0, 1, 1] }] }) ?? '',
      /^detections\[0\]: score/,
    );
    assert.match(
      visionVerdictProblem({ ...verdict, detections: [{ label: 'x', score: 0.5, box: [0, 0, 1] }] }) ?? '',
      /box must be/,
    );
    assert.match(visionVerdictProblem({ ...verdict, frame: 4 }) ?? '', /^frame/);
    assert.match(visionVerdictProblem({ ...verdict, eventId: '' }) ?? '', /^eventId/);
  });
});
