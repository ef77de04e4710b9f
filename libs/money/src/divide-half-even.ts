/**
 * a / b rounded to the nearest integer, ties to the even one (banker's rounding, no bias over many roundings):
 * an average of minor units, a share of a charge. `a` may be negative (-2.5 rounds to -2); `b` must be positive.
 *
 * @throws RangeError when `b` is not positive.
 */
export function divideHalfEven(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError(`divisor must be positive, got ${b}`);
  const q = a / b;
  const twice = (a % b < 0n ? -(a % b) : a % b) * 2n;
  if (twice < b || (twice === b && q % 2n === 0n)) return q;
  return a < 0n ? q - 1n : q + 1n;
}
