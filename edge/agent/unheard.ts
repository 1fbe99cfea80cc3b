/**
 * QoS 1 publishes the broker acknowledged with PUBACK 0x10 (MQTT 5: "No matching subscribers"):
 * it took them and dropped them, because no hub link was subscribed (just after a broker restart,
 * before the links subscribe again; or with every link down and none of them holding a session).
 * mqtt.js resolves such a publish like any other, so the agent (and the simulator, which behaves
 * like it) watch the acks and send those messages again.
 */
import type { MqttClient } from 'mqtt';

/** MQTT 5's PUBACK reason code "No matching subscribers". */
export const NO_MATCHING_SUBSCRIBERS = 0x10;

/**
 * Follows `client`'s PUBACKs; the function returned says (once) whether the publish with
 * `messageId`, just resolved, was one nobody heard. mqtt.js emits `packetreceive` before it handles
 * the ack, so the answer is there when the publish resolves.
 */
export function trackUnheard(client: MqttClient): (messageId: number | undefined) => boolean {
  const unheard = new Set<number>();
  client.on('packetreceive', (packet) => {
    if (
      packet.cmd === 'puback' &&
      packet.reasonCode === NO_MATCHING_SUBSCRIBERS &&
      packet.messageId !== undefined
    )
      unheard.add(packet.messageId);
  });
  // Not cleared on close: a stale id can only make a later message go twice (the hub's sequence
  // check drops the second), never make an unheard one count as delivered.
  return (messageId) => messageId !== undefined && unheard.delete(messageId);
}
