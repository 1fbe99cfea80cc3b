/** The detector's errors: opening it (no execution provider, a model it cannot use) or misuse. */

export const DETECTOR_ERRORS = ['NO_PROVIDER', 'BAD_MODEL', 'BAD_OPTIONS', 'CLOSED'] as const;
export type DetectorErrorCode = (typeof DETECTOR_ERRORS)[number];

export class DetectorError extends Error {
  readonly code: DetectorErrorCode;
  constructor(code: DetectorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DetectorError';
    this.code = code;
  }
}
