/**
 * Wall screens' snapshot polls answered on a thread of their own, on a port of their own
 * (decision 065): the thread (thread.ts), the main thread's side (host.ts), what they say
 * (messages.ts).
 */
export { type PollThread, type PollThreadOptions, startPollThread } from './host.ts';
export { COUNTER, COUNTERS } from './messages.ts';
