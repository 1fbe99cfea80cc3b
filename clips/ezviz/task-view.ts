/**
 * What a cloud-recording task's answers mean to the clip worker (`EzvizClient.task`): the task's
 * `taskStatus` (v3 task endpoint) and, once it is done, its files' statuses (task files endpoint)
 * as one TaskView — running, failed with a reason, or done with the files to download.
 */
import type { TaskFile } from './wire.ts';

export interface TaskView {
  readonly state: 'running' | 'done' | 'failed';
  readonly reason?: string;
  readonly files: { fileId: string; url?: string; size?: number }[];
}

/** The view the task's status alone gives (running, or ended without success); undefined: done, ask its files. */
export function taskStatusView(status: { taskStatus: number; error?: string }): TaskView | undefined {
  if (status.taskStatus === 1 || status.taskStatus === 2 || status.taskStatus === 5) {
    return { state: 'running', files: [] };
  }
  if (status.taskStatus === 0) return undefined;
  const ended = status.taskStatus === 3 ? 'ended' : 'ended abnormally';
  return {
    state: 'failed',
    reason: `Ezviz task ${ended}${status.error ? `: ${status.error}` : ''}`,
    files: [],
  };
}

/** The view of a done task's files: failed if any failed, running until all are uploaded, else done. */
export function taskFilesView(files: readonly TaskFile[]): TaskView {
  const failed = files.find((f) => f.status === 2 || f.status === 3 || f.status === 4);
  if (failed) {
    const what = ['', '', 'upload failed', 'expired', 'deleted'][failed.status];
    return {
      state: 'failed',
      reason: `Ezviz file ${failed.fileId} ${what}${failed.errorCode ? ` (${failed.errorCode})` : ''}`,
      files: [],
    };
  }
  const ready = files.filter((f) => f.status === 0);
  if (ready.length === 0 || ready.length < files.length) {
    return { state: 'running', reason: 'the recording is not uploaded yet', files: [] };
  }
  return {
    state: 'done',
    files: ready.map((f) => ({
      fileId: f.fileId,
      ...(f.url ? { url: f.url } : {}),
      ...(f.size === undefined ? {} : { size: f.size }),
    })),
  };
}
