//! Prices: integer minor units and an ISO currency code, shown in the event's currency with the
//! currency's own number of decimals (JPY none, EUR two, KWD three).

const formats = new Map();

function format(currency) {
  if (!formats.has(currency)) {
    formats.set(currency, new Intl.NumberFormat(undefined, { style: 'currency', currency }));
  }
  return formats.get(currency);
}

/** The number of minor units in one major unit of `currency` (100 for EUR, 1 for JPY). */
export function minorPerMajor(currency) {
  return 10 ** format(currency).resolvedOptions().maximumFractionDigits;
}

/** `minor` units of `currency` as a reader expects to see them, e.g. 4500 EUR → "€45.00". */
export function money(minor, currency) {
  return format(currency).format(minor / minorPerMajor(currency));
}

/** A typed amount in major units ("45.5") as minor units, or null when it is not an amount. */
export function parseMajor(text, currency) {
  const clean = String(text).trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(clean)) return null;
  return Math.round(Number(clean) * minorPerMajor(currency));
}
