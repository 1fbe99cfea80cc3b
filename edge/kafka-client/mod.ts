/** What the hub's Kafka link and the agent's Kafka uplink share as kafkajs clients. */
export { RestartingConsumer, type RestartingConsumerOptions } from './restarting-consumer.ts';
