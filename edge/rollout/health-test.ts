/**
 * The health comparison's test: are events (alarms, reconnects, restarts, going offline) more
 * frequent on the updated edges than on comparable edges not yet updated?
 *
 * Each side is a Poisson process: x₁ events over exposure T₁ edge-hours (updated), x₀ over T₀
 * (not updated). Under H₀ (equal rates), given the total n = x₁ + x₀, x₁ is Binomial(n, p₀) with
 * p₀ = T₁ / (T₁ + T₀) — the exposures alone, no rate to estimate (the conditional test of
 * Przyborowski and Wilenski). One-sided p-value: P(X ≥ x₁ | n, p₀), summed exactly. It pauses
 * when p < alpha, at least `minEvents` events came from the updated side and the observed rate
 * ratio is at least `minRatio`. `conditionalPower` computes the test's power for a design.
 */

/** ln(k!) for the binomial terms (exact sums up to large n, no overflow). */
function logFactorial(k: number): number {
  let s = 0;
  for (let i = 2; i <= k; i++) s += Math.log(i);
  return s;
}

const logFactorials: number[] = [0];
function lnFact(k: number): number {
  if (k < 10_000) {
    while (logFactorials.length <= k) {
      const i = logFactorials.length;
      logFactorials.push(logFactorials[i - 1]! + Math.log(i));
    }
    return logFactorials[k]!;
  }
  return logFactorial(k);
}

/** P(X ≥ k) for X ~ Binomial(n, p), exactly (term by term from k up). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  let sum = 0;
  for (let i = k; i <= n; i++) {
    const term = Math.exp(lnFact(n) - lnFact(i) - lnFact(n - i) + i * lp + (n - i) * lq);
    sum += term;
    if (term < sum * 1e-16 && i > n * p) break;
  }
  return Math.min(1, sum);
}

export interface RateComparison {
  /** Events and exposure (any unit, the same on both sides) of the updated edges. */
  readonly updatedEvents: number;
  readonly updatedExposure: number;
  /** … and of the edges not yet updated. */
  readonly controlEvents: number;
  readonly controlExposure: number;
}

export interface HealthVerdict {
  /** Updated rate / control rate (Infinity when the control side had no events). */
  readonly ratio: number;
  readonly pValue: number;
  readonly significant: boolean;
}

/** The one-sided conditional test; `significant` also needs `minEvents` and `minRatio`. */
export function compareRates(
  c: RateComparison,
  o: { readonly alpha: number; readonly minEvents: number; readonly minRatio: number },
): HealthVerdict {
  const { updatedEvents: x1, updatedExposure: t1, controlEvents: x0, controlExposure: t0 } = c;
  if (!(t1 > 0 && t0 > 0)) return { ratio: Number.NaN, pValue: 1, significant: false };
  const ratio = x0 === 0 ? (x1 === 0 ? 1 : Number.POSITIVE_INFINITY) : x1 / t1 / (x0 / t0);
  const pValue = binomialUpperTail(x1, x1 + x0, t1 / (t1 + t0));
  return { ratio, pValue, significant: pValue < o.alpha && x1 >= o.minEvents && ratio >= o.minRatio };
}

/** The smallest k with P(X ≥ k | n, p) < alpha (n + 1 when none): the test's critical value. */
function criticalValue(n: number, p: number, alpha: number): number {
  // Walk down from the top: the tail only grows as k falls.
  let tail = 0;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  for (let k = n; k >= 0; k--) {
    tail += Math.exp(lnFact(n) - lnFact(k) - lnFact(n - k) + k * lp + (n - k) * lq);
    if (tail >= alpha) return k + 1;
  }
  return 0;
}

/**
 * Power of the test (alpha, minEvents; minRatio left out) when the updated edges' true rate is
 * `ratio` times the control's: `updatedEdges` and `controlEdges` watched for `hours` at a
 * control rate of `ratePerEdgeHour`. Exact: sums over the Poisson total n and the binomial split.
 */
export function conditionalPower(d: {
  readonly updatedEdges: number;
  readonly controlEdges: number;
  readonly hours: number;
  readonly ratePerEdgeHour: number;
  readonly ratio: number;
  readonly alpha: number;
  readonly minEvents?: number;
}): number {
  const t1 = d.updatedEdges * d.hours;
  const t0 = d.controlEdges * d.hours;
  const lambda1 = t1 * d.ratePerEdgeHour * d.ratio;
  const lambda0 = t0 * d.ratePerEdgeHour;
  const total = lambda1 + lambda0;
  const p0 = t1 / (t1 + t0);
  const p1 = lambda1 / total;
  const top = Math.ceil(total + 10 * Math.sqrt(total) + 20);
  let power = 0;
  for (let n = 0; n <= top; n++) {
    const pn = Math.exp(-total + n * Math.log(total) - lnFact(n));
    if (pn < 1e-15) continue;
    const k = Math.max(criticalValue(n, p0, d.alpha), d.minEvents ?? 0);
    power += pn * binomialUpperTail(k, n, p1);
  }
  return power;
}

/** The smallest rate ratio (to 0.01) the design detects with `power` (default 0.8); Infinity past 100. */
export function detectableRatio(
  d: Omit<Parameters<typeof conditionalPower>[0], 'ratio'> & { readonly power?: number },
): number {
  const wanted = d.power ?? 0.8;
  const enough = (ratio: number) => conditionalPower({ ...d, ratio }) >= wanted;
  if (!enough(100)) return Number.POSITIVE_INFINITY;
  // Power grows with the ratio: bisect.
  let low = 1;
  let high = 100;
  while (high - low > 0.01) {
    const mid = (low + high) / 2;
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return Math.round(high * 100) / 100;
}
