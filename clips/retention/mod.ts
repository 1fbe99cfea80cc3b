/**
 * Alarm clips' retention: the sweeper that deletes clips past their kind's retention (objects
 * first, then the row marked 'deleted'), one worker in the cluster at a time under the named lease
 * `clip-retention`. docs/decisions/031-media.md.
 */
export {
  type ClipRetention,
  type ClipRetentionOptions,
  type ClipRetentionStats,
  startClipRetention,
} from './sweeper.ts';
