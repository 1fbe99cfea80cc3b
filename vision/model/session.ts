/**
 * Opens an onnxruntime-node session on the first execution provider that loads. onnxruntime does
 * not fall back by itself: `executionProviders: ['cuda', 'cpu']` throws when the CUDA provider's
 * library is missing (microsoft/onnxruntime#21424), so each provider is tried alone, in order; one
 * that fails is logged and skipped.
 */
import * as ort from 'onnxruntime-node';
import type { Logger } from '../../actors/mod.ts';
import { DetectorError } from './errors.ts';

export const PROVIDERS = ['cuda', 'cpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface SkippedProvider {
  readonly provider: Provider;
  readonly reason: string;
}

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly provider: Provider;
  readonly skipped: readonly SkippedProvider[];
  readonly loadMs: number;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

export async function openSession(
  modelPath: string,
  options: { providers: readonly Provider[]; threads: number; logger: Logger },
): Promise<OpenedSession> {
  // onnxruntime's own logger would print a provider's load failure as an error line on stderr;
  // the failure is logged here (structured) instead. Process-wide, set before the first session.
  ort.env.logLevel = 'fatal';
  const skipped: SkippedProvider[] = [];
  for (const provider of options.providers) {
    const started = performance.now();
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider === 'cuda' ? { name: 'cuda', deviceId: 0 } : 'cpu'],
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // warnings and below off: a provider that fails to load says so in the thrown error
        logSeverityLevel: 3,
      });
      const loadMs = Math.round(performance.now() - started);
      options.logger.info({ provider, modelPath, loadMs, skipped }, 'recognition model loaded');
      return { session, provider, skipped, loadMs };
    } catch (err) {
      const reason = firstLine(err);
      if (/no such file|failed to load model|protobuf parsing failed|load model from/i.test(reason))
        throw new DetectorError('BAD_MODEL', `Cannot load the model ${modelPath}: ${reason}`, { cause: err });
      options.logger.warn({ provider, modelPath, reason }, 'execution provider unavailable, trying the next');
      skipped.push({ provider, reason });
    }
  }
  throw new DetectorError(
    'NO_PROVIDER',
    `Cannot open ${modelPath}: no execution provider loads (${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')})`,
  );
}
