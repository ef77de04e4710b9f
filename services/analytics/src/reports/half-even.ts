/** Half-even division of integers (a / b, b > 0). */
export function divHalfEven(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice < b || (twice === b && q % 2n === 0n)) return q;
  return a < 0n ? q - 1n : q + 1n;
}
