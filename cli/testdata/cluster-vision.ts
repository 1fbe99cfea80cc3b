/**
 * The cluster's second look, end to end, as its test checks it: the edge uploads a vision event's
 * frame (scikit-image's motorcycle photograph as a JPEG) through the balancer with its own
 * credentials — into the gateways' S3Proxy bucket — and sends the e-bike alarm's start naming it
 * through Kafka; a recognition worker process reads the frame from the bucket, runs the model and
 * the edge actor keeps the verdict: confirmed, a motorcycle among the detections.
 */
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import sharp from 'sharp';
import { encodeCompact, KAFKA_TOPICS } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { testPhotos } from '../../infra/models.ts';
import { putFrame } from '../demo-vision.ts';
import { httpsRequest } from './tls-requests.ts';

export async function checkClusterVerdict(o: {
  url: string;
  adminKey: string;
  ca: Buffer;
  kafkaBrokers: string[];
  edge: { id: string; secret: string; seq: number };
  recognizeMetrics: string[];
  said: () => string;
}): Promise<void> {
  const { id, secret } = o.edge;
  const eventId = `cluster-${Date.now().toString(36)}`;
  const frame = await sharp(testPhotos().motorcycle).jpeg({ quality: 85 }).toBuffer();
  const put = await putFrame({ url: o.url, ca: o.ca, id, password: secret, eventId, frame });
  assert.equal(put, 201, 'the frame is stored');
  const producer = new Kafka({
    brokers: o.kafkaBrokers,
    ssl: { ca: [o.ca.toString()] },
    sasl: { mechanism: 'scram-sha-512', username: id, password: secret },
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const start = { kind: 'alarm', alarm: 'ebike', phase: 'start', floor: 2, eventId, frames: 1 } as const;
  await producer.send({
    topic: KAFKA_TOPICS.compact,
    acks: -1,
    messages: [{ key: id, value: Buffer.from(encodeCompact({ ...start, seq: o.edge.seq, ts: Date.now() })) }],
  });
  await producer.disconnect();

  type Verdict = {
    eventId: string;
    status: string;
    reason?: string;
    detections?: { label: string; score: number }[];
  };
  let verdict: Verdict | undefined;
  await waitFor(
    async () => {
      const got = await httpsRequest(`${o.url}/v1/edges/${id}/verdicts`, {
        ca: o.ca,
        headers: { authorization: `Bearer ${o.adminKey}` },
      });
      verdict = (JSON.parse(got.body) as { verdicts?: Verdict[] }).verdicts?.find(
        (v) => v.eventId === eventId,
      );
      return verdict !== undefined && verdict.status !== 'requested';
    },
    { timeoutMs: 60_000, message: `${id}'s verdict for ${eventId}; the cluster said:\n${o.said()}` },
  );
  assert.equal(verdict?.status, 'confirmed', `verdict ${verdict?.status} (${verdict?.reason ?? ''})`);
  const motorcycle = verdict.detections?.find((d) => d.label === 'motorcycle');
  assert.ok(motorcycle && motorcycle.score >= 0.5, `a motorcycle in ${JSON.stringify(verdict.detections)}`);
  // The worker counted it on its /metrics (plain HTTP on loopback).
  let images = 0;
  for (const metrics of o.recognizeMetrics) {
    const text = await (await fetch(metrics)).text();
    assert.match(text, /^devicehub_recognize_info\{[^}]*provider="cpu"/m);
    images += Number(/^devicehub_recognize_images_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
  }
  assert.ok(images >= 1, `the workers ran ${images} image(s)`);
}
