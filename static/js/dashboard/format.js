// Numbers, money, durations and dates in the page's language (<html lang>).
const locale = () => document.documentElement.lang || undefined;

const cache = new Map();
function formatter(kind, options) {
  const key = `${kind}:${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    const Format = kind === "date" ? Intl.DateTimeFormat : Intl.NumberFormat;
    cache.set(key, new Format(locale(), options));
  }
  return cache.get(key);
}

export const EMPTY = "–";

export function number(value) {
  return value === null || value === undefined ? EMPTY : formatter("number", {}).format(value);
}

export function decimal(value, digits = 1) {
  if (value === null || value === undefined) return EMPTY;
  return formatter("number", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

export function percent(ratio) {
  if (ratio === null || ratio === undefined) return EMPTY;
  return formatter("number", { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}

// AI providers bill in US dollars; fractions of a cent keep two significant digits.
export function money(value) {
  const amount = Number(value);
  if (value === null || value === undefined || Number.isNaN(amount)) return EMPTY;
  const options = amount !== 0 && Math.abs(amount) < 0.01
    ? { style: "currency", currency: "USD", maximumSignificantDigits: 2 }
    : { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 };
  return formatter("number", options).format(amount);
}

const UNITS = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

// 95 s → "1.6 min", 7200 s → "2 hr": the largest unit that keeps the number ≥ 1.
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return EMPTY;
  const [unit, size] = UNITS.find(([, size]) => seconds >= size) || UNITS[UNITS.length - 1];
  const value = seconds / size;
  return formatter("number", {
    style: "unit", unit, unitDisplay: "short", maximumFractionDigits: value < 10 ? 1 : 0,
  }).format(value);
}

// Minutes as a bare number, for chart axes.
export function minutes(seconds) {
  return seconds === null || seconds === undefined ? null : Math.round((seconds / 60) * 10) / 10;
}

// "2026-11-10" is a local day of the workspace: format it without shifting through a timezone.
export function day(isoDate, options = { day: "numeric", month: "short" }) {
  const [year, month, date] = isoDate.split("-").map(Number);
  return formatter("date", { ...options, timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, date)));
}

export function dayRange(first, last) {
  const options = { day: "numeric", month: "short", year: "numeric" };
  return `${day(first, options)} – ${day(last, options)}`;
}

// Relative change against the previous period; null when there is nothing to compare with.
export function change(current, previous) {
  if (!previous) return null;
  return (current - previous) / previous;
}

export function signedPercent(ratio) {
  return formatter("number", { style: "percent", maximumFractionDigits: 0, signDisplay: "exceptZero" }).format(ratio);
}
