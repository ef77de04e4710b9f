import { Decimal } from "./decimal.js";

/**
 * Internal clone used only for multiplication, addition and explicit rounding. decimal.js rounds every result
 * to `precision` significant digits; at the maximum (1e9) a product of two finite decimals is never rounded,
 * so the one rounding a conversion performs is the explicit one at the end. Never divide with this class:
 * division expands non-terminating quotients to `precision` digits.
 */
export const ExactDecimal: typeof Decimal = Decimal.clone({ precision: 1e9 });
