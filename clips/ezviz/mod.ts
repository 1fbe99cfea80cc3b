/**
 * The Ezviz Open Platform for alarm clips (contract 3 of issue 16): `openEzvizClient` saves a
 * camera's cloud recording for a window under the clip's fileId, follows the task and hands out
 * download URLs, keeping Ezviz's rules for the whole cluster in Redis (one token, one rate
 * budget, a shared cooldown). docs/ezviz-open-api.md, docs/decisions/030-ezviz-rules.md.
 */
export type { EzvizClient, EzvizClientOptions, SaveRecording } from './client.ts';
export { openEzvizClient } from './client.ts';
export type { EzvizErrorKind } from './errors.ts';
export { classifyEzvizCode, DUPLICATE_FILE, EzvizError, RATE_CODES, TOKEN_EXPIRED } from './errors.ts';
export type { TaskView } from './task-view.ts';
export type { EzvizStats } from './transport.ts';
export type { EzvizEndpoint } from './wire.ts';
export { EZVIZ_PATHS, EZVIZ_TZ_OFFSET_MINUTES, formatEzvizTime, parseEzvizTime } from './wire.ts';
